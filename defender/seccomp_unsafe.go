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
	if len(prog) == 0 {
		return unix.EINVAL
	}
	fprog := unix.SockFprog{
		Len:    uint16(len(prog)),
		Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0])),
	}
	// With TSYNC, a positive return value is the id of a thread that could not be synced.
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return errno
	}
	if r != 0 {
		return unix.EBUSY
	}
	return nil
}
