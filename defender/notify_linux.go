//go:build linux

package defender

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// The Notify mechanism (see Mechanism): exec calls wait on a seccomp user-notification
// listener instead of stopping in a tracer, and the caller is traced only from its allowed
// exec call to the PTRACE_EVENT_EXEC stop where the new image is checked.
//
// One exec, step by step, all on the supervisor's locked thread:
//
//  1. poll wakes on the listener; SECCOMP_IOCTL_NOTIF_RECV gives the caller's thread id,
//     the syscall number and its arguments (no register read needed).
//  2. The path and argv are read from the caller's memory and decided, exactly as Trace
//     does. A blocked call is answered -EACCES and never runs.
//  3. An allowed call: PTRACE_SEIZE the caller with TRACEEXEC and EXITKILL, then check
//     that the notification is still valid (SECCOMP_IOCTL_NOTIF_ID_VALID): the caller is
//     then still blocked in it, so the thread id was not reused between the memory reads,
//     the seize and now.
//  4. Answer with SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the call, reading the
//     path and argv again, possibly changed by another thread meanwhile. That is why
//     PTRACE_INTERRUPT follows at once: the caller then stops either at
//     PTRACE_EVENT_EXEC, if the exec succeeded, or on its way back to user space, if it
//     failed. Either way the defender hears of it.
//  5. At PTRACE_EVENT_EXEC the image is compared with the approval (checkExec, the same
//     check as Trace) and killed on a mismatch. Then PTRACE_DETACH, which also drops the
//     pending interrupt: the program runs untraced until its next exec call.
//
// Forks, clones and exits never involve the defender. Exits of its own children (the
// program, and orphans it reaps as PID 1 or subreaper) arrive as SIGCHLD, turned into a
// byte on a pipe that the same poll watches.

// struct seccomp_data, seccomp_notif and seccomp_notif_resp (linux/seccomp.h). The
// kernel's sizes (SECCOMP_GET_NOTIF_SIZES) are 64, 80 and 24 bytes on every architecture
// and equal these; RECV and SEND encode them in their ioctl numbers.
type seccompData struct {
	nr   int32
	arch uint32
	ip   uint64
	args [6]uint64
}

type seccompNotif struct {
	id    uint64
	pid   uint32
	flags uint32
	data  seccompData
}

type seccompNotifResp struct {
	id    uint64
	val   int64
	error int32
	flags uint32
}

// transientTraceOptions are set for the duration of one allowed exec call. EXITKILL: if
// the defender dies while the caller is attached, the caller dies too.
// TRACESYSGOOD: for a script watch's syscall stops (see traceOptions).
const transientTraceOptions = unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD

// runNotify starts the stage, receives the filter's listener from it and supervises until
// the tree is gone. It returns the program's exit status.
func (s *supervisor) runNotify(self string, stageArgv, env []string, sigs chan os.Signal) (int, error) {
	// SIGCHLD is watched before the stage exists so that no exit goes unnoticed.
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, unix.SIGCHLD)
	quietStopSignals() // after Notify, in case it reinstalled the runtime's handler
	wake, err := newWakePipe(chld)
	if err != nil {
		return 0, err
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("socket pair for the stage: %w", err)
	}
	pid, err := syscall.ForkExec(self, stageArgv, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2, uintptr(pair[1])},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
	unix.Close(pair[1])
	if err != nil {
		unix.Close(pair[0])
		return 0, fmt.Errorf("start stage %s: %w", self, err)
	}
	s.mainPid = pid
	s.waitAll = unix.WALL
	if s.watchers = newWatchers(); s.watchers != nil {
		s.waitAll |= unix.WNOTHREAD // see notifywatch_linux.go
	}
	listener, err := receiveFD(pair[0])
	unix.Close(pair[0])
	if err != nil {
		// The stage failed before it could exec the program, and said why on stderr; its
		// status is the defender's, unless it could not create the listener. It is the
		// only child and nothing of the program ran: no tree to stop.
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
		if ws.Exited() && ws.ExitStatus() == stageNoListener {
			signal.Stop(chld)
			return 0, errNoListener
		}
		return exitStatus(ws), nil
	}
	// Signals that arrived meanwhile wait in sigs; the stage is about to exec the program.
	go forwardSignals(sigs, pid)
	defer unix.Close(listener)
	return s.notifyLoop(listener, wake), nil
}

// errNoListener: the stage could not install the filter with a listener (stageNoListener).
var errNoListener = errors.New("the seccomp user-notification listener was refused")

// newWakePipe returns the read end of a non-blocking pipe that receives a byte for every
// signal on c.
func newWakePipe(c <-chan os.Signal) (int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return -1, err
	}
	go func() {
		for range c {
			unix.Write(p[1], []byte{0}) // a full pipe already means "wake up"
		}
	}()
	return p[0], nil
}

// receiveFD receives one descriptor sent with SCM_RIGHTS on sock.
func receiveFD(sock int) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return -1, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("stage sent no listener")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("stage sent no listener")
	}
	return fds[0], nil
}

