package defender

import (
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

const auditArch = unix.AUDIT_ARCH_X86_64

// x32Bit marks x32 system calls: they share AUDIT_ARCH_X86_64 but are numbered from
// __X32_SYSCALL_BIT, and execve has its own x32 number (520), which the execve rule would
// not see.
const x32Bit = 0x40000000

func archRules() []bpf.Instruction {
	return []bpf.Instruction{
		bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: x32Bit, SkipFalse: 1},
		bpf.RetConstant{Val: retKill},
	}
}
