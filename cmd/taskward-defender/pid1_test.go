//go:build linux

package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskward/taskward/defender"
)

const defaultPolicyEnv = `TASKWARD_POLICY={"name":"test"}`

// TestPID1ExitCodes: the container exits with the program's status, 128+signal when the
// program was killed.
func TestPID1ExitCodes(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		for _, tc := range []struct {
			script string
			want   int
		}{
			{"exit 0", 0},
			{"exit 1", 1},
			{"kill -KILL $$", 137},
			{"kill -TERM $$", 143},
		} {
			t.Run(tc.script, func(t *testing.T) {
				c := startApp(t, l, spec{args: app("/bin/sh", "-c", tc.script), env: []string{defaultPolicyEnv}})
				if got := c.wait(20 * time.Second); got != tc.want {
					t.Fatalf("exit code %d, want %d; stderr:\n%s", got, tc.want, c.stderr.String())
				}
			})
		}
	})
}

// TestPID1ForwardsSignals: SIGTERM to the container (PID 1, the defender) reaches the
// program, which dies of it: 143.
func TestPID1ForwardsSignals(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		c := startApp(t, l, spec{args: app("/bin/sh", "-c", "trap 'echo GOT-HUP' HUP; echo READY; sleep 30 & wait; sleep 30 & wait"), env: []string{defaultPolicyEnv}})
		waitOutput(t, c, "READY")
		c.kill("HUP")
		waitOutput(t, c, "GOT-HUP")
		c.kill("TERM")
		if got := c.wait(20 * time.Second); got != 143 {
			t.Fatalf("exit code %d after SIGTERM, want 143; stderr:\n%s", got, c.stderr.String())
		}
	})
}

// TestPID1ReapsOrphans: a grandchild orphaned by its parent is reaped by PID 1: no zombie
// is left in the container.
func TestPID1ReapsOrphans(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		script := `(sleep 0.2 &) ; (sleep 0.3 &) ; sleep 1; z=0; for f in /proc/[0-9]*/stat; do read -r line < $f; case "$line" in *") Z "*) z=$((z+1));; esac; done; echo ZOMBIES=$z`
		c := startApp(t, l, spec{args: app("/bin/sh", "-c", script), env: []string{defaultPolicyEnv}})
		if got := c.wait(20 * time.Second); got != 0 {
			t.Fatalf("exit %d: %s", got, c.stderr.String())
		}
		if !strings.Contains(c.stdout.String(), "ZOMBIES=0") {
			t.Fatalf("zombies left: %q", c.stdout.String())
		}
	})
}

// TestPID1StopsTreeOnExit: when the program exits, what it left running is killed and the
// container stops at once.
func TestPID1StopsTreeOnExit(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		start := time.Now()
		c := startApp(t, l, spec{args: app("/bin/sh", "-c", "sleep 60 & sleep 60 & exit 7"), env: []string{defaultPolicyEnv}})
		if got := c.wait(20 * time.Second); got != 7 {
			t.Fatalf("exit %d, want 7", got)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("container took %v to stop: the background sleeps were not killed", d)
		}
	})
}

