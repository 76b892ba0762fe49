//go:build linux

package defender

import (
	"os"
	"runtime"
	"sync/atomic"
	"time"

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
	maxWatchers    = 256
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
				s.followExec(j, false, nil)
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
// image at PTRACE_EVENT_EXEC and, when the approval has a script watch, follows the
// program to its open of the script; then it detaches. inline: on the supervisor's thread,
// which handles the exits of its other children seen meanwhile; a watcher waits with
// __WNOTHREAD and sees only its tracee. live, when not nil, runs once the caller is known
// to still wait in its call, before the call continues (what is reported of it).
//
// Step by step (the Notify mechanism's steps 3 to 5, notify_linux.go): PTRACE_SEIZE, then
// SECCOMP_IOCTL_NOTIF_ID_VALID (the caller still waits: its thread id was not reused),
// then SECCOMP_USER_NOTIF_FLAG_CONTINUE and at once PTRACE_INTERRUPT, so the caller stops
// either at PTRACE_EVENT_EXEC or on its way back from a failed exec. A caller that left
// its call (a signal; the kernel restarts it as a new notification) is attached but not
// stopped: the interrupt stops it and it is let go there, with its signal.
func (s *supervisor) followExec(j watchJob, inline bool, live func()) {
	tid, a := j.tid, j.a
	flags := unix.WALL | unix.WNOTHREAD
	if inline {
		flags = s.waitAll
	}
	if err := ptraceSeizeWith(tid, transientTraceOptions); err != nil {
		// ESRCH: the caller is gone (the answer fails harmlessly). Anything else means
		// the check could not happen: fail closed.
		notifRespond(j.listener, j.id, unix.EACCES, false)
		if err != unix.ESRCH {
			s.cfg.Reporter.Report(s.eventFor(ActionBlocked, "exec-check", "cannot attach for the EXEC-time check: "+err.Error()+" ("+taskState(tid)+")", tgid(tid), j.exec, j.argv))
		}
		return
	}
	continued := notifValid(j.listener, j.id)
	if continued && live != nil {
		live()
	}
	if continued && notifRespond(j.listener, j.id, 0, true) != nil {
		continued = false // the notification went away meanwhile
	}
	// After a continued call the interrupt may find the thread id gone: a non-leader
	// thread that exec'd took the leader's. Its exec event still comes, under that id.
	if err := ptraceInterrupt(tid); err != nil && !continued {
		return // ESRCH: gone, and with it the attachment
	}
	if !continued {
		a = nil // an exec event cannot follow: the call never continued
	} else if a != nil {
		// While the kernel runs the exec, prepare the EXEC-time check.
		a.prepare(tid)
		defer a.release()
	}
	var w execWatch       // once the exec is checked
	var guard *watchGuard // bounds a loader watch on the supervisor's thread
	defer func() { guard.stop() }()
	tids := map[int]bool{} // the program's threads attached while w is followed
	ending := false        // w is over: each remaining thread is let go at its stop
	for {
		if w != nil && len(tids) == 0 {
			return
		}
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, flags, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // ECHILD: the tracee is gone
		}
		if ws.Exited() || ws.Signaled() {
			if inline {
				s.onChildExit(wpid, ws)
			}
			if w != nil {
				delete(tids, wpid)
				continue
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
		if w == nil {
			switch ev {
			case unix.PTRACE_EVENT_EXEC:
				// The only attached task is the caller; a stop of it may come under the
				// leader's id when a non-leader thread exec'd.
				if wpid != tid {
					a.release() // the prepared descriptors name the thread's old id
				}
				c := checkExec(wpid, a)
				switch {
				case c.kill:
					s.killTracee(wpid, s.imageEvent(wpid, c), inline, nil)
					return
				case c.alert:
					s.cfg.Reporter.Report(s.imageEvent(wpid, c))
				}
				if w = watchAfter(a.script, c.watch); w == nil {
					ptraceDetach(wpid, 0)
					return
				}
				if inline {
					// A loader watch, decided only now: the supervisor's thread follows it,
					// and serves no other exec meanwhile. A loader blocked in an open (a
					// FIFO named as a library) or an auditor's callback must not hold it.
					guard = s.guardWatch(wpid)
				}
				// Follow the program, and every thread it starts, to its open of the script
				// and through its loader's mappings.
				tid = wpid
				tids[tid] = true
				ptraceRequest(unix.PTRACE_SETOPTIONS, tid, transientTraceOptions|unix.PTRACE_O_TRACECLONE)
				unix.PtraceSyscall(tid, 0)
			default:
				// The exec failed (or never continued): let go, delivering a signal.
				d := 0
				if ev == 0 {
					d = int(sig)
				}
				ptraceDetach(wpid, d)
				return
			}
			continue
		}
		tids[wpid] = true // a thread the program started, attached by PTRACE_O_TRACECLONE
		if ending {
			d := 0
			if ev == 0 && sig != syscallStop {
				d = int(sig)
			}
			ptraceDetach(wpid, d)
			delete(tids, wpid)
			continue
		}
		switch {
		case ev == 0 && sig == syscallStop:
			si, err := getSyscallInfo(wpid)
			out, c := watchDone, (*imageCheck)(nil)
			if err == nil {
				out, c = s.judge(wpid, w, si, j.root)
			}
			if out != watchGoOn && !guard.stop() {
				out, c = watchGoOn, nil // the guard killed it: collect the exits
			}
			switch out {
			case watchGoOn:
				if c != nil {
					s.cfg.Reporter.Report(s.imageEvent(wpid, *c))
				}
				unix.PtraceSyscall(wpid, 0)
			case watchKill:
				s.killTracee(wpid, s.imageEvent(wpid, *c), inline, tids)
				return
			default:
				// Done: let every thread go, each at its next stop (the interrupt makes
				// one of a thread blocked in a call).
				ending = true
				ptraceDetach(wpid, 0)
				delete(tids, wpid)
				for t := range tids {
					ptraceInterrupt(t)
				}
			}
		case ev == 0 && sig == unix.SIGTRAP && entryTrapped(w, wpid):
			unix.PtraceSyscall(wpid, 0) // the loader handed over at the program's entry
		case ev == 0:
			unix.PtraceSyscall(wpid, int(sig)) // a signal: deliver it
		case ev == unix.PTRACE_EVENT_CLONE:
			if msg, err := unix.PtraceGetEventMsg(wpid); err == nil {
				tids[int(msg)] = true // it reports its own first stop
			}
			unix.PtraceSyscall(wpid, 0)
		case ev == unix.PTRACE_EVENT_STOP && isStopSignal(sig):
			ptraceListen(wpid) // group-stop: stay stopped until SIGCONT
		default:
			unix.PtraceSyscall(wpid, 0) // a first stop, the interrupt's trap, another event
		}
	}
}

// watchLimit bounds a watch followed on the supervisor's thread (a loader watch under
// Notify): a loader hands over within milliseconds.
const watchLimit = time.Second

// watchGuard kills a watched program that outlasts watchLimit (fail closed), unless the
// watch ends first.
type watchGuard struct {
	t     *time.Timer
	state atomic.Int32 // 0 watching, 1 killed by the guard, 2 ended
}

// guardWatch starts the guard of the watched program tid.
func (s *supervisor) guardWatch(tid int) *watchGuard {
	g := &watchGuard{}
	g.t = time.AfterFunc(watchLimit, func() {
		ev := s.checkedEvent(tid, "the loader of this program did not hand over within "+watchLimit.String()+" (blocked in a system call, or stopped): what it maps could not be judged")
		if g.state.CompareAndSwap(0, 1) {
			unix.Kill(tid, unix.SIGKILL)
			s.cfg.Reporter.Report(ev)
		}
	})
	return g
}

// stop ends the guard before the program is let go or killed by the watch. It reports
// false when the guard has killed it already. g may be nil.
func (g *watchGuard) stop() bool {
	if g == nil {
		return true
	}
	if g.state.CompareAndSwap(0, 2) {
		g.t.Stop()
		return true
	}
	return g.state.Load() == 2
}

// killTracee kills the stopped tracee tid and its process, reports ev, and waits for the
// exits of tid and of the other threads in tids (nil: tid alone): SIGKILL wakes them from
// their stops, so they cannot be detached, and their deaths are reported to their tracer,
// which must collect them before the process can be reaped by its parent. inline: on the
// supervisor's thread, whose own child it may be (so handled as any exit).
func (s *supervisor) killTracee(tid int, ev *Event, inline bool, tids map[int]bool) {
	s.killFor(tid, ev)
	left := map[int]bool{tid: true}
	for t := range tids {
		left[t] = true
	}
	for len(left) > 0 {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOTHREAD, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // ECHILD: nothing of it is left to collect
		}
		if ws.Exited() || ws.Signaled() {
			delete(left, wpid)
			if inline {
				s.onChildExit(wpid, ws)
			}
		}
	}
}
