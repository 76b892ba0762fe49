package defender

import (
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// auditArch is AArch64; 32-bit ARM (compat) system calls report AUDIT_ARCH_ARM and are
// killed by the arch check.
const auditArch = unix.AUDIT_ARCH_AARCH64

// archRules has nothing to add on arm64: there is no x32-like ABI sharing the audit arch.
func archRules() []bpf.Instruction { return nil }
