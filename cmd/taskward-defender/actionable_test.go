//go:build linux

package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newEvents returns the events after the first `after`, once the stream has been quiet
// for a moment (events are written asynchronously).
func (c *container) newEvents(after int) []map[string]any {
	time.Sleep(500 * time.Millisecond)
	evs := c.events()
	return evs[min(after, len(evs)):]
}

// TestEventsPeopleCanActOn: complete events under both mechanisms, one event per command,
// the first block of a program never lost to the rate limit, and one note per set-user-ID
// program (issue 12, "Events people can act on").
func TestEventsPeopleCanActOn(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		port := freePort(t)
		c := startApp(t, l, spec{args: app("nc", "-ll", "-p", strconv.Itoa(port), "-e", "/bin/sh"), env: []string{rulesPolicy}})
		if got := session(t, port, "echo UP"); !strings.Contains(got, "UP") {
			t.Fatalf("application not answering: %q", got)
		}

		t.Run("every block names user, parent, parents and cwd", func(t *testing.T) {
			before := len(c.events())
			// Each apk runs in a child that exits as soon as its exec fails.
			session(t, port, "cd /tmp; for i in 1 2 3 4 5 6 7 8 9 10 11 12; do apk add curl 2>/dev/null; done")
			var n int
			for _, e := range c.newEvents(before) {
				if e["rule"] != "packageManagers" {
					continue
				}
				n++
				if e["user"] != "root" || e["cwd"] != "/tmp" || e["ppid"] == float64(0) || e["parents"] == nil {
					t.Errorf("incomplete event: %v", e)
				}
			}
			if n != 12 {
				t.Errorf("%d packageManagers events, want 12", n)
			}
		})

		t.Run("a PATH search through a symlinked directory is one event", func(t *testing.T) {
			before := len(c.events())
			out := session(t, port, "mkdir -p /tmp/p && ln -sfn /sbin /tmp/p/bin && PATH=/tmp/p/bin:/sbin apk add curl; echo RC=$?")
			if !strings.Contains(out, "RC=126") {
				t.Errorf("output %q", out)
			}
			var n int
			for _, e := range c.newEvents(before) {
				if e["rule"] == "packageManagers" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d events for one command, want 1:\n%s", n, c.stderr.String())
			}
		})

		t.Run("a flood of blocks does not hide another program's first block", func(t *testing.T) {
			before := len(c.events())
			session(t, port, "cp /bin/busybox /tmp/noisy; for i in $(seq 60); do /tmp/noisy true 2>/dev/null; done; cp /bin/busybox /tmp/real; /tmp/real true")
			var noisy, real int
			for _, e := range c.newEvents(before) {
				switch e["program"] {
				case "/tmp/noisy":
					noisy++
				case "/tmp/real":
					real++
					if e["rule"] != "drift" || e["user"] != "root" {
						t.Errorf("the real block is not in full: %v", e)
					}
				}
			}
			if real != 1 || noisy >= 60 {
				t.Errorf("%d events of /tmp/noisy (60 blocks), %d of /tmp/real (want 1)", noisy, real)
			}
		})

		t.Run("a set-user-ID program is noted once, when its bit would change the caller's user", func(t *testing.T) {
			before := len(c.events())
			out := session(t, port, "/usr/bin/suidecho SUID-RAN; /usr/bin/suidecho SUID-RAN-AGAIN; /usr/bin/suidroot ROOT-SUID-RAN")
			if !strings.Contains(out, "SUID-RAN-AGAIN") || !strings.Contains(out, "ROOT-SUID-RAN") {
				t.Fatalf("output %q", out)
			}
			var n int
			for _, e := range c.newEvents(before) {
				if e["rule"] == "noNewPrivs" {
					n++
					if e["program"] != "/usr/bin/suidecho" || e["action"] != "alerted" {
						t.Errorf("event %v (root running a set-user-ID root program loses nothing: no event)", e)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d noNewPrivs events, want 1", n)
			}
		})
	})
}

// TestExecSessions: a process that enters the container with `runc exec` (as ECS Exec
// does through the container runtime) is reported under alert and killed under block.
func TestExecSessions(t *testing.T) {
	// "alert" is the default: that policy leaves the field out.
	for _, eff := range []string{"alert", "block", "off"} {
		t.Run(eff, func(t *testing.T) {
			eachMechanism(t, func(t *testing.T, app func(...string) []string) {
				l := needLab(t)
				pol := `TASKWARD_POLICY={"name":"sessions","execSessions":"` + eff + `"}`
				if eff == "alert" {
					pol = `TASKWARD_POLICY={"name":"sessions"}`
				}
				c := startApp(t, l, spec{args: app("sleep", "60"), env: []string{pol}})
				time.Sleep(500 * time.Millisecond) // the defender is up
				before := len(c.events())
				start := time.Now()
				out, err := exec.Command("runc", "--root", l.runcRoot, "exec", c.id, "sleep", "3").CombinedOutput()
				took := time.Since(start)
				t.Logf("runc exec: %v %s (%v)", err, out, took)
				// runc init (a memfd copy of runc) is not judged before it execs: the event
				// names the program the session runs.
				var found map[string]any
				for _, e := range c.newEvents(before) {
					if e["rule"] == "execSessions" && (found == nil || strings.Contains(strings.Join(toStrings(e["argv"]), " "), "sleep 3")) {
						found = e
					}
				}
				switch eff {
				case "alert":
					if err != nil || found == nil || found["action"] != "alerted" || found["ppid"] != float64(0) || strings.Join(toStrings(found["argv"]), " ") != "sleep 3" {
						t.Errorf("runc exec err %v, event %v:\n%s", err, found, c.stderr.String())
					}
				case "block":
					if err == nil || took > 2500*time.Millisecond || found == nil || found["action"] != "killed" {
						t.Errorf("runc exec err %v after %v, event %v:\n%s", err, took, found, c.stderr.String())
					}
				case "off":
					if err != nil || found != nil {
						t.Errorf("runc exec err %v, event %v", err, found)
					}
				}
			})
		})
	}
}

// TestHealthCheckIsNoExecSession: the runtime runs the container's health check from
// outside the defender's tree too; the one of the task definition (passed by render as
// $TASKWARD_HEALTHCHECK) and what it starts are not reported, anything else still is.
func TestHealthCheckIsNoExecSession(t *testing.T) {
	eachMechanism(t, func(t *testing.T, app func(...string) []string) {
		l := needLab(t)
		c := startApp(t, l, spec{args: app("sleep", "60"), env: []string{`TASKWARD_POLICY={"name":"sessions"}`, `TASKWARD_HEALTHCHECK=["CMD-SHELL","sleep 1; echo healthy"]`}})
		time.Sleep(500 * time.Millisecond)
		before := len(c.events())
		out, err := exec.Command("runc", "--root", l.runcRoot, "exec", c.id, "/bin/sh", "-c", "sleep 1; echo healthy").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "healthy") {
			t.Fatalf("health check: %v %s", err, out)
		}
		for _, e := range c.newEvents(before) {
			if e["rule"] == "execSessions" {
				t.Errorf("the health check was reported: %v", e)
			}
		}
		before = len(c.events())
		if out, err := exec.Command("runc", "--root", l.runcRoot, "exec", c.id, "/bin/sh", "-c", "sleep 1; echo other").CombinedOutput(); err != nil {
			t.Fatalf("runc exec: %v %s", err, out)
		}
		var found bool
		for _, e := range c.newEvents(before) {
			found = found || e["rule"] == "execSessions"
		}
		if !found {
			t.Errorf("a session that is not the health check was not reported:\n%s", c.stderr.String())
		}
	})
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
