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

// archTimesArgs: arm64 has only utimensat (see timesArgs).
func archTimesArgs(nr int) (pathArg, timesArg int, dirfd, flags bool, enc timesEncoding, ok bool) {
	return 0, 0, false, false, 0, false
}

// timesCalls are the calls that set a file's times on arm64 (see times_linux.go).
var timesCalls = []int{unix.SYS_UTIMENSAT}

// archPathArgs: arm64 has only the *at forms of open and readlink (see scriptwatch_linux.go).
func archPathArgs(nr int) (kind watchedCall, pathArg int, ok bool) { return 0, 0, false }
