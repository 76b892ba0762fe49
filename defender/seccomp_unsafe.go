//go:build linux

package defender

import (
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// installFilter installs prog for every thread of the calling process
// (SECCOMP_FILTER_FLAG_TSYNC). Precondition: no_new_privs is set, or the caller has
// CAP_SYS_ADMIN.
func installFilter(prog []bpf.RawInstruction) error {
	// With TSYNC, a positive return value is the id of a thread that could not be synced.
	r, err := seccompSetFilter(prog, unix.SECCOMP_FILTER_FLAG_TSYNC)
	if err == nil && r != 0 {
		return unix.EBUSY
	}
	return err
}

// installListenerFilter installs prog with a user-notification listener and returns the
// listener's descriptor (close-on-exec). Precondition as for installFilter.
//
// The flags are tried from the best set down, for older kernels:
//   - WAIT_KILLABLE_RECV (Linux 5.19): once the defender has received a notification, only
//     a fatal signal interrupts the caller's wait. Otherwise any signal does (the Go
//     runtime's preemption signal, for one), and the call is restarted and decided again.
//   - TSYNC with NEW_LISTENER needs TSYNC_ESRCH (Linux 5.7). Without it the filter goes on
//     the calling thread only, which is enough for the stage: its other threads run only
//     the defender's own code, and the exec that follows, from this thread, ends them.
//
// Without killable, WAIT_KILLABLE_RECV is not tried: the behaviour of kernels before 5.19,
// for tests (Config.NotifyWithoutKillableWait).
func installListenerFilter(prog []bpf.RawInstruction, killableWait bool) (int, error) {
	const (
		listener = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		tsync    = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		killable = unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	)
	var r uintptr
	var err error
	for _, flags := range []uintptr{listener | tsync | killable, listener | tsync, listener} {
		if !killableWait && flags&killable != 0 {
			continue
		}
		if r, err = seccompSetFilter(prog, flags); err != unix.EINVAL {
			break
		}
	}
	return int(r), err
}

func seccompSetFilter(prog []bpf.RawInstruction, flags uintptr) (uintptr, error) {
	if len(prog) == 0 {
		return 0, unix.EINVAL
	}
	fprog := unix.SockFprog{
		Len:    uint16(len(prog)),
		Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0])),
	}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return 0, errno
	}
	return r, nil
}

// seccompActionAvail asks the kernel whether it knows the filter return action
// (SECCOMP_GET_ACTION_AVAIL).
func seccompActionAvail(action uint32) error {
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&action))); errno != 0 {
		return errno
	}
	return nil
}
