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

func ptraceSeize(pid int) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(pid), 0, traceOptions, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

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
