//go:build linux

package defender

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// landlockCreateRuleset is landlock_create_ruleset(2), the same number on every arch.
const landlockCreateRuleset = 444

// Check prints what this kernel offers the defender.
func Check(w io.Writer) {
	status, _ := procStatus("self")
	field := func(name string) string {
		if v, ok := status[name]; ok {
			return v
		}
		return "?"
	}
	seccomp := "unavailable"
	if _, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err == nil {
		seccomp = "available (mode " + field("Seccomp") + ", filters " + field("Seccomp_filters") + ")"
	}
	scope := "yama absent (classic ptrace permissions)"
	if b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil {
		scope = strings.TrimSpace(string(b))
	}
	landlock := "unavailable"
	if v, _, errno := unix.Syscall(landlockCreateRuleset, 0, 0, 1 /* LANDLOCK_CREATE_RULESET_VERSION */); errno == 0 {
		landlock = fmt.Sprintf("ABI %d", v)
	} else if errno == unix.EOPNOTSUPP {
		landlock = "built in, disabled at boot"
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	fmt.Fprintf(w, "kernel: %s %s\n", unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:]))
	fmt.Fprintf(w, "seccomp: %s\n", seccomp)
	fmt.Fprintf(w, "ptrace scope: %s\n", scope)
	fmt.Fprintf(w, "landlock: %s\n", landlock)
	fmt.Fprintf(w, "pid 1: %v (pid %d)\n", os.Getpid() == 1, os.Getpid())
	notify := "available"
	if ok, why := notifySupported(); !ok {
		notify = "unavailable: " + why
	}
	fmt.Fprintf(w, "seccomp user notification: %s\n", notify)
	m, _ := ChooseMechanism(Auto)
	fmt.Fprintf(w, "mechanism (auto): %s\n", m)
	fmt.Fprintf(w, "no_new_privs: %s\n", field("NoNewPrivs"))
	fmt.Fprintf(w, "effective capabilities: %s\n", field("CapEff"))
	fmt.Fprintf(w, "uid: %d\n", os.Getuid())
}
