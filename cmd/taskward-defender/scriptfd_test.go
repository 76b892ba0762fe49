//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestScriptOperandByName: a script written after the start, handed to sh by a name that
// is not its own (a descriptor through /proc/self/fd and /dev/fd, /dev/stdin, or a FIFO it
// is written through) is refused as drift like the file itself, under both mechanisms.
func TestScriptOperandByName(t *testing.T) {
	script := `printf 'echo PWN""ED\n' > /tmp/p.sh
echo CASE procfd; sh /proc/self/fd/3 3< /tmp/p.sh
echo CASE devfd; sh /dev/fd/3 3< /tmp/p.sh
echo CASE devstdin; sh /dev/stdin < /tmp/p.sh
echo CASE fifo; mkfifo /tmp/ff; (printf 'echo PWN""ED\n' > /tmp/ff &); sh /tmp/ff
echo CASE end
`
	l := needLab(t)
	bare := runToEnd(t, l, spec{rootfs: l.rootfs, args: []string{"/bin/sh", "-c", script}})
	if n := strings.Count(bare.stdout.String(), "PWNED"); n != 4 {
		t.Fatalf("the bare container ran %d of 4 cases, so they test nothing:\n%s", n, bare.stdout.String())
	}
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		c := runToEnd(t, l, spec{rootfs: l.rootfs, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}, caps: dockerCaps})
		out := c.stdout.String()
		t.Logf("output:\n%s", out)
		if strings.Contains(out, "PWNED") || !strings.Contains(out, "CASE end") {
			t.Fatalf("a script written after the start ran, or the script did not finish\nstderr:\n%s", c.stderr.String())
		}
		blocked := 0
		for _, e := range driftEvents(c) {
			if e["action"] == "blocked" && e["rule"] == "drift" {
				blocked++
			}
		}
		if blocked != 4 {
			t.Fatalf("want 4 drift blocks, got %d\nstderr:\n%s", blocked, c.stderr.String())
		}
	})
}
