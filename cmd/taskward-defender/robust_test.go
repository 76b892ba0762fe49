//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/defender"
)

// The defender's own robustness against the program it supervises: it must not be
// killed, hung or blinded from inside the container (issue 12).

// ownRootfs returns a private copy of the busybox rootfs, for tests whose program
// rewrites image files (the shared one serves every other container).
func ownRootfs(t *testing.T, l *lab) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", l.rootfs, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v %s", err, out)
	}
	return dir
}

// syncSignals are the signals the Go runtime treats as a fault of its own (SIGSEGV,
// SIGBUS, SIGFPE: a panic; SIGILL, SIGTRAP, SIGSYS, SIGABRT, SIGSTKFLT: a crash) unless it
// knows they came from another process, by number.
var syncSignals = []struct {
	name string
	num  int
}{{"SEGV", 11}, {"BUS", 7}, {"ABRT", 6}, {"ILL", 4}, {"FPE", 8}, {"TRAP", 5}, {"SYS", 31}, {"STKFLT", 16}}

// TestSignalsToTheDefender: the program, as root, sends every synchronous signal to PID 1
// (the defender) in each way a process can: kill(2) (SI_USER), tgkill(2) (SI_TKILL),
// rt_sigqueueinfo(2), rt_tgsigqueueinfo(2) and pidfd_send_signal(2) with SI_QUEUE, and a
// pipe's F_SETOWN/F_SETSIG (SI_SIGIO). The defender must survive all of them and keep
// enforcing; the last four are refused outright (and reported).
func TestSignalsToTheDefender(t *testing.T) {
	for _, way := range []struct {
		name, cmd string
		refused   bool // by the filter; otherwise sent, and drained by the defender
	}{
		{"kill", "kill -%s 1", false},
		{"tgkill", "attack tgkill 1 %d", false},
		{"sigqueue", "attack sigqueue 1 %d", true},
		{"tgsigqueue", "attack tgsigqueue 1 %d", true},
		{"pidfd-signal", "attack pidfd-signal 1 %d", true},
		{"sigio", "attack sigio 1 %d", true},
	} {
		t.Run(way.name, func(t *testing.T) {
			eachMechanism(t, func(t *testing.T, app func(...string) []string) {
				l := needLab(t)
				var script strings.Builder
				for _, s := range syncSignals {
					var arg any = s.name
					if way.name != "kill" { // the attack helper takes numbers
						arg = s.num
					}
					fmt.Fprintf(&script, "%s; sleep 0.1; echo SENT-%s\n", fmt.Sprintf(way.cmd, arg), s.name)
				}
				script.WriteString("apk add curl; echo APK-RC=$?\n")
				c := startApp(t, l, spec{args: app("/bin/sh", "-c", script.String()), env: []string{defaultPolicyEnv}})
				code := c.wait(30 * time.Second)
				out := c.stdout.String()
				for _, s := range syncSignals {
					if !strings.Contains(out, "SENT-"+s.name) {
						t.Errorf("the program did not get past SIG%s: the defender died", s.name)
					}
				}
				if code != 0 || !strings.Contains(out, "APK-RC=126") {
					t.Fatalf("exit %d, output %q: the defender must survive and keep enforcing", code, out)
				}
				if way.refused && (strings.Contains(out, "RESULT: ok") || !strings.Contains(out, "RESULT: operation not permitted")) {
					t.Errorf("a signal with a forged si_code was not refused: %q", out)
				}
				if way.refused {
					c.waitEvent(t, 0, map[string]string{"action": "blocked", "rule": "seccomp.syncSignal"})
				}
				if strings.Contains(c.stderr.String(), "goroutine ") {
					t.Errorf("the Go runtime crashed:\n%s", c.stderr.String())
				}
			})
		})
	}
}

// TestEverySignalToTheDefender: kill(1, N) from the program for every signal but those
// the defender forwards to the program (which then exits, as it would under tini), SIGKILL
// and SIGSTOP (which the kernel keeps from init): the defender survives each and keeps
// enforcing.
func TestEverySignalToTheDefender(t *testing.T) {
	forwarded := map[int]bool{int(unix.SIGKILL): true, int(unix.SIGSTOP): true}
	for _, s := range defender.ForwardedSignals {
		forwarded[int(s.(syscall.Signal))] = true
	}
	var script strings.Builder
	for n := 1; n <= 64; n++ {
		if !forwarded[n] {
			fmt.Fprintf(&script, "kill -%d 1; sleep 0.02; echo SENT-%d\n", n, n)
		}
	}
	script.WriteString("apk add curl; echo APK-RC=$?\n")
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		c := startApp(t, l, spec{args: app("/bin/sh", "-c", script.String()), env: []string{defaultPolicyEnv}})
		code := c.wait(60 * time.Second)
		out := c.stdout.String()
		for n := 1; n <= 64; n++ {
			if !forwarded[n] && !strings.Contains(out, fmt.Sprintf("SENT-%d\n", n)) {
				t.Fatalf("the program did not get past signal %d: exit %d, stderr:\n%s", n, code, c.stderr.String())
			}
		}
		if code != 0 || !strings.Contains(out, "APK-RC=126") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
}

