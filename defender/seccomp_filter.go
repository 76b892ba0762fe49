//go:build linux

package defender

import (
	"fmt"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Offsets into struct seccomp_data (linux/seccomp.h): int nr; __u32 arch; __u64
// instruction_pointer; __u64 args[6]. Arguments are read as their low 32 bits, which on
// the little-endian architectures we support (amd64, arm64) are at the argument's offset.
const (
	offNR   = 0
	offArch = 4
	offArg0 = 16
)

func offArg(i int) uint32 { return offArg0 + 8*uint32(i) }

// Return values of the filter.
const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retTrace = unix.SECCOMP_RET_TRACE
	retNotif = unix.SECCOMP_RET_USER_NOTIF
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
)

func retErrno(errno unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(errno) }

// Data carried by RET_TRACE (SECCOMP_RET_DATA, read with PTRACE_GETEVENTMSG at the stop):
// it tells the tracer which rule sent the syscall to it. Attack-only syscalls go to the
// tracer too, rather than failing in the filter, so that every refusal is reported; they
// are rare in real programs, so the context switch costs nothing in practice.
const (
	traceExec         = 1 // execve, execveat: decide with the policy
	traceCloneUntrace = 2 // clone(CLONE_UNTRACED): refuse with EPERM and report
	tracePtrace       = 3 // ptrace: refuse with EPERM and report
	traceProcessVM    = 4 // process_vm_readv/writev: refuse with EPERM and report
	traceListener     = 5 // seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER): refuse and report
	traceRootChange   = 6 // chroot, pivot_root, setns, unshare/clone(CLONE_NEWNS): allow, note
	traceSyncSignal   = 7 // a synchronous signal with a forged si_code: refuse and report
	traceTimes        = 8 // utimensat and friends: clamp so that no mtime goes before the baseline
	traceUserNS       = 9 // unshare/clone(CLONE_NEWUSER): refuse with EPERM and report
)

// classify is the one dispatch of both mechanisms on a system call the filter handed to
// the defender: it returns the datum of the filter rule that sent it (RET_TRACE carries it
// under Trace; RET_USER_NOTIF carries none, and reading it under Trace would cost a
// PTRACE_GETEVENTMSG per exec, so both recompute it from the number and first argument,
// in the filter's order). TestClassifyAgreesWithFilter runs the filter on each case to
// keep the two in step. Anything else (0) can only come from a filter of the program's own
// and is refused, reported as "seccomp": a program's filter can neither turn an exec into
// an undecided call nor a refused call into an allowed one.
func classify(nr int, args [6]uint64) uint {
	if isTimesCall(nr) {
		return traceTimes
	}
	flags := args[0]
	switch nr {
	case unix.SYS_EXECVE, unix.SYS_EXECVEAT:
		return traceExec
	case unix.SYS_CHROOT, unix.SYS_PIVOT_ROOT, unix.SYS_SETNS:
		return traceRootChange
	case unix.SYS_UNSHARE:
		switch {
		case flags&unix.CLONE_NEWUSER != 0:
			return traceUserNS
		case flags&unix.CLONE_NEWNS != 0:
			return traceRootChange
		}
	case unix.SYS_CLONE:
		switch {
		case flags&unix.CLONE_UNTRACED != 0:
			return traceCloneUntrace
		case flags&unix.CLONE_NEWUSER != 0:
			return traceUserNS
		case flags&unix.CLONE_NEWNS != 0:
			return traceRootChange
		}
	case unix.SYS_PTRACE:
		return tracePtrace
	case unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV:
		return traceProcessVM
	case unix.SYS_SECCOMP:
		return traceListener
	case unix.SYS_RT_SIGQUEUEINFO, unix.SYS_RT_TGSIGQUEUEINFO, unix.SYS_PIDFD_SEND_SIGNAL, unix.SYS_FCNTL:
		return traceSyncSignal
	}
	return 0
}

// refusedSyscalls names the rule of each refusal-only trace datum, for events.
var refusedSyscalls = map[uint]string{
	traceCloneUntrace: "seccomp.cloneUntraced",
	tracePtrace:       "seccomp.ptrace",
	traceProcessVM:    "seccomp.processVM",
	traceListener:     "seccomp.userNotif",
	traceSyncSignal:   "seccomp.syncSignal",
	traceUserNS:       "seccomp.userNamespace",
}

// syncSignalNumbers are the signals the Go runtime takes for a fault of its own (SIGSEGV,
// SIGBUS, SIGFPE: a panic; SIGILL, SIGTRAP, SIGSYS, SIGSTKFLT: a crash; SIGABRT) unless
// their si_code says they were sent by kill or tgkill (runtime/signal_unix.go, sighandler;
// runtime/os_linux.go, sigFromUser). The defender drains those (ignoreSyncSignals); the
// filter refuses every other way to send them.
var syncSignalNumbers = []uint32{uint32(unix.SIGSEGV), uint32(unix.SIGBUS), uint32(unix.SIGFPE), uint32(unix.SIGILL), uint32(unix.SIGTRAP), uint32(unix.SIGSYS), uint32(unix.SIGABRT), uint32(unix.SIGSTKFLT)}

