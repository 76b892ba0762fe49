package defender

import "golang.org/x/sys/unix"

// syscallRegs reads the system call number and arguments of a tracee in a seccomp stop.
// On x86_64 the number is in orig_rax (rax is overwritten with -ENOSYS on entry) and the
// arguments in rdi, rsi, rdx, r10, r8, r9. Precondition: called on the tracer thread.
func syscallRegs(tid int) (nr int, args [6]uint64, err error) {
	var r unix.PtraceRegs
	if err := unix.PtraceGetRegs(tid, &r); err != nil {
		return 0, args, err
	}
	return int(int64(r.Orig_rax)), [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9}, nil
}

// denySyscall makes the stopped system call fail with errno without running: at a seccomp
// stop the kernel re-reads orig_rax after the tracer resumes, skips the call when it is -1,
// and returns rax to the caller (Documentation/userspace-api/seccomp_filter.rst,
// SECCOMP_RET_TRACE). Precondition: tid is in a PTRACE_EVENT_SECCOMP stop; tracer thread.
func denySyscall(tid int, errno unix.Errno) error {
	var r unix.PtraceRegs
	if err := unix.PtraceGetRegs(tid, &r); err != nil {
		return err
	}
	r.Orig_rax = ^uint64(0)
	r.Rax = uint64(-int64(errno))
	return unix.PtraceSetRegs(tid, &r)
}

// entryTrap is the instruction planted at a program's entry to stop it there (int3).
var entryTrap = []byte{0xcc}

// rewindTrap reports whether tid, in a SIGTRAP signal-delivery stop, trapped on an
// entryTrap planted at addr (int3 leaves rip past it), and then sets rip back to addr.
// Precondition: called on the tracer thread.
func rewindTrap(tid int, addr uint64) bool {
	var r unix.PtraceRegs
	if unix.PtraceGetRegs(tid, &r) != nil || r.Rip != addr+1 {
		return false
	}
	r.Rip = addr
	return unix.PtraceSetRegs(tid, &r) == nil
}

// stackPointer reads the stack pointer of a stopped tracee (rsp). At PTRACE_EVENT_EXEC it
// points at the new image's argc. Precondition: called on the tracer thread.
func stackPointer(tid int) (uint64, error) {
	var r unix.PtraceRegs
	if err := unix.PtraceGetRegs(tid, &r); err != nil {
		return 0, err
	}
	return r.Rsp, nil
}
