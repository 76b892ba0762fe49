//go:build linux

package defender

import (
	"os"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// Under Notify, an allowed exec whose program then opens a script by name (see
// scriptwatch_linux.go) is followed by a tracer thread of its own, a watcher, from the
// attach before the exec continues to the program's open of its script. The supervisor's
// thread serves the listener and sleeps in poll, and ptrace stops do not wake a poll (only
// SIGCHLD would, which is turned off for stops, and goes through the Go runtime's signal
// delivery: about 150 µs a stop, measured). A watcher sleeps in wait4 for its one tracee,
// as Trace's loop does (about 12 µs a stop), and a program that is slow to open its script,
// or never does, holds its watcher, never the listener.
//
// Ptrace requests must come from the thread that attached, and wait4 from any thread of
// the process sees every thread's tracees unless it passes __WNOTHREAD: the supervisor's
// thread and each watcher therefore wait with __WNOTHREAD. That needs the supervisor's
// thread to be the process's main thread (cmd/taskward-defender locks it there in init):
// orphans are reparented to the main thread (kernel/exit.c, find_alive_thread), and the
// program was forked from it. On any other thread (a library user), watches run inline on
// the supervisor's thread, which then serves no other exec until the watch ends.

// maxWatchers bounds the watcher threads; watches beyond it wait in the queue (their
// programs wait in their exec call), and beyond the queue the exec is refused (EAGAIN).
const (
	maxWatchers    = 32
	watchQueueSize = 1024
)

// watchJob is one allowed exec call, still waiting in its notification, to be followed.
type watchJob struct {
	tid      int
	id       uint64
	listener int
	a        *approval
	root     int // s.root() when it was decided
	exec     *policy.Exec
	argv     []string
}

// watchers is the pool of watcher threads.
type watchers struct {
	jobs          chan watchJob
	running, busy atomic.Int32
}

// newWatchers returns the pool, or nil when the caller is not the process's main thread
// (watches then run inline).
func newWatchers() *watchers {
	if unix.Gettid() != os.Getpid() {
		return nil
	}
	return &watchers{jobs: make(chan watchJob, watchQueueSize)}
}

// submit hands j to a watcher, starting one when all are busy and fewer than maxWatchers
// run. It reports false when the queue is full.
func (s *supervisor) submitWatch(j watchJob) bool {
	ws := s.watchers
	if ws.busy.Load() >= ws.running.Load() && ws.running.Load() < maxWatchers {
		ws.running.Add(1)
		go func() {
			runtime.LockOSThread() // the tracer of its jobs; never unlocked: the thread exits with it
			for j := range ws.jobs {
				ws.busy.Add(1)
				s.followExec(j, unix.WALL|unix.WNOTHREAD)
				ws.busy.Add(-1)
			}
		}()
	}
	select {
	case ws.jobs <- j:
		return true
	default:
		return false
	}
}

// followExec attaches to the caller of j, lets its exec call continue, checks the new
// image at PTRACE_EVENT_EXEC and then follows it to its open of the script. flags are the
// wait4 flags: with __WNOTHREAD (a watcher) only this thread's tracee is seen; without (inline
// on the supervisor's thread) exits of other children are handled as the loop would.
func (s *supervisor) followExec(j watchJob, flags int) {
	tid, a := j.tid, j.a
	if err := ptraceSeizeWith(tid, transientTraceOptions); err != nil {
		notifRespond(j.listener, j.id, unix.EACCES, false)
		if err != unix.ESRCH {
			s.cfg.Reporter.Report(s.eventFor(ActionBlocked, "exec-check", "cannot attach for the EXEC-time check: "+err.Error()+" ("+taskState(tid)+")", tgid(tid), j.exec, j.argv))
		}
		return
	}
	if !notifValid(j.listener, j.id) || notifRespond(j.listener, j.id, 0, true) != nil {
		a = nil // never continued (see release): let go at its next stop
	}
	ptraceInterrupt(tid)
	if a != nil {
		a.prepare(tid)
		defer a.release()
	}
	var w *scriptWatch // once the exec is checked
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, flags, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // ECHILD: the tracee is gone
		}
		if ws.Exited() || ws.Signaled() {
			if flags&unix.WNOTHREAD == 0 {
				s.onChildExit(wpid, ws)
			}
			if wpid == tid || !taskExists(tid) {
				return
			}
			continue
		}
		if !ws.Stopped() {
			continue
		}
		sig, ev := ws.StopSignal(), waitEvent(ws)
		switch {
		case w == nil && ev == unix.PTRACE_EVENT_EXEC:
			// A stop of the caller may come under the leader's id when a non-leader
			// thread exec'd.
			if wpid != tid {
				a.release() // the prepared descriptors name the thread's old id
			}
			if ok, why := checkExec(wpid, a); !ok {
				s.killTracee(wpid, why)
				return
			}
			w, tid = a.script, wpid
			unix.PtraceSyscall(tid, 0)
		case w == nil:
			// The exec failed (or never continued): let go, delivering a signal.
			d := 0
			if ev == 0 {
				d = int(sig)
			}
			ptraceDetach(wpid, d)
			return
		case wpid != tid:
			ptraceDetach(wpid, 0) // not ours; cannot happen
		case ev == 0 && sig == syscallStop:
			si, err := getSyscallInfo(tid)
			if err != nil {
				ptraceDetach(tid, 0)
				return
			}
			switch out, why := s.judge(tid, w, si, j.root); out {
			case watchGoOn:
				unix.PtraceSyscall(tid, 0)
			case watchKill:
				s.killTracee(tid, why)
				return
			default:
				ptraceDetach(tid, 0)
				return
			}
		case ev == 0:
			unix.PtraceSyscall(tid, int(sig)) // a signal: deliver it
		case ev == unix.PTRACE_EVENT_STOP && isStopSignal(sig):
			ptraceListen(tid) // group-stop: stay stopped until SIGCONT
		default:
			unix.PtraceSyscall(tid, 0) // the interrupt's trap, or another event
		}
	}
}

// killTracee kills the stopped tracee tid of a watcher, reports why, and waits for its exit:
// SIGKILL wakes it from its stop, so it cannot be detached, and its death is reported to
// its tracer, which must collect it before its parent can (wait4 returns it once).
func (s *supervisor) killTracee(tid int, why string) {
	ev := s.eventFor(ActionKilled, "exec-check", why, tid, nil, nil) // while /proc still shows it
	unix.Kill(tid, unix.SIGKILL)
	s.cfg.Reporter.Report(ev)
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(tid, &ws, unix.WALL|unix.WNOTHREAD, nil)
		if err != unix.EINTR && (err != nil || ws.Exited() || ws.Signaled()) {
			return
		}
	}
}
