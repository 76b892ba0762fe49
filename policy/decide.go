package policy

import (
	"fmt"
	"strings"
)

// Rule names, as they appear in decisions, events and alerts.
const (
	RuleDeny            = "processes.deny"
	RuleAllowList       = "processes.allow"
	RulePackageManagers = "packageManagers"
	RuleDrift           = "drift"
	RuleLoader          = "loader"
	RuleReverseShell    = "reverseShell"
	RuleTrustedImages   = "trustedImages"
)

// DriftKind says why a program did not come with the image (DESIGN.md decision 5).
type DriftKind string

const (
	NoDrift  DriftKind = ""
	Modified DriftKind = "modified" // the file's content was written after the task started
	Memfd    DriftKind = "memfd"    // a fileless program (memfd_create)
	Deleted  DriftKind = "deleted"  // the file was unlinked before or while it was exec'd
)

// Exec describes one exec as the defender resolved it.
type Exec struct {
	// Path is the resolved program file: symlinks followed, relative to the caller's root.
	Path string
	// Invoked is the path as the caller named it (before symlinks); may equal Path.
	Invoked string
	// Argv is the new program's argument vector.
	Argv []string
	// Drift is set when the file did not come with the image.
	Drift DriftKind
	// DriftDetail says what the defender found (times, names) when Drift is set.
	DriftDetail string
	// StdinSocket and StdoutSocket say whether fd 0 and fd 1 of the caller are sockets.
	StdinSocket, StdoutSocket bool
}

// Decision is the outcome of evaluating one exec or image.
type Decision struct {
	Effect Effect `json:"effect"`
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Decide evaluates every rule against e and returns the strongest effect among those that
// match; on a tie the first rule in the order deny, package managers, drift, loader,
// allow list, reverse shell wins. No match is Effect Off. The policy must be Resolved.
// Decide is pure and allocation-light: the defender calls it on every exec.
func (p *Policy) Decide(e *Exec) Decision {
	best := Decision{Effect: Off}
	consider := func(eff Effect, rule, reason string) {
		if eff.rank() > best.Effect.rank() {
			best = Decision{Effect: eff, Rule: rule, Reason: reason}
		}
	}
	names := e.names()

	if pat, ok := p.denied(e, names); ok {
		consider(p.Processes.Effect, RuleDeny, fmt.Sprintf("%s matches denied program %q", e.Path, pat))
	}
	for _, n := range names {
		if isOneOf(n, PackageManagers) {
			consider(p.PackageManagers, RulePackageManagers, fmt.Sprintf("%s is a package manager", n))
			break
		}
	}
	if e.Drift != NoDrift {
		consider(p.Drift, RuleDrift, driftReason(e))
	}
	if IsLoader(e.Path) && loaderRunsFile(e.Argv) {
		consider(p.Loader, RuleLoader, fmt.Sprintf("dynamic loader %s run directly on another file", e.Path))
	}
	if len(p.Processes.Allow) > 0 && !p.allowed(e) {
		consider(p.Processes.Effect, RuleAllowList, fmt.Sprintf("%s matches no allowed program", e.Path))
	}
	if e.StdinSocket || e.StdoutSocket {
		for _, n := range names {
			if isOneOf(n, Shells) {
				consider(p.ReverseShell, RuleReverseShell, fmt.Sprintf("shell %s started with %s on a network socket", n, socketWhich(e)))
				break
			}
		}
	}
	return best
}

// names returns the program names a name-based rule checks: the resolved file name, the
// invoked file name and argv[0]'s file name (a busybox applet is named only by the last two).
func (e *Exec) names() []string {
	names := make([]string, 0, 3)
	add := func(p string) {
		if p == "" {
			return
		}
		b := baseName(p)
		for _, n := range names {
			if n == b {
				return
			}
		}
		names = append(names, b)
	}
	add(e.Path)
	add(e.Invoked)
	if len(e.Argv) > 0 {
		add(e.Argv[0])
	}
	return names
}

func (p *Policy) denied(e *Exec, names []string) (string, bool) {
	for _, pat := range p.Processes.Deny {
		if strings.ContainsRune(pat, '/') {
			if Glob(pat, e.Path) || (e.Invoked != "" && Glob(pat, e.Invoked)) {
				return pat, true
			}
			continue
		}
		for _, n := range names {
			if Glob(pat, n) {
				return pat, true
			}
		}
	}
	return "", false
}

// allowed matches only the resolved file, so a symlink or argv[0] named like an allowed
// program does not pass the allow list.
func (p *Policy) allowed(e *Exec) bool {
	for _, pat := range p.Processes.Allow {
		if matchProgram(pat, e.Path) {
			return true
		}
	}
	return false
}

func driftReason(e *Exec) string {
	if e.DriftDetail != "" {
		return "did not come with the image: " + e.DriftDetail
	}
	switch e.Drift {
	case Memfd:
		return "fileless program (memfd) did not come with the image"
	case Deleted:
		return fmt.Sprintf("%s was deleted: it did not come with the image", e.Path)
	}
	return fmt.Sprintf("%s was written after the task started", e.Path)
}

func socketWhich(e *Exec) string {
	switch {
	case e.StdinSocket && e.StdoutSocket:
		return "stdin and stdout"
	case e.StdinSocket:
		return "stdin"
	}
	return "stdout"
}

// IsLoader reports whether path names the dynamic loader: ld-linux*.so*, ld-musl-*.so*,
// ld64.so* or ld.so.
func IsLoader(path string) bool {
	b := baseName(path)
	return (strings.HasPrefix(b, "ld-linux") && strings.Contains(b, ".so")) ||
		(strings.HasPrefix(b, "ld-musl-") && strings.Contains(b, ".so")) ||
		strings.HasPrefix(b, "ld64.so") || b == "ld.so"
}

// loaderRunsFile reports whether the loader's argv names a program to run: any operand
// that is not an option or an option's value. `ld.so --list x` and `--verify` still load
// the file's code, so they count too; only a bare `ld.so` or `ld.so --help` does not.
func loaderRunsFile(argv []string) bool {
	withValue := map[string]bool{"--library-path": true, "--inhibit-rpath": true, "--audit": true, "--preload": true, "--argv0": true, "--glibc-hwcaps-prepend": true, "--glibc-hwcaps-mask": true}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if withValue[a] {
			i++
			continue
		}
		if a == "--" {
			return i+1 < len(argv)
		}
		if !strings.HasPrefix(a, "-") {
			return true
		}
	}
	return false
}

func isOneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
