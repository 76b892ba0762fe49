//go:build linux

package defender

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mechanism is how the defender gets to decide each exec.
type Mechanism string

const (
	// Auto picks Notify when the defender is PID 1 of its PID namespace and the kernel has
	// what Notify needs, and Trace otherwise.
	Auto Mechanism = "auto"
	// Trace is DESIGN.md decision 4 as written: every process of the tree is traced from
	// its first instruction (PTRACE_SEIZE with TRACEFORK/VFORK/CLONE, TRACESECCOMP,
	// TRACEEXEC, EXITKILL), and each exec call stops in the tracer. A fork+exec costs five
	// ptrace stops (fork event, the child's first stop, the seccomp stop, the exec event,
	// the exit), each a round trip through the defender.
	Trace Mechanism = "trace"
	// Notify hands exec calls to the defender through a seccomp user-notification listener
	// (SECCOMP_RET_USER_NOTIF): forks and exits cost nothing. The EXEC-time re-check of
	// decision 4 is kept by attaching to the caller only for the exec it was allowed: the
	// defender seizes it with TRACEEXEC, lets the call continue, checks at
	// PTRACE_EVENT_EXEC and detaches. Two round trips per fork+exec instead of five.
	//
	// What it gives up is EXITKILL for the whole tree: processes are not traced between
	// execs. As PID 1 of a PID namespace that costs nothing, since the kernel kills the
	// namespace when its init dies and keeps SIGKILL from inside away from init (the
	// signals Go takes for faults are drained: ignoreSyncSignals); elsewhere, if the
	// defender is killed, the program dies with it (PR_SET_PDEATHSIG) and every other
	// process keeps running but can never exec again (the listener is gone: ENOSYS).
	// That is why Auto uses it only as PID 1.
	Notify Mechanism = "notify"
)

// ParseMechanism reads a --mechanism value.
func ParseMechanism(s string) (Mechanism, error) {
	switch m := Mechanism(s); m {
	case Auto, Trace, Notify:
		return m, nil
	}
	return "", fmt.Errorf("unknown mechanism %q: use auto, notify or trace", s)
}

// ChooseMechanism resolves Auto for this process and kernel, and refuses Notify where the
// kernel lacks it.
func ChooseMechanism(m Mechanism) (Mechanism, error) {
	if m == Trace {
		return Trace, nil
	}
	ok, why := notifySupported()
	switch m {
	case Notify:
		if !ok {
			return "", fmt.Errorf("mechanism notify: %s (use --mechanism trace)", why)
		}
		return Notify, nil
	}
	if ok && os.Getpid() == 1 {
		return Notify, nil
	}
	return Trace, nil
}

// notifySupported reports whether the kernel offers everything Notify uses: the
// RET_USER_NOTIF action (Linux 5.0) and SECCOMP_USER_NOTIF_FLAG_CONTINUE (5.5, which
// cannot be probed without a live notification, so the release is read).
func notifySupported() (bool, string) {
	if err := seccompActionAvail(unix.SECCOMP_RET_USER_NOTIF); err != nil {
		return false, "the kernel has no seccomp user notification (" + err.Error() + ")"
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return false, "uname: " + err.Error()
	}
	rel := unix.ByteSliceToString(uts.Release[:])
	if !kernelAtLeast(rel, 5, 5) {
		return false, "kernel " + rel + " is older than 5.5 (no SECCOMP_USER_NOTIF_FLAG_CONTINUE)"
	}
	return true, ""
}

// kernelAtLeast compares a release string such as "6.1.102-111.182.amzn2023.x86_64".
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	digits := func(s string) string {
		if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			return s[:i]
		}
		return s
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(digits(parts[1]))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
