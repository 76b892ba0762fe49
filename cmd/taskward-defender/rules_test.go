//go:build linux

package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// rulesPolicy denies wget by name and keeps every default rule.
const rulesPolicy = `TASKWARD_POLICY={"name":"rules","processes":{"deny":["wget"]}}`

// ruleCase is one script run through the shell of a listening application.
type ruleCase struct {
	name    string
	script  string
	want    []string // every string must be in the output
	rule    string   // the event's rule; "" means none is expected
	action  string
	program string // the event's program, when set
	argv    string // the event's argv as fmt prints it ("[busybox sh]"), when set
	// quiet: no new event may contain this string (false-positive cases).
	quiet string
}

// runRuleCases runs each case in c, a container whose program is `nc -ll -p port -e
// /bin/sh`, and checks its output (which must hold no string of bad) and events; the
// application must keep answering.
func runRuleCases(t *testing.T, c *container, port int, bad []string, cases []ruleCase) {
	t.Helper()
	if got := session(t, port, "echo UP"); !strings.Contains(got, "UP") {
		t.Fatalf("application not answering: %q", got)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(c.events())
			out := session(t, port, tc.script)
			t.Logf("output: %s", out)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %q lacks %q", out, w)
				}
			}
			for _, b := range bad {
				if strings.Contains(out, b) {
					t.Errorf("the attack ran: %q", out)
				}
			}
			if tc.rule != "" {
				want := map[string]string{"rule": tc.rule, "action": tc.action}
				if tc.program != "" {
					want["program"] = tc.program
				}
				if tc.argv != "" {
					want["argv"] = tc.argv
				}
				t.Logf("event: %v", c.waitEvent(t, before, want))
			}
			if tc.quiet != "" {
				time.Sleep(300 * time.Millisecond) // events are written asynchronously
				for _, line := range strings.Split(c.stderr.String(), "\n") {
					if strings.HasPrefix(line, "{") && strings.Contains(line, tc.quiet) {
						t.Errorf("false positive: %s", line)
					}
				}
			}
			if got := session(t, port, "echo STILL-HERE"); !strings.Contains(got, "STILL-HERE") {
				t.Fatalf("application stopped answering: %q", got)
			}
		})
	}
}

// TestRulesHardToWalkAround: interpreters given a file, multi-call binaries, package
// managers through an interpreter and their read-only queries, the dynamic loader's
// argument vector and target, reverse shells by any name and only on network sockets, and
// user namespaces (issue 12, "Rules that are easy to walk around").
func TestRulesHardToWalkAround(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		port := freePort(t)
		c := startApp(t, l, spec{args: app("nc", "-ll", "-p", strconv.Itoa(port), "-e", "/bin/sh"), env: []string{rulesPolicy}})
		ld := "/lib64/ld-linux-x86-64.so.2"
		pad := strings.Repeat("--inhibit-cache ", 300)
		runRuleCases(t, c, port, []string{"PWNED", "APK RAN: add"}, []ruleCase{
			// Interpreters given a file written after the start.
			{name: "sh runs a new script", script: `printf 'echo PWN""ED\n' > /tmp/a.sh; sh /tmp/a.sh`, want: []string{"Permission denied"}, rule: "drift", action: "blocked", program: "/tmp/a.sh"},
			{name: "busybox sh runs a new script", script: `printf 'echo PWN""ED\n' > /tmp/b.sh; busybox sh -e /tmp/b.sh`, want: []string{"Permission denied"}, rule: "drift", action: "blocked", program: "/tmp/b.sh"},
			{name: "sh runs a script package manager", script: "sh /sbin/apk add curl", want: []string{"Permission denied"}, rule: "packageManagers", action: "blocked", program: "/sbin/apk"},
			// (A shell with the session's TCP socket as stdin is a reverse shell: these run on files.)
			{name: "sh runs an image script (query)", script: "sh /sbin/apk info </dev/null >/tmp/o; cat /tmp/o", want: []string{"APK RAN: info"}, quiet: `"info"`},
			{name: "package manager query", script: "apk info -vv </dev/null >/tmp/o; cat /tmp/o", want: []string{"APK RAN: info -vv"}, quiet: `"-vv"`},
			{name: "sh -c runs no file", script: "sh -c 'echo SH-C-OK' </dev/null >/tmp/o; cat /tmp/o", want: []string{"SH-C-OK"}, quiet: "SH-C-OK"},
			// Multi-call binaries decided by their applet.
			{name: "busybox wget by argv[1]", script: "busybox wget -q -O- http://127.0.0.1:9/PWNED; echo RC=$?", want: []string{"Permission denied", "RC=126"}, rule: "processes.deny", action: "blocked", program: "/bin/busybox"},
			{name: "busybox busybox wget", script: "busybox busybox wget -q -O- http://127.0.0.1:9/; echo RC=$?", want: []string{"RC=126"}, rule: "processes.deny", action: "blocked"},
			// The dynamic loader.
			{name: "loader on a name it searches (-x is no option)", script: "cp /usr/bin/dynecho /lib/x86_64-linux-gnu/-x && " + ld + " -x -PWN''ED; echo RC=$?", want: []string{"Permission denied", "RC=126"}, rule: "loader", action: "blocked", program: ld},
			{name: "loader argv padded past the read bound", script: "cp /usr/bin/dynecho /tmp/evil && " + ld + " " + pad + "/tmp/evil PWN''ED; echo RC=$?", want: []string{"Permission denied", "RC=126"}, rule: "loader", action: "blocked", program: ld},
			{name: "loader runs a dropped file", script: "cp /usr/bin/dynecho /tmp/evil2 && " + ld + " /tmp/evil2 PWN''ED; echo RC=$?", want: []string{"Permission denied", "RC=126"}, rule: "drift", action: "blocked", program: "/tmp/evil2"},
			{name: "ld.so --list of an image program (ldd)", script: ld + " --list /usr/bin/dynecho", want: []string{"libc.so.6"}, quiet: "dynecho"},
			{name: "loader runs an image program", script: ld + " /usr/bin/dynecho LOADER-OK", want: []string{"LOADER-OK"}, quiet: "LOADER-OK"},
			// Reverse shells: busybox sh on the session's TCP socket alerts; a shell on a
			// Unix socket pair does not.
			{name: "busybox sh on a network socket", script: "busybox sh -c 'echo RS-''BB'", want: []string{"RS-BB"}, rule: "reverseShell", action: "alerted", program: "/bin/busybox", argv: "[busybox sh -c echo RS-BB]"},
			{name: "shell on a unix socket pair", script: "attack socketpair /bin/sh -c 'echo SP-''OK'", want: []string{"CHILD OUTPUT: SP-OK"}, quiet: "SP-"},
			// User namespaces.
			{name: "unshare CLONE_NEWUSER", script: "attack unshare-user", want: []string{"RESULT: operation not permitted"}, rule: "seccomp.userNamespace", action: "blocked"},
			{name: "clone CLONE_NEWUSER", script: "attack clone-user", want: []string{"RESULT: operation not permitted"}, rule: "seccomp.userNamespace", action: "blocked"},
			{name: "unshare -r", script: "unshare -r id; echo RC=$?", want: []string{"Operation not permitted", "RC=1"}, rule: "seccomp.userNamespace", action: "blocked"},
		})
	})
}
