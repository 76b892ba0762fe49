//go:build linux

package defender

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// stageEnv marks the re-executed defender as the stage and names its mechanism (the value
// is the Mechanism). It is removed before the program starts. stageFD is, with Trace, the
// read end of the pipe the parent writes once it has attached; with Notify, the stage's
// end of a socket pair on which it sends the filter's listener to the parent.
const (
	stageEnv = "TASKWARD_DEFENDER_STAGE"
	stageFD  = 3
)

// stageNotifyNoKillable is the stage's mode for Notify without WAIT_KILLABLE_RECV.
const stageNotifyNoKillable = "notify-no-killable-wait"

// stageNoListener is the stage's exit status when the filter with a listener was refused
// (Notify), before the program ran: the parent may then fall back to Trace.
const stageNoListener = 122

// IsStage reports whether this process is the stage child of a supervising defender.
func IsStage() bool { return os.Getenv(stageEnv) != "" }

// RunStage is the stage: it sets no_new_privs, installs the seccomp filter and execs the
// program named by os.Args[1] with argv os.Args[2:]. With Trace it first waits until the
// parent has attached with PTRACE_SEIZE, and installs the filter on every thread. With
// Notify it creates the filter's listener and sends it to the parent before the exec,
// which is itself the first call the parent decides. It returns only on failure, with the
// exit code to use.
//
// Precondition: the calling goroutine is locked to the main thread (tid == pid), which is
// the only thread the parent attached to; the exec must happen there. The cmd package
// locks it in an init function.
func RunStage() int {
	mode := os.Getenv(stageEnv)
	mech := Trace
	if mode == string(Notify) || mode == stageNotifyNoKillable {
		mech = Notify
	}
	if unix.Gettid() != unix.Getpid() {
		fmt.Fprintln(os.Stderr, "taskward-defender: stage: not on the main thread")
		return 127
	}
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "taskward-defender: stage: missing program")
		return 127
	}
	if mech == Trace {
		// Block until the parent has attached; EOF without a byte means it gave up.
		var b [1]byte
		if n, err := unix.Read(stageFD, b[:]); n != 1 || err != nil {
			return 127
		}
		unix.Close(stageFD)
	}
	err := dropPtraceCapability()
	var prog []bpf.RawInstruction
	if err == nil {
		prog, err = filterProgram(mech)
	}
	if err == nil {
		err = unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	}
	if err == nil && mech == Trace {
		err = installFilter(prog)
	}
	if err == nil && mech == Notify {
		listener, lerr := installListenerFilter(prog, mode != stageNotifyNoKillable)
		if lerr != nil {
			fmt.Fprintf(os.Stderr, "taskward-defender: stage: install seccomp filter with a listener: %v\n", lerr)
			return stageNoListener
		}
		// The parent holds the only listener from here on; ours is closed on exec (the
		// kernel creates it O_CLOEXEC) and closed now in case the exec fails.
		err = unix.Sendmsg(stageFD, []byte{1}, unix.UnixRights(listener), nil, 0)
		unix.Close(listener)
		unix.Close(stageFD)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "taskward-defender: stage: install seccomp filter: %v\n", err)
		return 127
	}
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, stageEnv+"=") {
			env = append(env, kv)
		}
	}
	err = syscall.Exec(os.Args[1], os.Args[2:], env)
	// Like a shell: 126 when the program exists but cannot run (EACCES: the policy
	// blocked it), 127 when it is not found.
	fmt.Fprintf(os.Stderr, "taskward-defender: %s: %v\n", os.Args[1], err)
	if err == syscall.ENOENT {
		return 127
	}
	return 126
}

// dropPtraceCapability removes CAP_SYS_PTRACE from the program, from every set: ECS grants
// it to the container for the defender (render adds it), but the program has no use for
// it (the filter refuses ptrace and cross-process memory calls anyway), and with it a root
// program could reach the defender through /proc and pidfd_getfd (its memory, its
// environment, its listener) even though the defender is not dumpable. no_new_privs, set
// next, keeps any exec from giving it back. The bounding set can only be changed with
// CAP_SETPCAP (a root task has it by default); without it the other sets are enough.
func dropPtraceCapability() error {
	const ptraceCap = unix.CAP_SYS_PTRACE
	// Ambient must go first: the kernel clears it anyway when permitted or inheritable lose
	// the capability, but an old kernel without ambient capabilities answers EINVAL.
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_LOWER, ptraceCap, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("drop ambient CAP_SYS_PTRACE: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAPBSET_DROP, ptraceCap, 0, 0, 0); err != nil && err != unix.EPERM && err != unix.EINVAL {
		return fmt.Errorf("drop CAP_SYS_PTRACE from the bounding set: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // version 3: capabilities 0-31, then 32-63
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	bit := uint32(1) << ptraceCap // < 32: in data[0]
	if (data[0].Effective|data[0].Permitted|data[0].Inheritable)&bit == 0 {
		return nil
	}
	data[0].Effective &^= bit
	data[0].Permitted &^= bit
	data[0].Inheritable &^= bit
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("drop CAP_SYS_PTRACE: %w", err)
	}
	return nil
}
