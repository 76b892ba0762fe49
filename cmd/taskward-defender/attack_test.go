//go:build linux

package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestSeedDemo is the write-up this product grew from, end to end: a container runs a
// persistent busybox netcat listener that hands every connection a shell; the attacker
// connects, runs `ls` (allowed, output seen) and `apk add curl`, which fails with
// "Permission denied"; the event names the rule.
func TestSeedDemo(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		port := freePort(t)
		c := startApp(t, l, spec{args: app("nc", "-ll", "-p", strconv.Itoa(port), "-e", "/bin/sh"), env: []string{defaultPolicyEnv}})

		out := session(t, port, "ls /")
		for _, want := range []string{"bin", "sbin", "taskward"} {
			if !strings.Contains(out, want) {
				t.Fatalf("ls / output %q lacks %q", out, want)
			}
		}
		out = session(t, port, "apk add curl; echo APK-RC=$?")
		if !strings.Contains(out, "apk: Permission denied") || !strings.Contains(out, "APK-RC=126") || strings.Contains(out, "APK RAN") {
			t.Fatalf("apk add curl: %q", out)
		}
		e := c.waitEvent(t, 0, map[string]string{"action": "blocked", "rule": "packageManagers", "program": "/sbin/apk"})
		t.Logf("event: %v", e)
		// The shell nc started has its stdin on a socket: the default policy alerts on it.
		c.waitEvent(t, 0, map[string]string{"action": "alerted", "rule": "reverseShell"})
		if got := session(t, port, "echo STILL-HERE"); !strings.Contains(got, "STILL-HERE") {
			t.Fatalf("application stopped answering: %q", got)
		}
	})
}

// attackToken is the events token in the attack container's environment: the defender's
// own secret, which no attack may read.
const attackToken = "s3cret-events-token"

// attackPolicy is an allow-list policy: only the image's busybox, the attack helper and
// the dynamic loader may run, plus every default rule.
const attackPolicy = `TASKWARD_POLICY={"name":"attack-suite","processes":{"allow":["/bin/busybox","/usr/local/bin/attack","/lib64/ld-linux-x86-64.so.2"]}}`

// TestAttackSuite runs each attack through the shell of a listening application: each must
// be refused, reported with the right rule, and the application must keep running.
func TestAttackSuite(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		port := freePort(t)
		c := startApp(t, l, spec{args: app("nc", "-ll", "-p", strconv.Itoa(port), "-e", "/bin/sh"), env: []string{attackPolicy, "TASKWARD_EVENTS_TOKEN=" + attackToken}})
		table := []struct {
			name    string
			script  string
			want    []string // every string must be in the output
			rule    string   // the event's rule; "" means no event is expected
			action  string
			program string // the event's program, when set
		}{
			{"package manager", "apk add curl", []string{"apk: Permission denied"}, "packageManagers", "blocked", "/sbin/apk"},
			{"binary copied to /tmp", "cp /bin/busybox /tmp/bb && /tmp/bb echo PWN''ED", []string{"/tmp/bb: Permission denied"}, "drift", "blocked", "/tmp/bb"},
			{"chmod +x of a new script", `printf '#!/bin/sh\necho PWN""ED\n' > /tmp/s.sh && chmod +x /tmp/s.sh && /tmp/s.sh`, []string{"/tmp/s.sh: Permission denied"}, "drift", "blocked", "/tmp/s.sh"},
			{"memfd_create and fexecve", "attack memfd /bin/busybox echo PWN''ED", []string{"RESULT: permission denied"}, "drift", "blocked", ""},
			{"execveat AT_EMPTY_PATH", "attack execveat-fd /sbin/apk", []string{"RESULT: permission denied"}, "packageManagers", "blocked", "/sbin/apk"},
			{"exec through /proc/self/fd", "attack procfd /sbin/apk", []string{"RESULT: permission denied"}, "packageManagers", "blocked", "/sbin/apk"},
			{"symlink named like an allowed program", "ln -s /opt/tool /tmp/busybox && /tmp/busybox echo PWN''ED", []string{"Permission denied"}, "processes.allow", "blocked", "/opt/tool"},
			// The loader's target is decided as if it were exec'd: a dropped file is drift.
			{"dynamic loader runs a dropped file", "cp /bin/busybox /tmp/evil && /lib64/ld-linux-x86-64.so.2 /tmp/evil echo PWN''ED", []string{"Permission denied"}, "drift", "blocked", "/tmp/evil"},
			{"clone with CLONE_UNTRACED", "attack untraced", []string{"RESULT: operation not permitted"}, "seccomp.cloneUntraced", "blocked", ""},
			// clone3 is answered ENOSYS by the filter itself (its flags are in memory, out of
			// the filter's reach); libc falls back to clone. Not reported: every glibc thread
			// creation tries it first.
			{"clone3", "attack clone3", []string{"RESULT: function not implemented"}, "", "", ""},
			{"ptrace of a sibling", "sleep 30 & attack ptrace $!; kill $!", []string{"RESULT: operation not permitted"}, "seccomp.ptrace", "blocked", ""},
			{"SIGKILL to PID 1 from inside", "kill -KILL 1; echo KILL-RC=$?", []string{"KILL-RC=0"}, "", "", ""},
			// The defender is the one process the application must not reach through /proc:
			// its memory (the policy), its environment (the events token) and its descriptors
			// (notify's listener). It is not dumpable, and the program runs without
			// CAP_SYS_PTRACE (which ECS grants the container for the defender's sake).
			{"the defender's memory through /proc/1/mem", "attack procmem 1", []string{"RESULT: permission denied"}, "", "", ""},
			{"the defender's environment through /proc/1/environ", "cat /proc/1/environ; echo ENV-RC=$?", []string{"Permission denied", "ENV-RC=1"}, "", "", ""},
			{"the defender's descriptors through pidfd_getfd", "attack pidfd-getfd 1", []string{"RESULT: operation not permitted"}, "", "", ""},
			{"the defender's descriptors through /proc/1/fd", "ls -l /proc/1/fd/ 2>&1; echo FD-RC=$?", []string{"Permission denied"}, "", "", ""},
			// A thread rewrites the path between the defender's check and the kernel's read:
			// /bin/true and /sbin/apk have the same length. Either the stop sees /sbin/apk
			// (blocked) or the EXEC-time check sees a different program (killed); the stub
			// apk must never run.
			{"thread rewrites the exec path during the check", "attack race /bin/true /sbin/apk 40", []string{"RESULT:"}, "exec-check", "killed", ""},
		}
		var cases []ruleCase
		for _, tc := range table {
			cases = append(cases, ruleCase{name: tc.name, script: tc.script, want: tc.want, rule: tc.rule, action: tc.action, program: tc.program})
		}
		runRuleCases(t, c, port, []string{"PWNED", "APK RAN", attackToken}, cases)
	})
}
