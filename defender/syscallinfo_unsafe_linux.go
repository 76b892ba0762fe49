//go:build linux

package defender

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// syscallInfo is what PTRACE_GET_SYSCALL_INFO (Linux 5.3) says of a tracee in a
// syscall-entry or syscall-exit stop (struct ptrace_syscall_info, linux/ptrace.h).
type syscallInfo struct {
	op    uint8  // unix.PTRACE_SYSCALL_INFO_ENTRY, _EXIT, _SECCOMP or _NONE
	ip    uint64 // the instruction pointer: where in the program the call was made
	nr    int
	args  [6]uint64
	rval  int64 // the return value at exit: -errno when isErr
	isErr bool
}

// getSyscallInfo reads the syscall stop of tid. Precondition: tracer thread, tid stopped.
func getSyscallInfo(tid int) (syscallInfo, error) {
	// op u8, pad[3], arch u32, instruction_pointer u64, stack_pointer u64, then the
	// union: entry {nr u64, args [6]u64} or exit {rval s64, is_error u8}.
	var buf [88]byte
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid), uintptr(len(buf)), uintptr(unsafe.Pointer(&buf[0])), 0, 0)
	if errno != 0 {
		return syscallInfo{}, errno
	}
	le := binary.LittleEndian
	si := syscallInfo{op: buf[0], ip: le.Uint64(buf[8:])}
	u := buf[24:]
	switch si.op {
	case unix.PTRACE_SYSCALL_INFO_ENTRY, unix.PTRACE_SYSCALL_INFO_SECCOMP:
		si.nr = int(le.Uint64(u))
		for i := range si.args {
			si.args[i] = le.Uint64(u[8+8*i:])
		}
	case unix.PTRACE_SYSCALL_INFO_EXIT:
		si.rval, si.isErr = int64(le.Uint64(u)), u[8] != 0
	}
	return si, nil
}