// filterProgram returns the seccomp filter installed in the stage, for this architecture
// and mechanism. Each rule is a self-contained block of instructions with relative jumps
// only, so the program reads top to bottom like the list of attacks it stops.
//
// The rules are the same for both mechanisms; only the hand-off differs. With Trace, a
// call that needs the defender stops in the tracer (RET_TRACE, with a datum naming the
// rule); with Notify it waits on the defender's listener (RET_USER_NOTIF, which carries
// no datum: the defender dispatches on the syscall number, as the tracer does too). In
// both cases the kernel answers ENOSYS when the defender is gone, so nothing is allowed
// by default.
func filterProgram(m Mechanism) ([]bpf.RawInstruction, error) {
	handoff := uint32(retTrace)
	if m == Notify {
		handoff = retNotif
	}
	var p []bpf.Instruction
	// Only this architecture's system call table: a 64-bit process can still make i386
	// (int 0x80) or x32 system calls, whose numbers differ, to walk around a rule that
	// names syscalls by number. Any foreign-ABI call kills the process.
	p = append(p,
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: auditArch, SkipTrue: 1},
		bpf.RetConstant{Val: retKill},
		bpf.LoadAbsolute{Off: offNR, Size: 4},
	)
	p = append(p, archRules()...)

	// The enforcement point: every program start stops in the defender, which decides it
	// with the policy. Without a tracer attached (Trace) or a listener (Notify) the kernel
	// answers ENOSYS.
	p = append(p, onSyscall(unix.SYS_EXECVE, handoff|traceExec)...)
	p = append(p, onSyscall(unix.SYS_EXECVEAT, handoff|traceExec)...)

	// clone(CLONE_UNTRACED) would start a child the tracer is not attached to; it would
	// still be under the filter (so it could not exec), but it would escape the tracer's
	// bookkeeping. Refuse the flag; ordinary fork, vfork, pthread_create and clone pass.
	// Without a tracer, RET_TRACE fails these with ENOSYS, which is a refusal too.
	// clone(CLONE_NEWNS) goes to the tracer too, to be allowed and noted (below).
	p = append(p, onFirstArgFlags(unix.SYS_CLONE, handoff,
		flagRule{unix.CLONE_UNTRACED, traceCloneUntrace}, flagRule{unix.CLONE_NEWUSER, traceUserNS}, flagRule{unix.CLONE_NEWNS, traceRootChange})...)
	// clone3 passes its flags in memory, which a filter cannot read, so CLONE_UNTRACED
	// could hide there. ENOSYS makes glibc and musl fall back to clone.
	p = append(p, onSyscall(unix.SYS_CLONE3, retErrno(unix.ENOSYS))...)
	// A process that can ptrace another (a sibling, or a child started before it could be
	// attached) can rewrite its registers after the defender's check and exec anything.
	p = append(p, onSyscall(unix.SYS_PTRACE, handoff|tracePtrace)...)
	// Cross-process memory writes do the same without ptrace: rewrite a sibling's exec
	// path or argv between the defender's check and the kernel's read.
	p = append(p, onSyscall(unix.SYS_PROCESS_VM_WRITEV, handoff|traceProcessVM)...)
	p = append(p, onSyscall(unix.SYS_PROCESS_VM_READV, handoff|traceProcessVM)...)
	// io_uring runs operations from kernel workers that seccomp does not see; ENOSYS
	// makes runtimes that probe for it fall back to ordinary syscalls.
	p = append(p, onSyscall(unix.SYS_IO_URING_SETUP, retErrno(unix.ENOSYS))...)
	p = append(p, onSyscall(unix.SYS_IO_URING_ENTER, retErrno(unix.ENOSYS))...)
	p = append(p, onSyscall(unix.SYS_IO_URING_REGISTER, retErrno(unix.ENOSYS))...)
	// A filter of the tracee's own that returns SECCOMP_RET_USER_NOTIF for execve would
	// win over our RET_TRACE (USER_NOTIF has precedence) and, being newer, over our own
	// RET_USER_NOTIF; its supervisor could let the exec continue unchecked. Refuse
	// creating such a listener.
	p = append(p, onSyscallArgFlag(unix.SYS_SECCOMP, 1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, handoff|traceListener)...)

	// A synchronous signal with an si_code of the sender's choosing (rt_sigqueueinfo,
	// rt_tgsigqueueinfo and pidfd_send_signal take a siginfo; SI_QUEUE is allowed to other
	// processes) or sent by the kernel for a pipe or socket the caller owns (F_SETSIG; the
	// code is then SI_SIGIO) is a fault to the Go runtime: the defender, PID 1, would crash
	// and the task with it. kill and tgkill stay allowed: the defender drains what they send.
	p = append(p, onArgIn(unix.SYS_RT_SIGQUEUEINFO, -1, 0, 1, syncSignalNumbers, handoff|traceSyncSignal)...)
	p = append(p, onArgIn(unix.SYS_RT_TGSIGQUEUEINFO, -1, 0, 2, syncSignalNumbers, handoff|traceSyncSignal)...)
	p = append(p, onArgIn(unix.SYS_PIDFD_SEND_SIGNAL, -1, 0, 1, syncSignalNumbers, handoff|traceSyncSignal)...)
	p = append(p, onArgIn(unix.SYS_FCNTL, 1, unix.F_SETSIG, 2, syncSignalNumbers, handoff|traceSyncSignal)...)

	// The tracer resolves programs relative to its own root, without going through
	// /proc/PID/root, as long as every tracee has the root and mount namespace it was
	// started with (the defender's). These calls are the only ways to change either; they
	// stop in the tracer, which allows them and from then on resolves through
	// /proc/PID/root for every exec. Without a tracer they fail with ENOSYS.
	p = append(p, onSyscall(unix.SYS_CHROOT, handoff|traceRootChange)...)
	p = append(p, onSyscall(unix.SYS_PIVOT_ROOT, handoff|traceRootChange)...)
	p = append(p, onSyscall(unix.SYS_SETNS, handoff|traceRootChange)...)
	// A new user namespace gives the caller every capability inside it: with a mount
	// namespace it can then bind-mount a dropped file over an image program, which keeps
	// the image program's name, so name rules see an innocent name. Docker's default
	// seccomp profile refuses it too (without CAP_SYS_ADMIN). clone3 is refused above.
	p = append(p, onFirstArgFlags(unix.SYS_UNSHARE, handoff,
		flagRule{unix.CLONE_NEWUSER, traceUserNS}, flagRule{unix.CLONE_NEWNS, traceRootChange})...)

	// Setting a file's times is the only way to give new content an old mtime, which is
	// drift's evidence (drift_linux.go): every such call goes to the defender, which clamps
	// the times and makes the call itself (times_linux.go).
	for _, nr := range timesCalls {
		p = append(p, onSyscall(nr, handoff|traceTimes)...)
	}

	p = append(p, bpf.RetConstant{Val: retAllow})
	raw, err := bpf.Assemble(p)
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp filter: %w", err)
	}
	return raw, nil
}

