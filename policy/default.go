package policy

// DefaultName is the name of the built-in policy used when a repo has none.
const DefaultName = "default"

// Shells are the program names the reverseShell rule treats as shells.
var Shells = []string{"sh", "ash", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish"}

// Default returns the built-in policy: block package managers, drift (fileless programs
// included) and the dynamic loader run on a file it cannot identify; alert on reverse
// shells and on processes entering the container from outside (exec sessions); allow
// every other program of the image; trust every image (no trusted-image rules yet).
func Default() *Policy {
	return &Policy{
		Name:            DefaultName,
		Description:     "taskward's built-in policy",
		Processes:       Processes{Effect: Block},
		PackageManagers: Block,
		Drift:           Block,
		Loader:          Block,
		ReverseShell:    Alert,
		ExecSessions:    Alert,
		TrustedImages:   TrustedImages{Effect: Block},
	}
}

// Resolved returns a copy of p with every inherited effect replaced by the default
// policy's, which is the form the defender receives and the form Decide expects.
func (p *Policy) Resolved() *Policy {
	d := Default()
	q := *p
	q.Processes.Effect = p.Processes.Effect.or(d.Processes.Effect)
	q.PackageManagers = p.PackageManagers.or(d.PackageManagers)
	q.Drift = p.Drift.or(d.Drift)
	q.Loader = p.Loader.or(d.Loader)
	q.ReverseShell = p.ReverseShell.or(d.ReverseShell)
	q.ExecSessions = p.ExecSessions.or(d.ExecSessions)
	q.TrustedImages.Effect = p.TrustedImages.Effect.or(d.TrustedImages.Effect)
	q.Processes.Allow = append([]string(nil), p.Processes.Allow...)
	q.Processes.Deny = append([]string(nil), p.Processes.Deny...)
	q.TrustedImages.Rules = append([]ImageRule(nil), p.TrustedImages.Rules...)
	if p.Match != nil {
		m := *p.Match
		q.Match = &m
	}
	return &q
}