// TestPasswdFIFO: the program replaces /etc/passwd (which events read to name users) by a
// FIFO nobody writes, then makes a blocked exec and an allowed one. Neither may hang.
func TestPasswdFIFO(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		rootfs := ownRootfs(t, l)
		script := "rm /etc/passwd && mkfifo /etc/passwd && echo FIFO; apk add curl; echo APK-RC=$?; /bin/echo AFTER"
		c := startApp(t, l, spec{rootfs: rootfs, args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		if code := c.wait(15 * time.Second); code != 0 {
			t.Fatalf("exit %d (-1: hung), output %q", code, c.stdout.String())
		}
		out := c.stdout.String()
		if !strings.Contains(out, "FIFO") || !strings.Contains(out, "APK-RC=126") || !strings.Contains(out, "AFTER") {
			t.Fatalf("output %q", out)
		}
		c.waitEvent(t, 0, map[string]string{"action": "blocked", "rule": "packageManagers", "user": "root"})
	})
}

// TestEventLineStart: an event never continues a partial line of the program's stderr.
func TestEventLineStart(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		c := startApp(t, l, spec{args: app("/bin/sh", "-c", "printf PARTIAL >&2; apk add curl 2>/dev/null; sleep 0.5"), env: []string{defaultPolicyEnv}})
		if code := c.wait(15 * time.Second); code != 0 {
			t.Fatalf("exit %d", code)
		}
		c.waitEvent(t, 0, map[string]string{"action": "blocked", "rule": "packageManagers"})
		if strings.Contains(c.stderr.String(), "PARTIAL{") {
			t.Fatalf("event glued to the program's partial line:\n%s", c.stderr.String())
		}
	})
}

// TestFailedExecDescriptors: 600 threads each make one allowed exec call that the kernel
// then fails (the file is not executable) and stay alive. The defender must not keep
// descriptors for each (it holds RLIMIT_NOFILE 1024 here): later execs must still run.
func TestFailedExecDescriptors(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		port := freePort(t)
		c := startApp(t, l, spec{args: app("nc", "-ll", "-p", strconv.Itoa(port), "-e", "/bin/sh"), env: []string{defaultPolicyEnv}})
		out := session(t, port, "attack failexec 600 /etc/passwd > /tmp/failexec.out & for i in $(seq 100); do grep -q RESULT /tmp/failexec.out && break; sleep 0.1; done; cat /tmp/failexec.out")
		if !strings.Contains(out, "RESULT: map[permission denied:600]") {
			t.Fatalf("the failed execs: %q", out)
		}
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", c.hostPID(t)))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("the defender holds %d descriptors after 600 failed execs", len(fds))
		if len(fds) > 200 {
			t.Errorf("the defender holds %d descriptors after 600 failed execs", len(fds))
		}
		out = session(t, port, "for i in 1 2 3 4 5; do /bin/echo RUN-$i; done")
		for i := 1; i <= 5; i++ {
			if !strings.Contains(out, "RUN-"+strconv.Itoa(i)) {
				t.Fatalf("execs after the failed ones: %q", out)
			}
		}
	})
}

// TestExecFromDeletedCwd: a program whose working directory was removed can still run a
// program by a path relative to it (through ".."), as the kernel allows.
func TestExecFromDeletedCwd(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		script := "mkdir -p /tmp/gone/sub && cd /tmp/gone/sub && rmdir /tmp/gone/sub && ../../../bin/echo RAN-FROM-DELETED-CWD; echo RC=$?; ./nothing; echo MISSING-RC=$?"
		c := startApp(t, l, spec{args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		if code := c.wait(15 * time.Second); code != 0 {
			t.Fatalf("exit %d, output %q", code, c.stdout.String())
		}
		out := c.stdout.String()
		if !strings.Contains(out, "RAN-FROM-DELETED-CWD") || !strings.Contains(out, "RC=0") || !strings.Contains(out, "MISSING-RC=127") {
			t.Fatalf("output %q", out)
		}
		for _, e := range c.events() {
			t.Errorf("unexpected event %v", e)
		}
	})
}

// TestUserfaultfdCannotStallTheDefender: the program puts the path of an exec call on a
// page held by a userfaultfd, so that any read of it waits for the program; the defender
// reads the path while it decides. Without CAP_SYS_PTRACE (the stage drops it) the kernel
// grants only user-mode-only descriptors (vm.unprivileged_userfaultfd=0, the default),
// which do not hold the defender's reads: the exec fails at once and later ones still run.
func TestUserfaultfdCannotStallTheDefender(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/vm/unprivileged_userfaultfd"); err == nil && strings.TrimSpace(string(b)) != "0" {
		t.Skip("vm.unprivileged_userfaultfd is not 0 on this host")
	}
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		c := startApp(t, l, spec{args: app("/bin/sh", "-c", "attack uffd-exec; /bin/echo AFTER"), env: []string{defaultPolicyEnv}})
		if code := c.wait(15 * time.Second); code != 0 {
			t.Fatalf("exit %d (-1: hung), output %q", code, c.stdout.String())
		}
		out := c.stdout.String()
		if !strings.Contains(out, "RESULT:") || strings.Contains(out, "EXEC-RAN") || !strings.Contains(out, "AFTER") {
			t.Fatalf("output %q", out)
		}
		t.Logf("%s", out)
	})
}
