//go:build linux

package defender

import "golang.org/x/sys/unix"

// traceOptions are set on the stage at PTRACE_SEIZE and inherited by every auto-attached
// descendant. EXITKILL: if the defender dies, the kernel SIGKILLs every tracee, so the
// application never keeps running unsupervised.
const traceOptions = unix.PTRACE_O_TRACESECCOMP | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL

// The ptrace helpers below must be called from the tracer thread (the locked OS thread
// that attached); from any other thread the kernel answers ESRCH.

func ptraceSeize(pid int) error { return ptraceSeizeWith(pid, traceOptions) }

// ptraceListen leaves a tracee in group-stop (SIGSTOP, SIGTSTP...) while still reporting
// events, so job control works for traced programs (PTRACE_SEIZE semantics).
func ptraceListen(pid int) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_LISTEN, uintptr(pid), 0, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

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
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(tid), 0, options, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// ptraceInterrupt makes a seized tracee stop at its next chance (PTRACE_EVENT_STOP).
func ptraceInterrupt(tid int) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_INTERRUPT, uintptr(tid), 0, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// ptraceDetach detaches from a stopped tracee, delivering sig (0 for none); pending
// PTRACE_INTERRUPT traps are dropped by the kernel (__ptrace_unlink).
func ptraceDetach(tid, sig int) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(tid), 0, uintptr(sig), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
