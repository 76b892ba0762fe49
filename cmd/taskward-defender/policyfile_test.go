//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskward/taskward/manifests"
)

// TestPolicyFileYAML: `run --policy FILE` takes the YAML policy files users write, and
// decides with exactly the policy taskward would render from them into TASKWARD_POLICY.
func TestPolicyFileYAML(t *testing.T) {
	files, _ := filepath.Glob("../../examples/gitops/policies/*.yaml")
	files = append(files, "../../examples/deploy/ecs/policy.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parsePolicyFile(f, b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want, probs := manifests.ParsePolicies(f, b)
		if len(probs) > 0 || len(want) != 1 {
			t.Fatalf("%s: manifests: %v, %d policies", f, probs, len(want))
		}
		if got.Encode() != want[0].Encode() {
			t.Errorf("%s: defender reads\n%s\ntaskward renders\n%s", f, got.Encode(), want[0].Encode())
		}
		// The rendered JSON form is still read as JSON.
		js, err := parsePolicyFile("rendered.json", []byte(want[0].Encode()))
		if err != nil || js.Encode() != want[0].Encode() {
			t.Errorf("%s: JSON form: %v", f, err)
		}
	}
	for _, c := range []struct{ name, src, want string }{
		{"unknown key", "name: x\nprocesses:\n  alow: [sh]\n", `line 3: unknown key "alow"`},
		{"bad effect", "name: x\npackageManagers: maybe\n", "maybe"},
		{"two documents", "name: a\n---\nname: b\n", "holds 2 policies (a, b)"},
		{"empty", "# nothing\n", "no policy in the file"},
		{"no name", "drift: alert\n", "name"},
	} {
		_, err := parsePolicyFile("p.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "p.yaml: ") {
			t.Errorf("%s: got %v, want an error naming p.yaml and %q", c.name, err, c.want)
		}
	}
}

// FuzzPolicyFile: any file given to run --policy is refused with an error naming it, or
// gives a policy that validates; never a panic.
func FuzzPolicyFile(f *testing.F) {
	for _, s := range []string{"name: a\n", `{"name":"a"}`, "name: a\n---\nname: b\n", "processes: [\n", "&a [*a, *a]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePolicyFile("p.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "p.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted an invalid policy: %v", err)
		}
	})
}
