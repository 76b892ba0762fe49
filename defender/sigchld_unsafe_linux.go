//go:build linux

package defender

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelSigaction is struct sigaction as rt_sigaction(2) takes it on amd64 and arm64
// (both define SA_RESTORER): handler, flags, restorer, mask.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// quietStopSignals adds SA_NOCLDSTOP to the handler the Go runtime installed for SIGCHLD.
// Every ptrace stop of a tracee otherwise sends SIGCHLD to the tracer process (about four
// per fork+exec), each one a signal frame, a pass through the runtime's handler and an
// rt_sigreturn on the tracer thread, for nothing: wait4 is woken whether or not the signal
// is sent (kernel/signal.c, do_notify_parent_cldstop), and exits still send SIGCHLD.
// The handler itself is kept; only its flags change. Best effort: an error changes speed,
// not behaviour.
func quietStopSignals() {
	var sa kernelSigaction
	const sigsetSize = 8
	if _, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0, uintptr(unsafe.Pointer(&sa)), sigsetSize, 0, 0); errno != 0 {
		return
	}
	if sa.handler == 0 || sa.handler == 1 { // SIG_DFL, SIG_IGN: not the runtime's; leave it
		return
	}
	const saNoCldStop = 0x1 // SA_NOCLDSTOP, the same on amd64 and arm64
	sa.flags |= saNoCldStop
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), uintptr(unsafe.Pointer(&sa)), 0, sigsetSize, 0, 0)
}
