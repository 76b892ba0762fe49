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

// archTimesArgs describes amd64's older time-setting calls (see timesArgs).
func archTimesArgs(nr int) (pathArg, timesArg int, dirfd, flags bool, enc timesEncoding, ok bool) {
	switch nr {
	case unix.SYS_FUTIMESAT:
		return 1, 2, true, false, encTimeval, true
	case unix.SYS_UTIMES:
		return 0, 1, false, false, encTimeval, true
	case unix.SYS_UTIME:
		return 0, 1, false, false, encUtimbuf, true
	}
	return 0, 0, false, false, 0, false
}

// timesCalls are the calls that set a file's times on amd64 (see times_linux.go).
var timesCalls = []int{unix.SYS_UTIMENSAT, unix.SYS_FUTIMESAT, unix.SYS_UTIMES, unix.SYS_UTIME}

// archPathArgs describes amd64's calls without a directory argument that open or read a
// link by name (see scriptwatch_linux.go): open(path, ...) and readlink(path, buf, size).
func archPathArgs(nr int) (kind watchedCall, pathArg int, ok bool) {
	switch nr {
	case unix.SYS_OPEN:
		return callOpen, 0, true
	case unix.SYS_READLINK:
		return callReadlink, 0, true
	}
	return 0, 0, false
}
