//go:build linux

package defender

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// ignoreSyncSignals keeps the program from killing the defender with a signal the Go
// runtime treats as a fault of its own. SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS,
// SIGSTKFLT and SIGABRT crash a Go program (a goroutine dump, exit 2: the task stops)
// unless the program asked for them with signal.Notify; as PID 1 of its namespace the
// defender gets them from kill(1, SIGSEGV) although SIGKILL cannot reach it. With Notify,
// the runtime hands over every such signal that kill or tgkill sent (si_code SI_USER or
// SI_TKILL), and they are drained here, noted once each on stderr. Real faults, whose
// si_code the kernel sets, still panic as they should. signal.Ignore would not do: for all
// but SIGABRT it keeps the runtime's handler, which ignores only what kill or tgkill sent.
// No handler can tell a forged si_code (rt_sigqueueinfo, SI_QUEUE; F_SETSIG, SI_SIGIO)
// from a fault: the filter refuses those calls instead (syncSignalNumbers). Every other
// signal is harmless to the runtime or forwarded to the program (ForwardedSignals);
// TestEverySignalToTheDefender sends them all.
func ignoreSyncSignals() {
	c := make(chan os.Signal, 8)
	sigs := make([]os.Signal, len(syncSignalNumbers))
	for i, n := range syncSignalNumbers {
		sigs[i] = syscall.Signal(n)
	}
	signal.Notify(c, sigs...)
	go func() {
		noted := map[os.Signal]bool{}
		for sig := range c {
			if !noted[sig] {
				noted[sig] = true
				// On a fresh line: the program shares stderr (see Reporter).
				fmt.Fprintf(os.Stderr, "\ntaskward-defender: ignored %v sent to the defender by a process\n", sig)
			}
		}
	}()
}
