// Package version holds the build's version, stamped with -ldflags at release time.
package version

import "runtime/debug"

// Version is set with -ldflags "-X github.com/taskward/taskward/internal/version.Version=v1.2.3".
var Version = "dev"

// DefaultDefenderImage is the defender image rendered into task definitions when
// taskward.yaml names none. Release builds pin it by digest with -ldflags.
var DefaultDefenderImage = "ghcr.io/taskward/defender:dev"

// String returns the version, with the VCS revision when the binary was built from a checkout.
func String() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
