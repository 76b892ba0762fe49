package defender

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// getSyscallNr reads NT_ARM_SYSTEM_CALL, a 4-byte register set holding the number of the
// system call the tracee is stopped in.
func getSyscallNr(tid int) (int32, error) {
	var nr int32
	iov := unix.Iovec{Base: (*byte)(unsafe.Pointer(&nr)), Len: uint64(unsafe.Sizeof(nr))}
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET, uintptr(tid), unix.NT_ARM_SYSTEM_CALL, uintptr(unsafe.Pointer(&iov)), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return nr, nil
}

// setSyscallNr changes the number of the system call the tracee is stopped in.
func setSyscallNr(tid int, nr int32) error {
	iov := unix.Iovec{Base: (*byte)(unsafe.Pointer(&nr)), Len: uint64(unsafe.Sizeof(nr))}
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SETREGSET, uintptr(tid), unix.NT_ARM_SYSTEM_CALL, uintptr(unsafe.Pointer(&iov)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
