package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps is the defender's dependency budget (STYLE.md rule 8, after tailscale's
// cmd/tailscaled TestDeps): the binary travels into every task, so it must stay small and
// must never link the controller's heavy dependencies or the testing package.
func TestDeps(t *testing.T) {
	for _, goarch := range []string{"amd64", "arm64"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (%s): %v", goarch, err)
		}
		forbidden := []string{"github.com/aws/", "github.com/go-git/", "github.com/robfig/cron", "github.com/hashicorp/go-retryablehttp", "testing", "runtime/cgo"}
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range forbidden {
				if dep == bad || strings.HasPrefix(dep, strings.TrimSuffix(bad, "/")+"/") {
					t.Errorf("%s: taskward-defender links %s (forbidden: %s)", goarch, dep, bad)
				}
			}
		}
	}
}
