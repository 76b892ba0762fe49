//go:build linux

package defender

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// stageEnv marks the re-executed defender as the stage. It is removed before the program
// starts. stageFD is the read end of the pipe the parent writes once it has attached.
const (
	stageEnv = "TASKWARD_DEFENDER_STAGE"
	stageFD  = 3
)

// IsStage reports whether this process is the stage child of a supervising defender.
func IsStage() bool { return os.Getenv(stageEnv) == "1" }

// RunStage is the stage: it waits until the parent has attached with PTRACE_SEIZE, sets
// no_new_privs, installs the seccomp filter on every thread and execs the program named by
// os.Args[1] with argv os.Args[2:]. It returns only on failure, with the exit code to use.
//
// Precondition: the calling goroutine is locked to the main thread (tid == pid), which is
// the only thread the parent attached to; the exec must happen there. The cmd package
// locks it in an init function.
func RunStage() int {
	if unix.Gettid() != unix.Getpid() {
		fmt.Fprintln(os.Stderr, "taskward-defender: stage: not on the main thread")
		return 127
	}
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "taskward-defender: stage: missing program")
		return 127
	}
	// Block until the parent has attached; EOF without a byte means it gave up.
	var b [1]byte
	if n, err := unix.Read(stageFD, b[:]); n != 1 || err != nil {
		return 127
	}
	unix.Close(stageFD)
	prog, err := filterProgram()
	if err == nil {
		err = unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	}
	if err == nil {
		err = installFilter(prog)
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
