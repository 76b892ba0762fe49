// Package testtool finds the programs that tests run (git, chromium, the AWS CLI), which
// hack/install-deps.sh installs: a missing one skips the test on a developer's machine and
// fails it in CI (CI set), where a skip would hide a missing install step.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Need returns the path of program name; what names it for people ("the git CLI").
func Need(t testing.TB, name, what string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed: hack/install-deps.sh installs it", what)
		}
		t.Skipf("%s is not installed (hack/install-deps.sh installs it)", what)
	}
	return p
}
