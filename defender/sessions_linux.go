//go:build linux

package defender

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// Exec sessions: ECS Exec, `docker exec` and `runc exec` start a process that joins the
// container's namespaces from outside. It never passed through the stage, so it is not
// under the defender's seccomp filter and nothing it runs is checked. In the container's
// PID namespace its parent is outside, so /proc shows its PPid as 0; every process it
// starts descends from it, not from PID 1 (the defender). The defender looks for such
// processes in /proc at a fixed interval: there is no event for a process entering a
// namespace that an unprivileged container could subscribe to (the proc connector needs
// CAP_NET_ADMIN in the initial network namespace).

// RuleExecSessions is the rule of exec-session events (policy field execSessions).
const RuleExecSessions = "execSessions"

// sessionScanInterval is how often /proc is scanned for exec sessions. A session process
// that exits sooner can go unseen; a kill (block) comes at most this late.
const sessionScanInterval = 200 * time.Millisecond

// sessionExecGrace is how long a process entering from outside may stay unidentifiable
// (identifiable) before it is judged as it is: `runc init` execs within milliseconds,
// even on a loaded machine; one that never execs is still reported.
const sessionExecGrace = 5 * time.Second

// maxSessionsSeen bounds the processes the watcher remembers as reported.
const maxSessionsSeen = 4096

// watchSessions scans /proc every sessionScanInterval until stop is closed, reporting
// (alert) or killing and reporting (block) every process that is not a descendant of PID
// 1. It only runs as PID 1 of the container's PID namespace: elsewhere every process of a
// shared namespace would count. It runs on its own goroutine and does nothing the exec
// path waits for.
func (s *supervisor) watchSessions(stop <-chan struct{}) {
	eff := s.cfg.Policy.ExecSessions
	if eff == policy.Off || eff == policy.Inherit || os.Getpid() != 1 {
		return
	}
	seen := map[procKey]bool{}
	waiting := map[procKey]time.Time{} // first seen while not yet identifiable
	t := time.NewTicker(sessionScanInterval)
	defer t.Stop()
	for {
		now, stillWaiting, ready := time.Now(), map[procKey]time.Time{}, map[int]bool{}
		for _, p := range outsiders() {
			if seen[p] {
				continue
			}
			rootReady, ok := ready[p.root]
			if !ok {
				rootReady = identifiable(rootKey(p.root))
				ready[p.root] = rootReady
			}
			if !rootReady || !identifiable(p) {
				// A runtime's helper before its exec (runc init runs from a memfd copy of
				// runc or a detached bind mount of it) or a process inside execve is judged
				// once it has exec'd what it was asked to run; if it never does, as it is
				// after sessionExecGrace.
				first, ok := waiting[p]
				if !ok {
					first = now
				}
				if now.Sub(first) < sessionExecGrace {
					stillWaiting[p] = first
					continue
				}
			}
			if len(s.cfg.HealthCheck) > 0 && slices.Equal(cmdline(p.root), s.cfg.HealthCheck) {
				continue // the task definition's health check, and what it started
			}
			if len(seen) >= maxSessionsSeen {
				clear(seen) // at worst, a long-lived session is reported again
			}
			seen[p] = true
			s.onSession(p, eff)
		}
		waiting = stillWaiting
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// rootKey is the procKey of a session's root: its program, read now.
func rootKey(pid int) procKey {
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return procKey{pid: pid, exe: exe, root: pid}
}

// identifiable reports whether p runs a program of the container's filesystem with its
// arguments in place: /proc/PID/exe is readable, names a file that is the running image
// (not a memfd, a deleted file or a detached mount, which reads "/"), and the command line
// is not empty (inside execve the new image has no arguments yet).
func identifiable(p procKey) bool {
	if p.exe == "" || strings.HasPrefix(p.exe, "/memfd:") || len(cmdline(p.pid)) == 0 {
		return false
	}
	var running, named unix.Stat_t
	if unix.Stat("/proc/"+strconv.Itoa(p.pid)+"/exe", &running) != nil || unix.Stat(p.exe, &named) != nil {
		return false
	}
	return running.Dev == named.Dev && running.Ino == named.Ino && named.Mode&unix.S_IFMT == unix.S_IFREG
}

// onSession reports (and under block kills) one process found outside the tree.
func (s *supervisor) onSession(p procKey, eff policy.Effect) {
	action, reason := ActionAlerted, "process entered the container from outside the defender's tree (ECS Exec, docker or runc exec): its programs are not checked"
	ev := s.eventFor(action, RuleExecSessions, reason, p.pid, nil, nil)
	if eff == policy.Block {
		unix.Kill(p.pid, unix.SIGKILL)
		ev.Action, ev.Reason = ActionKilled, "process entered the container from outside the defender's tree (ECS Exec, docker or runc exec): killed"
	}
	s.cfg.Reporter.Report(ev)
}

// procKey names one process image across pid reuse: its pid, start time (clock ticks)
// and program, so that `runc init` and the program it then execs are reported each.
type procKey struct {
	pid        int
	start, exe string
	root       int // the outermost process of its tree in our namespace (PPid 0)
}

// outsiders lists the live processes of our PID namespace whose chain of parents does not
// reach PID 1.
func outsiders() []procKey {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	type proc struct {
		ppid  int
		start string
	}
	procs := map[int]proc{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 1 {
			continue
		}
		ppid, start, state, ok := readProcStat(pid)
		if !ok || state == "Z" || state == "X" {
			continue
		}
		procs[pid] = proc{ppid, start}
	}
	var out []procKey
	for pid, p := range procs {
		// Walk up; a parent missing from the scan (exited meanwhile) is given the benefit
		// of the doubt only if it is PID 1's; a PPid of 0 is the mark of an outsider.
		q, root, n := p, pid, 0
		for q.ppid != 1 && q.ppid != 0 && n < 64 {
			next, ok := procs[q.ppid]
			if !ok {
				break
			}
			q, root, n = next, q.ppid, n+1
		}
		if q.ppid == 0 {
			exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
			out = append(out, procKey{pid, p.start, exe, root})
		}
	}
	return out
}