// TestKillingTheDefender: SIGKILL from inside the container cannot stop PID 1, and when
// the defender dies anyway (killed from the host), nothing of the application keeps
// running unsupervised: the kernel kills a PID namespace whose init dies (both
// mechanisms), and PTRACE_O_EXITKILL kills every tracee (trace).
func TestKillingTheDefender(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		c := startApp(t, l, spec{args: app("/bin/sh", "-c", "kill -KILL 1; echo KILL-RC=$?; echo READY; sleep 60 & wait"), env: []string{defaultPolicyEnv}})
		waitOutput(t, c, "READY")
		pid := c.hostPID(t)
		kids := descendants(pid)
		if len(kids) == 0 {
			t.Fatalf("no application processes under the defender (pid %d)", pid)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for _, k := range kids {
			for alive(k) {
				if time.Now().After(deadline) {
					t.Fatalf("application process %d still running after the defender was killed", k)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})
}

// TestAutoMechanism: as PID 1 of a container, auto picks notify wherever the kernel has
// it (and trace where it does not).
func TestAutoMechanism(t *testing.T) {
	l := needLab(t)
	want := defender.Notify
	if _, err := defender.ChooseMechanism(defender.Notify); err != nil {
		want = defender.Trace
	}
	c := startApp(t, l, spec{args: []string{"/taskward/defender", "check"}})
	if got := c.wait(20 * time.Second); got != 0 {
		t.Fatalf("check exited %d: %s", got, c.stderr.String())
	}
	out := c.stdout.String()
	if !strings.Contains(out, "pid 1: true") || !strings.Contains(out, "mechanism (auto): "+string(want)+"\n") {
		t.Fatalf("check in a container, want mechanism %s:\n%s", want, out)
	}
}

// TestNonRootTask: the defender works when the task runs as a non-root user: no
// capability is needed to trace its own children.
func TestNonRootTask(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		c := startApp(t, l, spec{uid: 1000, args: app("/bin/sh", "-c", "id -u; apk add curl; echo APK-RC=$?"), env: []string{defaultPolicyEnv}})
		if got := c.wait(20 * time.Second); got != 0 {
			t.Fatalf("exit %d: %s", got, c.stderr.String())
		}
		out := c.stdout.String()
		if !strings.Contains(out, "1000") || !strings.Contains(out, "APK-RC=126") || strings.Contains(out, "APK RAN") {
			t.Fatalf("stdout %q; stderr %s", out, c.stderr.String())
		}
		if !strings.Contains(c.stderr.String(), "Permission denied") {
			t.Fatalf("no Permission denied: %s", c.stderr.String())
		}
		c.waitEvent(t, 0, map[string]string{"action": "blocked", "rule": "packageManagers", "user": "app"})
	})
}

// TestFailClosed: without a valid policy the program never starts, unless --fail-open.
func TestFailClosed(t *testing.T) {
	l := needLab(t)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want int
	}{
		{"missing policy", app("/bin/echo", "STARTED"), nil, 125},
		{"invalid policy", app("/bin/echo", "STARTED"), []string{`TASKWARD_POLICY={"name":"x","drift":"deny"}`}, 125},
		{"fail open", []string{"/taskward/defender", "run", "--fail-open", "--", "/bin/echo", "STARTED"}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startApp(t, l, spec{args: tc.args, env: tc.env})
			if got := c.wait(20 * time.Second); got != tc.want {
				t.Fatalf("exit %d, want %d: %s", got, tc.want, c.stderr.String())
			}
			started := strings.Contains(c.stdout.String(), "STARTED")
			if started != (tc.want == 0) {
				t.Fatalf("program started = %v; stderr: %s", started, c.stderr.String())
			}
		})
	}
}

// TestProgramEnvironment: the program does not see the defender's variables (the events
// token in particular).
func TestProgramEnvironment(t *testing.T) {
	l := needLab(t)
	c := startApp(t, l, spec{args: app("/bin/sh", "-c", "env"), env: []string{defaultPolicyEnv, "TASKWARD_EVENTS_TOKEN=secret-token", "APP_VAR=kept"}})
	if got := c.wait(20 * time.Second); got != 0 {
		t.Fatalf("exit %d: %s", got, c.stderr.String())
	}
	out := c.stdout.String()
	if strings.Contains(out, "TASKWARD_") || !strings.Contains(out, "APP_VAR=kept") {
		t.Fatalf("program environment:\n%s", out)
	}
}

func waitOutput(t *testing.T, c *container, s string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(c.stdout.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in output: %q; stderr: %s", s, c.stdout.String(), c.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// descendants lists every process below pid, from /proc/PID/task/TID/children.
func descendants(pid int) []int {
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(p) + "/task")
		for _, task := range tasks {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/task/" + task.Name() + "/children")
			for _, f := range strings.Fields(string(b)) {
				n, _ := strconv.Atoi(f)
				out = append(out, n)
				queue = append(queue, n)
			}
		}
	}
	return out
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	return !strings.Contains(string(b), ") Z ") && !strings.Contains(string(b), ") X ")
}