// notifyLoop serves the listener and reaps children until none is left.
func (s *supervisor) notifyLoop(listener, wake int) int {
	fds := []unix.PollFd{{Fd: int32(listener), Events: unix.POLLIN}, {Fd: int32(wake), Events: unix.POLLIN}}
	var y yielder
	var drain [64]byte
	// Children are reaped at the start and after each SIGCHLD, not on every pass: most
	// passes are an exec notification, and a wait4 each would be a wasted system call.
	for reap := true; !reap || s.reapAll(); {
		reap = false
		y.maybeYield()
		if _, err := unix.Poll(fds, -1); err != nil {
			continue // EINTR
		}
		if fds[1].Revents != 0 {
			reap = true
			for {
				if n, _ := unix.Read(wake, drain[:]); n < len(drain) {
					break
				}
			}
		}
		switch ev := fds[0].Revents; {
		case ev&unix.POLLIN != 0:
			s.onNotify(listener)
		case ev&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0:
			// No process is under the filter any more (Linux 5.8+ says so): only exits
			// are left to wait for.
			fds[0].Fd = -1
		}
	}
	return s.finish()
}

// reapAll reaps every child that has exited, without blocking. It reports whether any
// child is left. No tracee is attached here: Notify detaches each one before its
// notification is done.
func (s *supervisor) reapAll() bool {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, s.waitAll|unix.WNOHANG, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil: // ECHILD
			return false
		case wpid == 0:
			return true
		case ws.Exited() || ws.Signaled():
			s.onChildExit(wpid, ws)
		case ws.Stopped():
			ptraceDetach(wpid, 0) // cannot happen; never leave a process stopped
		}
	}
}

// onNotify handles one notification.
func (s *supervisor) onNotify(listener int) {
	var req seccompNotif
	if err := notifIoctl(listener, unix.SECCOMP_IOCTL_NOTIF_RECV, &req); err != nil {
		return // ENOENT: the caller was killed before we read it
	}
	tid, nr, args := int(req.pid), int(req.data.nr), req.data.args
	// The other rules hand calls over only to be refused, or, for root changes, noted, or,
	// for time-setting calls, clamped.
	switch rule := classify(nr, args); rule {
	case traceExec:
	case traceTimes:
		// What was read belongs to the caller only if it still waits in the call.
		a := s.drift.onTimesCall(tid, nr, args, s.root(), func() bool { return notifValid(listener, req.id) })
		notifRespond(listener, req.id, a.errno, a.cont)
		return
	case traceRootChange:
		s.rootChanged = true // before the call runs: see onExecCall
		notifRespond(listener, req.id, 0, true)
		return
	default:
		ev := s.refusedEvent(tid, rule) // while the caller waits
		live := notifValid(listener, req.id)
		notifRespond(listener, req.id, unix.EPERM, false)
		if live {
			s.cfg.Reporter.Report(ev)
		}
		return
	}
	c, err := readExecCall(tid, tid, nr, args)
	if err != nil {
		notifRespond(listener, req.id, unix.EFAULT, false)
		return
	}
	v := s.decide(c)
	if v.decision.Effect == policy.Block {
		// The event is built while the caller waits, before the answer lets it go on (and
		// perhaps exit, taking its /proc entry with it). It is reported only if the caller
		// was still waiting: otherwise the id may have been reused and what was read may
		// belong to another process.
		ev := s.execEvent(ActionBlocked, v, c)
		live := notifValid(listener, req.id)
		notifRespond(listener, req.id, unix.EACCES, false)
		if live {
			s.report(ev)
		}
		return
	}
	j := watchJob{tid: tid, id: req.id, listener: listener, a: v.approval, root: s.root(), exec: v.exec, argv: c.argv}
	live := func() {
		if v.decision.Effect == policy.Alert {
			s.report(s.execEvent(ActionAlerted, v, c))
		}
		s.noteSetID(v, c)
	}
	if v.approval == nil || v.approval.script == nil || s.watchers == nil {
		// Attach for the EXEC-time check before letting the call continue, here.
		s.followExec(j, true, live)
		return
	}
	// The program will open a script by name: a watcher follows it there
	// (notifywatch_linux.go). What is reported is reported now, while the caller waits.
	live()
	if !s.submitWatch(j) {
		notifRespond(listener, req.id, unix.EAGAIN, false)
		s.cfg.Reporter.Report(s.eventFor(ActionBlocked, "exec-check", "too many script execs waiting to be followed to their script (queue of "+strconv.Itoa(watchQueueSize)+")", tgid(tid), v.exec, c.argv))
	}
}

// taskExists reports whether a thread id is still in use.
func taskExists(tid int) bool {
	var st unix.Stat_t
	return unix.Stat("/proc/"+strconv.Itoa(tid), &st) == nil
}

// taskState is the state and tracer of a thread, from /proc/TID/status, for error reports.
func taskState(tid int) string {
	fields, err := procStatus(strconv.Itoa(tid))
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, k := range []string{"State", "TracerPid", "Tgid"} {
		out = append(out, k+": "+fields[k])
	}
	return strings.Join(out, ", ")
}