// onSyscall returns ret when the syscall number (in the accumulator) is nr.
// Precondition: the accumulator holds seccomp_data.nr.
func onSyscall(nr int, ret uint32) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr), SkipFalse: 1},
		bpf.RetConstant{Val: ret},
	}
}

// flagRule sends a call to the defender with datum when its first argument has any bit of
// flags.
type flagRule struct{ flags, datum uint32 }

// onFirstArgFlags returns handoff|datum of the first rule whose flags the first argument
// of syscall nr has, and allows nr otherwise. Precondition: the accumulator holds
// seccomp_data.nr; like onSyscallArgFlag, the nr branch always returns.
func onFirstArgFlags(nr int, handoff uint32, rules ...flagRule) []bpf.Instruction {
	body := []bpf.Instruction{bpf.LoadAbsolute{Off: offArg(0), Size: 4}}
	for _, r := range rules {
		body = append(body,
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: r.flags, SkipFalse: 1},
			bpf.RetConstant{Val: handoff | r.datum})
	}
	body = append(body, bpf.RetConstant{Val: retAllow})
	return append([]bpf.Instruction{bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr), SkipFalse: uint8(len(body))}}, body...)
}

// onSyscallArgFlag returns ret when the syscall is nr and argument arg has any bit of flag
// set, and allows nr otherwise. The accumulator is reloaded only inside the nr branch, which
// always returns, so later rules still see the syscall number.
func onSyscallArgFlag(nr, arg int, flag uint32, ret uint32) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr), SkipFalse: 4},
		bpf.LoadAbsolute{Off: offArg(arg), Size: 4},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: flag, SkipFalse: 1},
		bpf.RetConstant{Val: ret},
		bpf.RetConstant{Val: retAllow},
	}
}

// onArgIn returns ret when the syscall is nr, argument arg (its low 32 bits, which is what
// the kernel reads of an int) is one of vals and, when cmdArg >= 0, argument cmdArg is cmd;
// it allows nr otherwise. Like onSyscallArgFlag, the nr branch always returns.
func onArgIn(nr, cmdArg int, cmd uint32, arg int, vals []uint32, ret uint32) []bpf.Instruction {
	var body []bpf.Instruction
	if cmdArg >= 0 {
		body = append(body,
			bpf.LoadAbsolute{Off: offArg(cmdArg), Size: 4},
			// Not cmd: on to the allow at the end, past the load and the comparisons.
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: cmd, SkipFalse: uint8(1 + len(vals))})
	}
	body = append(body, bpf.LoadAbsolute{Off: offArg(arg), Size: 4})
	for i, v := range vals {
		body = append(body, bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipTrue: uint8(len(vals) - i)})
	}
	body = append(body, bpf.RetConstant{Val: retAllow}, bpf.RetConstant{Val: ret})
	return append([]bpf.Instruction{bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr), SkipFalse: uint8(len(body))}}, body...)
}
