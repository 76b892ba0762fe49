package defender

import "golang.org/x/sys/unix"

// syscallRegs reads the system call number and arguments of a tracee in a seccomp stop.
// On arm64 the arguments are x0..x5 (NT_PRSTATUS) and the number is read through the
// NT_ARM_SYSTEM_CALL register set: x8 holds it too, but only NT_ARM_SYSTEM_CALL can change
// it, so both directions use the same source. Precondition: called on the tracer thread.
func syscallRegs(tid int) (nr int, args [6]uint64, err error) {
	var r unix.PtraceRegsArm64
	if err := unix.PtraceGetRegSetArm64(tid, int(unix.NT_PRSTATUS), &r); err != nil {
		return 0, args, err
	}
	n, err := getSyscallNr(tid)
	if err != nil {
		return 0, args, err
	}
	return int(n), [6]uint64{r.Regs[0], r.Regs[1], r.Regs[2], r.Regs[3], r.Regs[4], r.Regs[5]}, nil
}

// denySyscall makes the stopped system call fail with errno without running: the number
// is set to -1 (NO_SYSCALL, the kernel then skips the call) and x0, the return register,
// to -errno. arm64 sets x0 to -ENOSYS before tracing only for a user-issued syscall(-1),
// so the tracer's value is what the caller sees. Precondition: tid is in a
// PTRACE_EVENT_SECCOMP stop; tracer thread.
func denySyscall(tid int, errno unix.Errno) error {
	var r unix.PtraceRegsArm64
	if err := unix.PtraceGetRegSetArm64(tid, int(unix.NT_PRSTATUS), &r); err != nil {
		return err
	}
	r.Regs[0] = uint64(-int64(errno))
	if err := unix.PtraceSetRegSetArm64(tid, int(unix.NT_PRSTATUS), &r); err != nil {
		return err
	}
	return setSyscallNr(tid, -1)
}

// stackPointer reads the stack pointer of a stopped tracee (sp, NT_PRSTATUS). At
// PTRACE_EVENT_EXEC it points at the new image's argc. Precondition: called on the tracer
// thread.
func stackPointer(tid int) (uint64, error) {
	var r unix.PtraceRegsArm64
	if err := unix.PtraceGetRegSetArm64(tid, int(unix.NT_PRSTATUS), &r); err != nil {
		return 0, err
	}
	return r.Sp, nil
}

// entryTrap is the instruction planted at a program's entry to stop it there (BRK #0,
// little-endian).
var entryTrap = []byte{0x00, 0x00, 0x20, 0xd4}

// rewindTrap reports whether tid, in a SIGTRAP signal-delivery stop, trapped on an
// entryTrap planted at addr (BRK leaves pc on it, so there is nothing to rewind).
// Precondition: called on the tracer thread.
func rewindTrap(tid int, addr uint64) bool {
	var r unix.PtraceRegsArm64
	return unix.PtraceGetRegSetArm64(tid, int(unix.NT_PRSTATUS), &r) == nil && r.Pc == addr
}
