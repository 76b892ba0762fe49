//go:build linux

package defender

import "golang.org/x/sys/unix"

// traceOptions are set on the stage at PTRACE_SEIZE and inherited by every auto-attached
// descendant. EXITKILL: if the defender dies, the kernel SIGKILLs every tracee, so the
// application never keeps running unsupervised.
// TRACESYSGOOD: syscall stops, which only a script watch asks for (PTRACE_SYSCALL), stop
// with SIGTRAP|0x80 (syscallStop), told apart from a real SIGTRAP.
const traceOptions = unix.PTRACE_O_TRACESECCOMP | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD

// syscallStop is the stop signal of a syscall stop under PTRACE_O_TRACESYSGOOD.
const syscallStop = unix.SIGTRAP | 0x80

// The ptrace helpers below must be called from the tracer thread (the locked OS thread
// that attached); from any other thread the kernel answers ESRCH.

func ptraceSeize(pid int) error { return ptraceSeizeWith(pid, traceOptions) }

// ptraceListen leaves a tracee in group-stop (SIGSTOP, SIGTSTP...) while still reporting
// events, so job control works for traced programs (PTRACE_SEIZE semantics).
func ptraceListen(pid int) error { return ptraceRequest(unix.PTRACE_LISTEN, pid, 0) }

// waitEvent is the ptrace event of a stop status (status>>16), or 0.
func waitEvent(ws unix.WaitStatus) int { return int(uint32(ws)>>16) & 0xff }

func isStopSignal(sig unix.Signal) bool {
	switch sig {
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return true
	}
	return false
}

// ptraceSeizeWith attaches to tid with the given options (Notify's transient attach).
func ptraceSeizeWith(tid int, options uintptr) error {
	return ptraceRequest(unix.PTRACE_SEIZE, tid, options)
}

// ptraceInterrupt makes a seized tracee stop at its next chance (PTRACE_EVENT_STOP).
func ptraceInterrupt(tid int) error { return ptraceRequest(unix.PTRACE_INTERRUPT, tid, 0) }

// ptraceDetach detaches from a stopped tracee, delivering sig (0 for none); pending
// PTRACE_INTERRUPT traps are dropped by the kernel (__ptrace_unlink).
func ptraceDetach(tid, sig int) error { return ptraceRequest(unix.PTRACE_DETACH, tid, uintptr(sig)) }

// ptraceRequest is ptrace(req, tid, 0, data), for the requests x/sys/unix has no wrapper
// for (or none that takes data).
func ptraceRequest(req, tid int, data uintptr) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), 0, data, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
