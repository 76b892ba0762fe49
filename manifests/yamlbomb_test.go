package manifests_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/taskward/taskward/manifests"
)

// aliasBomb is a billion-laughs document in the shape of a policy: nine levels of nine
// aliases each, 9^9 values once expanded, in under 1 KiB.
func aliasBomb(prefix, use string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString("  l0: &l0 [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String() + use
}

// TestYAMLAliasBomb: a policy or taskward.yaml whose aliases expand to billions of values
// is refused at once with its reason, in bounded time and memory (it reached 4.3 GiB and
// was still running after 120 s).
func TestYAMLAliasBomb(t *testing.T) {
	for _, tc := range []struct{ file, src string }{
		{"policies/bomb.yaml", aliasBomb("name: bomb\nx:\n", "processes:\n  deny: *l9\n")},
		{"policies/bomb2.yaml", aliasBomb("name: bomb\nx:\n", "description: *l9\nmatch:\n  families: *l9\ntrustedImages:\n  rules: *l9\n")},
		{"taskward.yaml", aliasBomb("clusters: [a]\nx:\n", "skip: *l9\nimages:\n  a: *l9\n")},
		{"taskward.yaml", aliasBomb("x:\n", "clusters: *l9\n")},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			var probs manifests.Problems
			if strings.HasPrefix(tc.file, "policies/") {
				_, probs = manifests.ParsePolicies(tc.file, []byte(tc.src))
			} else {
				_, probs = manifests.ParseConfig(tc.file, []byte(tc.src))
			}
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if !strings.Contains(probs.String(), "aliases") {
				t.Fatalf("problems %v; want the alias bound named", probs)
			}
			// Generous bounds: the point is "not exponential" (9^9 nodes would be GiBs).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("parsing allocated %d MiB", alloc>>20)
			}
			t.Logf("%s: refused in %v: %v", tc.file, took, probs)
		})
	}
}

// TestYAMLTooDeep: nesting beyond the bound is refused with its reason.
func TestYAMLTooDeep(t *testing.T) {
	src := "name: deep\nmatch:\n  families: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n"
	_, probs := manifests.ParsePolicies("policies/deep.yaml", []byte(src))
	if !strings.Contains(probs.String(), "nested deeper than") {
		t.Fatalf("problems %v; want the depth bound named", probs)
	}
}

// TestYAMLAnchorsStillWork: ordinary anchors and aliases are fine.
func TestYAMLAnchorsStillWork(t *testing.T) {
	src := "name: a\nprocesses:\n  allow: &bins [\"/bin/sh\", \"/bin/ls\"]\n  deny: *bins\n---\nname: b\nprocesses:\n  allow: [\"/bin/true\"]\n"
	ps, probs := manifests.ParsePolicies("policies/p.yaml", []byte(src))
	if probs.Err() != nil || len(ps) != 2 {
		t.Fatalf("policies %d, problems %v", len(ps), probs)
	}
}
