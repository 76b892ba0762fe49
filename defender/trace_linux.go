//go:build linux

package defender

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// The Trace mechanism (see Mechanism and the package documentation, steps 1-8): every
// process of the tree is traced from its first instruction, and each exec call stops here
// at PTRACE_EVENT_SECCOMP. One wait4 loop on the locked thread handles every stop and reaps
// every child.

// runTrace starts the stage traced from its first instruction and supervises until the
// tree is gone. It returns the program's exit status.
func (s *supervisor) runTrace(self string, stageArgv, env []string, sigs chan os.Signal) (int, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	pid, err := syscall.ForkExec(self, stageArgv, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2, pr.Fd()},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
	pr.Close()
	if err != nil {
		pw.Close()
		return 0, fmt.Errorf("start stage %s: %w", self, err)
	}
	if err := ptraceSeize(pid); err != nil {
		pw.Close() // the stage reads EOF and exits
		unix.Kill(pid, unix.SIGKILL)
		return 0, fmt.Errorf("ptrace the program (is CAP_SYS_PTRACE or a ptrace scope of 0/1 granted?): %w", err)
	}
	s.mainPid = pid
	s.tracees[pid] = struct{}{}
	// ForkExec returns as soon as the child's vfork is released, which happens while the
	// kernel is still executing the stage; the seize may then see the stage's own
	// PTRACE_EVENT_EXEC. Approve exactly that exec: our own file, with the stage's argv.
	var st unix.Stat_t
	if err := unix.Stat(self, &st); err == nil {
		s.approvals[pid] = &approval{ev: evidenceOf(&st), path: self, cmdline: joinCmdline(stageArgv)}
	}
	if _, err := pw.Write([]byte{1}); err != nil {
		return 0, fmt.Errorf("release stage: %w", err)
	}
	pw.Close()
	go forwardSignals(sigs, pid)
	return s.loop(), nil
}

// loop is the one wait4(-1, __WALL) loop: ptrace stops of every tracee and exits of every
// child, traced or reparented. It returns the program's exit status.
func (s *supervisor) loop() int {
	var y yielder
	for {
		y.maybeYield()
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil { // ECHILD: nothing left
			break
		}
		switch {
		case ws.Exited() || ws.Signaled():
			delete(s.tracees, wpid)
			s.unwatch(wpid)
			s.dropApproval(wpid)
			s.onChildExit(wpid, ws)
		case ws.Stopped():
			s.tracees[wpid] = struct{}{}
			s.onStop(wpid, ws)
		}
	}
	return s.finish()
}

// onStop handles one ptrace stop and resumes the tracee.
func (s *supervisor) onStop(tid int, ws unix.WaitStatus) {
	sig := ws.StopSignal()
	switch waitEvent(ws) {
	case 0:
		if sig == syscallStop {
			s.onWatchStop(tid)
			return
		}
		if w := s.watches[tid]; w != nil && sig == unix.SIGTRAP && entryTrapped(w, tid) {
			unix.PtraceSyscall(tid, 0) // the loader handed over at the program's entry
			return
		}
		// Signal-delivery stop: deliver the signal.
		s.cont(tid, int(sig))
	case unix.PTRACE_EVENT_SECCOMP:
		s.onExecCall(tid)
	case unix.PTRACE_EVENT_EXEC:
		s.onExec(tid)
	case unix.PTRACE_EVENT_STOP:
		if isStopSignal(sig) {
			ptraceListen(tid) // group-stop: stay stopped until SIGCONT
			return
		}
		s.cont(tid, 0) // the first stop of an auto-attached child
	case unix.PTRACE_EVENT_CLONE:
		// The new task reports its own first stop. A new thread of a watched program is
		// watched too; its first stop may have been resumed already (the order of the
		// two stops is not fixed), so it is interrupted to stop again, then followed.
		if w := s.watches[tid]; w != nil {
			if msg, err := unix.PtraceGetEventMsg(tid); err == nil && isThreadOf(int(msg), tid) {
				s.watches[int(msg)] = w
				ptraceInterrupt(int(msg))
			}
		}
		s.cont(tid, 0)
	default:
		// PTRACE_EVENT_FORK/VFORK: the new task reports its own first stop.
		s.cont(tid, 0)
	}
}

// isThreadOf reports whether thread id t belongs to the process of thread id of.
func isThreadOf(t, of int) bool {
	var st unix.Stat_t
	return unix.Stat("/proc/"+strconv.Itoa(of)+"/task/"+strconv.Itoa(t), &st) == nil
}

