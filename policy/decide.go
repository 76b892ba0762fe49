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

// Exec describes one exec as the defender resolved it, or a file an exec'd program will
// run as a script or loaded program (Role).
type Exec struct {
	// Path is the resolved program file: symlinks followed, relative to the caller's root.
	Path string
	// Invoked is the path as the caller named it (before symlinks); may equal Path.
	Invoked string
	// Argv is the new program's argument vector (for a script or loaded program, its own:
	// the name it was given, then its arguments).
	Argv []string
	// Truncated says Argv was cut when it was read: arguments past its end are unknown.
	Truncated bool
	// Drift is set when the file did not come with the image.
	Drift DriftKind
	// DriftDetail says what the defender found (times, names) when Drift is set.
	DriftDetail string
	// StdinSocket and StdoutSocket say whether fd 0 and fd 1 of the caller are network
	// (inet or inet6) sockets. A Unix socket pair, which Node's child_process and Python's
	// subprocess use for stdio, is not one.
	StdinSocket, StdoutSocket bool
	// Role says whether this is the exec'd program, or a script or loaded program.
	Role Role
	// Runner is the interpreter or loader that runs a script or loaded program.
	Runner string
	// Unresolved says the file of a loaded program could not be found when it was checked:
	// what the loader will map then is unknown.
	Unresolved bool
	// Auditors are the LD_AUDIT libraries (or `ld.so --audit`) the loader will run while it
	// loads the program: their code runs before the loader hands over, so the defender
	// cannot tell when it has (the Loader rule).
	Auditors []string
	// Loader says the program is a dynamic loader by its content (a shared object with no
	// interpreter of its own), whatever its name: IsLoader judges names only.
	Loader bool
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
// Decide is pure and allocation-light: the defender calls it on every exec. For a program
// with an Operand, the defender decides the operand too (with Role set) and keeps the
// strongest decision.
func (p *Policy) Decide(e *Exec) Decision {
	best := Decision{Effect: Off}
	consider := func(eff Effect, rule, reason string) {
		if eff.rank() > best.Effect.rank() {
			best = Decision{Effect: eff, Rule: rule, Reason: reason}
		}
	}
	names := e.names()
	via := ""
	if e.Runner != "" {
		via = " (run by " + e.Runner + ")"
	}

	if pat, ok := p.denied(e, names); ok {
		consider(p.Processes.Effect, RuleDeny, fmt.Sprintf("%s matches denied program %q%s", e.subject(), pat, via))
	}
	for _, n := range names {
		if isOneOf(n, PackageManagers) {
			if !readOnlyQuery(n, e.Command()) {
				consider(p.PackageManagers, RulePackageManagers, fmt.Sprintf("%s is a package manager%s", n, via))
			}
			break
		}
	}
	if e.Drift != NoDrift {
		consider(p.Drift, RuleDrift, driftReason(e)+via)
	}
	if len(e.Auditors) > 0 {
		consider(p.Loader, RuleLoader, fmt.Sprintf("the dynamic loader of %s would run auditor %s while it loads (LD_AUDIT): what it maps after that cannot be followed", e.subject(), strings.Join(e.Auditors, ", ")))
	}
	if e.Role == RoleLoaded && e.Unresolved {
		consider(p.Loader, RuleLoader, fmt.Sprintf("dynamic loader %s runs %q, which could not be found when checked", e.Runner, e.Invoked))
	}
	if e.Role == RoleProgram {
		if op, ok := e.Operand(); ok {
			switch {
			case op.Cut && op.Role == RoleLoaded:
				consider(p.Loader, RuleLoader, fmt.Sprintf("dynamic loader %s run with an argument vector too long to check", e.Path))
			case op.Cut:
				consider(p.Drift, RuleDrift, fmt.Sprintf("%s run with an argument vector too long to find its script", op.Runner))
			case op.Role == RoleLoaded && !strings.Contains(e.Argv[op.Index], "/"):
				consider(p.Loader, RuleLoader, fmt.Sprintf("dynamic loader %s runs %q, a name it searches in library paths", e.Path, e.Argv[op.Index]))
			}
		}
	}
	if e.Role != RoleScript && len(p.Processes.Allow) > 0 && !p.allowed(e) {
		consider(p.Processes.Effect, RuleAllowList, fmt.Sprintf("%s matches no allowed program%s", e.subject(), via))
	}
	if e.Role == RoleProgram && (e.StdinSocket || e.StdoutSocket) {
		if n, ok := e.shellName(names); ok {
			consider(p.ReverseShell, RuleReverseShell, fmt.Sprintf("shell %s started with %s on a network socket", n, socketWhich(e)))
		}
	}
	return best
}

// subject names the program or script for reasons.
func (e *Exec) subject() string {
	if e.Path == "" {
		return e.Invoked
	}
	return e.Path
}

// IsShell reports whether any name the policy checks (the applet of a multi-call binary
// included) is a shell: the reverse-shell rule can match, so the caller's sockets matter.
func (e *Exec) IsShell() bool {
	_, ok := e.shellName(e.names())
	return ok
}

func (e *Exec) shellName(names []string) (string, bool) {
	for _, n := range names {
		if isOneOf(n, Shells) {
			return n, true
		}
	}
	return "", false
}

// names returns the program names a name-based rule checks: the resolved file name, the
// invoked file name, argv[0]'s file name (a busybox applet exec'd through a link is named
// only by the last two) and the applet of a multi-call binary (`busybox wget`).
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
	if cmd := e.Command(); len(cmd) < len(e.Argv) {
		add(cmd[0])
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
	what := e.Path
	switch e.Role {
	case RoleScript:
		what = "script " + e.Path
	case RoleLoaded:
		what = "program " + e.Path
	}
	if e.DriftDetail != "" {
		if e.Role != RoleProgram {
			return what + " did not come with the image: " + e.DriftDetail
		}
		return "did not come with the image: " + e.DriftDetail
	}
	switch e.Drift {
	case Memfd:
		return "fileless program (memfd) did not come with the image"
	case Deleted:
		return fmt.Sprintf("%s was deleted: it did not come with the image", what)
	}
	return fmt.Sprintf("%s was written after the task started", what)
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

func isOneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
