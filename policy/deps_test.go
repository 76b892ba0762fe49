package policy

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStdlibOnly keeps policy/ free of dependencies beyond the standard library: the
// defender links it and must stay small and static (DESIGN.md).
func TestStdlibOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/taskward/taskward/policy" {
			t.Errorf("policy depends on %s; only the standard library is allowed", p)
		}
	}
}