// onExecCall decides an execve/execveat at its seccomp stop.
func (s *supervisor) onExecCall(tid int) {
	s.dropApproval(tid)
	s.unwatch(tid) // an exec ends a script watch (see scriptwatch_linux.go)
	// The thread's own /proc entry is the right one for resolution: cwd and the fd table
	// can be per thread (unshare CLONE_FS/CLONE_FILES). The process id is only for events.
	pid := tid
	nr, args, err := syscallRegs(tid)
	if err != nil {
		s.cont(tid, 0)
		return
	}
	switch rule := classify(nr, args); rule {
	case traceExec:
	case traceTimes:
		if a := s.drift.onTimesCall(tid, nr, args, s.root(), nil); !a.cont {
			denySyscall(tid, a.errno) // errno 0: the call returns 0, done by the defender
		}
		s.cont(tid, 0)
		return
	case traceRootChange:
		// Allowed; from now on programs are resolved through /proc/PID/root. The flag is
		// set before the call runs, so no later exec is resolved under a stale root; an
		// exec decided before it that the kernel then resolves under the new root maps a
		// different file, which the EXEC-time check kills.
		s.rootChanged = true
		s.cont(tid, 0)
		return
	default:
		s.onRefused(tid, rule)
		return
	}
	c, err := readExecCall(pid, tid, nr, args)
	if err != nil {
		// Unreadable memory: the kernel would fail with EFAULT, or we cannot see what it
		// would run. Either way it must not run: refuse it.
		denySyscall(tid, unix.EFAULT)
		s.cont(tid, 0)
		return
	}
	v := s.decide(c)
	switch v.decision.Effect {
	case policy.Block:
		if err := denySyscall(tid, unix.EACCES); err != nil {
			// Could not rewrite the registers (the tracee died?): it must not run.
			unix.Kill(tid, unix.SIGKILL)
		}
		s.report(s.execEvent(ActionBlocked, v, c))
		s.cont(tid, 0)
		return
	case policy.Alert:
		s.report(s.execEvent(ActionAlerted, v, c))
	}
	s.noteSetID(v, c)
	if v.approval != nil {
		s.approvals[tid] = v.approval
	}
	s.cont(tid, 0)
	if v.approval != nil {
		// While the kernel runs the exec, prepare the EXEC-time check: it then needs no
		// /proc path walk, which shortens the time the new program waits in its stop.
		v.approval.prepare(tid)
		s.boundPrepared(tid)
	}
}

// maxPrepared bounds the approvals holding prepared descriptors (two each): threads
// whose exec the kernel failed keep theirs, and 600 of them would use up RLIMIT_NOFILE
// (1024 by default), after which every exec would be refused.
const maxPrepared = 64

// boundPrepared notes that tid's approval holds descriptors, and releases the oldest ones
// past maxPrepared. Releasing an approval whose exec is still on its way is harmless:
// checkExec falls back to /proc paths.
func (s *supervisor) boundPrepared(tid int) {
	s.prepared = append(s.prepared, tid)
	for len(s.prepared) > maxPrepared {
		if a := s.approvals[s.prepared[0]]; a != nil {
			a.release()
		}
		s.prepared = s.prepared[1:]
	}
}

// onExec re-checks an exec that the kernel has just completed.
func (s *supervisor) onExec(pid int) {
	former := pid
	if msg, err := unix.PtraceGetEventMsg(pid); err == nil {
		former = int(msg) // a non-leader thread exec'd: it now has the leader's tid
	}
	a := s.approvals[former]
	delete(s.approvals, former)
	if former != pid {
		delete(s.tracees, former)
		// The prepared descriptors name the thread that exec'd by its old id, which now
		// belongs to the former leader: check by path instead.
		a.release()
	}
	s.unwatch(former)
	s.unwatch(pid)
	c := checkExec(pid, a)
	switch {
	case c.kill:
		s.killFor(pid, s.imageEvent(pid, c))
	case c.alert:
		s.cfg.Reporter.Report(s.imageEvent(pid, c))
	}
	if !c.kill {
		if w := watchAfter(a.script, c.watch); w != nil {
			s.watch(pid, w)
		}
	}
	s.cont(pid, 0)
	a.release()
}

// cont resumes a stopped tracee, delivering sig (0 for none): on to its next system call
// when a script watch follows it, else until its next event.
func (s *supervisor) cont(tid, sig int) {
	if s.watches[tid] != nil {
		unix.PtraceSyscall(tid, sig)
		return
	}
	unix.PtraceCont(tid, sig)
}
