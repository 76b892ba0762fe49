package policy

// Policy is one runtime policy. Field names are the YAML/JSON keys users write.
type Policy struct {
	// Name identifies the policy in events, alerts and errors. Required.
	Name string `json:"name" yaml:"name"`
	// Description is free text for people.
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Match selects the containers this policy protects. A policy without Match is a
	// fallback: it applies to containers no selective policy matches.
	Match *Selector `json:"match,omitempty" yaml:"match,omitempty"`

	// Processes lists allowed and denied programs.
	Processes Processes `json:"processes,omitzero" yaml:"processes,omitempty"`
	// PackageManagers covers apk, apt, apt-get, dpkg, yum, dnf, rpm, microdnf and the like
	// (PackageManagers lists the names), also when an interpreter runs one as a script
	// (`sh /sbin/apk add curl`): installing tools is the first thing an intruder does in a
	// container. Read-only queries (`dpkg -l`, `rpm -q`, `apk info`, `apt list`) are not
	// covered.
	PackageManagers Effect `json:"packageManagers,omitempty" yaml:"packageManagers,omitempty"`
	// Drift covers programs whose content was written after the task started (however their
	// times were set), fileless programs (memfd), programs whose file was deleted, and
	// programs whose loader inputs (ELF interpreter, LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH)
	// are drift: none of them came with the image.
	Drift Effect `json:"drift,omitempty" yaml:"drift,omitempty"`
	// Loader covers the dynamic loader (ld-linux*.so*, ld-musl-*.so*) run directly on a
	// program the defender cannot identify: a name without a slash (searched in library
	// paths), or an argument vector too long to read whole. A program the loader runs by
	// path is decided by every other rule as if it were exec'd, so `ldd` and `ld.so --list`
	// of the image's programs run and `ld.so /tmp/dropped` is drift. It also covers
	// auditors (LD_AUDIT, `ld.so --audit`): their code runs while the loader loads, before
	// the defender can tell that the loader has handed over.
	Loader Effect `json:"loader,omitempty" yaml:"loader,omitempty"`
	// ReverseShell covers a shell started with its stdin or stdout on a network socket.
	ReverseShell Effect `json:"reverseShell,omitempty" yaml:"reverseShell,omitempty"`
	// ExecSessions covers processes that enter the container from outside the defender's
	// tree (ECS Exec, `docker exec`, `runc exec`): they are in the container's PID namespace
	// but the defender did not start them, so their execs are not checked. Alert reports
	// each one, block kills it (and what it started), off ignores them.
	ExecSessions Effect `json:"execSessions,omitempty" yaml:"execSessions,omitempty"`

	// TrustedImages says which images tasks may use; checked when rendering, not at run time.
	TrustedImages TrustedImages `json:"trustedImages,omitzero" yaml:"trustedImages,omitempty"`
}

// Processes is the program allow and deny lists. Patterns are globs: one without a slash
// matches a program's file name (`curl`, `python*`), one with a slash matches its full path
// (`/tmp/**`, `/usr/bin/*`). `*` and `?` stop at slashes, `**` crosses them.
type Processes struct {
	// Effect applies to denied programs (default block).
	Effect Effect `json:"effect,omitempty" yaml:"effect,omitempty"`
	// Allow, when not empty, turns on allow-list mode: a program matching no Allow pattern
	// is denied. Allow is matched against the resolved file only (its real path and file
	// name, after symlinks), so a symlink named like an allowed program does not pass.
	Allow []string `json:"allow,omitempty" yaml:"allow,omitempty"`
	// Deny lists programs that are always denied, even when they also match Allow. Deny is
	// matched against the name the program was invoked as, the resolved file and, for a
	// multi-call binary, the applet (`/bin/wget` -> busybox, `busybox wget`), so an applet
	// exec'd either way is denied by name. It also applies to a script an interpreter is
	// given (`sh /tmp/x.sh`). A shell's builtins and busybox's NOEXEC applets run without
	// any exec and are out of its reach (README, "What the defender cannot see").
	Deny []string `json:"deny,omitempty" yaml:"deny,omitempty"`
}

// Selector picks containers by task family, container name and image. Each list is a set
// of globs; an empty list matches everything; all non-empty lists must match.
type Selector struct {
	Families   []string `json:"families,omitempty" yaml:"families,omitempty"`
	Containers []string `json:"containers,omitempty" yaml:"containers,omitempty"`
	Images     []string `json:"images,omitempty" yaml:"images,omitempty"`
}

// TrustedImages is the trusted-image rule set. With no rules every image is trusted.
type TrustedImages struct {
	// Effect applies to an image no rule trusts (default block).
	Effect Effect `json:"effect,omitempty" yaml:"effect,omitempty"`
	// Rules trust an image when every field the rule sets matches.
	Rules []ImageRule `json:"rules,omitempty" yaml:"rules,omitempty"`
}

// ImageRule trusts images whose normalized reference matches every field it sets. Fields
// are globs over the parts of the reference: registry `docker.io`,
// `*.dkr.ecr.*.amazonaws.com`; repository `library/alpine`, `team/**`; tag `3.*`; digest
// `sha256:...`. An image written without a registry is on docker.io, a Docker Hub image
// without a namespace is under `library/`, and an image without tag or digest has tag `latest`.
type ImageRule struct {
	Registry   string `json:"registry,omitempty" yaml:"registry,omitempty"`
	Repository string `json:"repository,omitempty" yaml:"repository,omitempty"`
	Tag        string `json:"tag,omitempty" yaml:"tag,omitempty"`
	Digest     string `json:"digest,omitempty" yaml:"digest,omitempty"`
}
