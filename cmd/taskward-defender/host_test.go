//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/defender"
)

// threadExecEnv makes this test binary, run under the defender by TestExecFromThread,
// exec /bin/echo from a thread other than its main thread, and nothing else.
const threadExecEnv = "TASKWARD_TEST_THREAD_EXEC"

func init() {
	if os.Getenv(threadExecEnv) != "1" {
		return
	}
	runtime.LockOSThread() // keeps the main goroutine, and so no other, on the main thread
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		if syscall.Gettid() == os.Getpid() {
			done <- fmt.Errorf("on the main thread")
			return
		}
		done <- syscall.Exec("/bin/echo", []string{"echo", "EXEC-FROM-THREAD-OK"}, nil)
	}()
	fmt.Println("exec from a thread failed:", <-done)
	os.Exit(3)
}

// signalStormEnv makes this test binary, run under the defender by TestExecUnderSignals,
// exec /bin/echo from its main thread while another thread keeps signalling that thread.
const signalStormEnv = "TASKWARD_TEST_SIGNAL_STORM"

func init() {
	if os.Getenv(signalStormEnv) != "1" {
		return
	}
	runtime.LockOSThread()
	sigs := make(chan os.Signal, 64)
	// Handled here, so every signal interrupts a wait; ignored by default, so one still
	// pending when the exec completes does not kill the new program.
	signal.Notify(sigs, syscall.SIGWINCH)
	go func() {
		for range sigs {
		}
	}()
	pid, tid := os.Getpid(), syscall.Gettid()
	go func() {
		for {
			syscall.Tgkill(pid, tid, syscall.SIGWINCH)
			time.Sleep(20 * time.Microsecond)
		}
	}()
	time.Sleep(5 * time.Millisecond)
	err := syscall.Exec("/bin/echo", []string{"echo", "EXEC-UNDER-SIGNALS-OK"}, nil)
	fmt.Println("exec under signals failed:", err)
	os.Exit(3)
}

// noListenerEnv makes this test binary refuse seccomp listeners with EPERM (as a
// container runtime's profile could) for itself and everything it execs, then exec
// os.Args[1:]: the defender, under TestNotifyFallsBackToTrace.
const noListenerEnv = "TASKWARD_TEST_NO_LISTENER"

func init() {
	if os.Getenv(noListenerEnv) != "1" {
		return
	}
	const offNR, offArg1 = 0, 16 + 8 // struct seccomp_data: nr, arch, ip, args[6]
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: offNR, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_SECCOMP, SkipFalse: 3},
		bpf.LoadAbsolute{Off: offArg1, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, SkipFalse: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
	})
	if err == nil {
		err = unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	}
	if err == nil {
		err = setFilterTSYNC(prog)
	}
	if err == nil {
		err = syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	}
	fmt.Println("no-listener helper:", err)
	os.Exit(3)
}

// These tests run the defender on the host, not under runc: as root, as a child subreaper
// instead of PID 1. They build their own binary (hostDefender) so that they do not depend
// on the lab's containers.

// hostDefender builds the defender into a temporary directory, or skips.
func hostDefender(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("host runs of the defender: skipped with -short")
	}
	if os.Getuid() != 0 {
		tb.Skip("host runs of the defender need root (ptrace of any process, chroot)")
	}
	bin := filepath.Join(tb.TempDir(), "taskward-defender")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestChrootedExec: the defender resolves programs under its own root until a tracee
// changes a root (DESIGN.md decision 4; defender/seccomp_filter.go, traceRootChange).
// After a chroot the program must be resolved in the new root: were it resolved in the
// old one, the defender would approve the host's /bin/busybox while the kernel maps the
// jail's copy, and the EXEC-time check would kill it.
func TestChrootedExec(t *testing.T) {
	def := hostDefender(t)
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs a static busybox")
	}
	chroot, err := exec.LookPath("chroot")
	if err != nil {
		t.Skip("needs chroot(8)")
	}
	jail := t.TempDir()
	os.MkdirAll(filepath.Join(jail, "bin"), 0o755)
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jail, "bin", "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the jail is older than the defender: no drift
	script := fmt.Sprintf("%s %s /bin/busybox echo JAILED; /bin/true && echo AFTER", chroot, jail)
	for _, m := range mechanisms {
		cmd := exec.Command(def, "run", "--mechanism", m, "--", "/bin/sh", "-c", script)
		cmd.Env = append(os.Environ(), `TASKWARD_POLICY={"name":"chroot-test"}`)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "JAILED") || !strings.Contains(string(out), "AFTER") || strings.Contains(string(out), `"killed"`) {
			t.Fatalf("%s: chroot then exec under the defender: %v\n%s", m, err, out)
		}
	}
}

// TestExecFromThread: a non-leader thread execs; the kernel gives it the leader's id, and
// the EXEC-time check must find the approval made for the thread's old id (by path, not
// through the descriptors prepared for that id).
func TestExecFromThread(t *testing.T) {
	def := hostDefender(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		cmd := exec.Command(def, "run", "--mechanism", mechanisms[i%2], "--", self)
		cmd.Env = append(os.Environ(), `TASKWARD_POLICY={"name":"thread-exec"}`, threadExecEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "EXEC-FROM-THREAD-OK") {
			t.Fatalf("exec from a thread under the defender: %v\n%s", err, out)
		}
	}
}

// TestExecUnderSignals: a signal that interrupts an exec call while it waits for the
// defender makes the kernel restart the call; under either mechanism the exec must still
// be decided once more and succeed, and no thread may be left attached or stopped.
func TestExecUnderSignals(t *testing.T) {
	def := hostDefender(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The third variant is notify as on kernels before 5.19 (no WAIT_KILLABLE_RECV), where
	// a signal can also interrupt the call after the defender has read it and attached to
	// the caller: the defender must then stop and detach it (supervisor.release).
	variants := [][]string{{"--mechanism", "notify"}, {"--mechanism", "trace"}, {"--mechanism", "notify", "--notify-no-killable-wait"}}
	for i := 0; i < 15; i++ {
		v := variants[i%len(variants)]
		m := strings.Join(v, " ")
		cmd := exec.Command(def, append(append([]string{"run"}, v...), "--", self)...)
		cmd.Env = append(os.Environ(), `TASKWARD_POLICY={"name":"signals"}`, signalStormEnv+"=1")
		done := make(chan struct{})
		timer := time.AfterFunc(20*time.Second, func() {
			if cmd.Process != nil {
				cmd.Process.Kill()
			}
			close(done)
		})
		out, err := cmd.CombinedOutput()
		timer.Stop()
		select {
		case <-done:
			t.Fatalf("%s: exec under signals hung: %s", m, out)
		default:
		}
		if err != nil || !strings.Contains(string(out), "EXEC-UNDER-SIGNALS-OK") {
			t.Fatalf("%s: exec under signals: %v\n%s", m, err, out)
		}
	}
}

// TestNotifyFallsBackToTrace: as PID 1 (of a new PID namespace), auto picks notify; when
// the listener is refused around the defender, it says so and starts the program under
// trace, which still enforces the policy. Forced notify fails closed instead.
func TestNotifyFallsBackToTrace(t *testing.T) {
	def := hostDefender(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := defender.ChooseMechanism(defender.Notify); err != nil {
		t.Skip("this kernel has no seccomp user notification: auto is trace anyway")
	}
	run := func(mech string) (string, error) {
		cmd := exec.Command("unshare", "--pid", "--fork", "--mount", "--mount-proc", "--kill-child",
			self, def, "run", "--mechanism", mech, "--", "/bin/sh", "-c", "id -u; echo ID-RC=$?")
		cmd.Env = append(os.Environ(), noListenerEnv+"=1", `TASKWARD_POLICY={"name":"fallback","processes":{"deny":["/usr/bin/id"]}}`)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("auto")
	if err != nil || !strings.Contains(out, "using --mechanism trace") || !strings.Contains(out, "ID-RC=126") ||
		!strings.Contains(out, `"rule":"processes.deny"`) {
		t.Fatalf("auto, listener refused: %v\n%s", err, out)
	}
	out, err = run("notify")
	if err == nil || !strings.Contains(out, "listener") || strings.Contains(out, "ID-RC") {
		t.Fatalf("notify forced, listener refused: %v\n%s", err, out)
	}
	t.Logf("notify forced: %v: %s", err, out)
}

// startTime is field 22 of /proc/PID/stat (the start time in clock ticks), which tells a
// process from a later one with the same id; "" when pid is gone.
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // fields from 3 on
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// TestAutoMechanismNotPID1: outside a PID namespace of its own, auto keeps trace, whose
// EXITKILL stops the whole tree if the defender is killed.
func TestAutoMechanismNotPID1(t *testing.T) {
	def := hostDefender(t)
	out, err := exec.Command(def, "check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "pid 1: false") || !strings.Contains(string(out), "mechanism (auto): trace\n") {
		t.Fatalf("check on the host: %v\n%s", err, out)
	}
}

// TestNotifyDefenderKilled: with notify forced outside a PID namespace of its own, a
// killed defender takes the program with it (PR_SET_PDEATHSIG), and what the program
// started keeps running but can never exec again: the listener is gone and the filter
// answers ENOSYS.
func TestNotifyDefenderKilled(t *testing.T) {
	def := hostDefender(t)
	dir := t.TempDir()
	result := filepath.Join(dir, "result")
	// The background subshell outlives the defender, waits on a FIFO (a shell builtin:
	// no exec), then tries an exec.
	fifo := filepath.Join(dir, "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`(read x < %[1]s/go; /bin/true; echo "EXEC-RC=$?" > %[1]s/result) & echo READY; exec sleep 60`, dir)
	cmd := exec.Command(def, "run", "--mechanism", "notify", "--", "/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), `TASKWARD_POLICY={"name":"kill-test"}`)
	// A file, not a pipe: the surviving subshell would hold a pipe open and cmd.Wait
	// would wait for it.
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	output := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(output(), "READY") {
		if time.Now().After(deadline) {
			t.Fatalf("no READY: %s", output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	kids := descendants(cmd.Process.Pid)
	started := map[int]string{}
	for _, k := range kids {
		started[k] = startTime(k)
	}
	t.Cleanup(func() {
		for _, k := range kids {
			// Only if it is still the same process: the id may have been reused.
			if st := startTime(k); st != "" && st == started[k] {
				syscall.Kill(k, syscall.SIGKILL)
			}
		}
	})
	if len(kids) < 2 {
		t.Fatalf("want the program and its subshell under the defender, got %v", kids)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := os.WriteFile(fifo, []byte("go\n"), 0); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(result)
		if s := strings.TrimSpace(string(b)); strings.HasPrefix(s, "EXEC-RC=") {
			if s == "EXEC-RC=0" {
				t.Fatalf("an exec succeeded after the defender was killed")
			}
			t.Logf("the survivor's exec: %s; %s", s, strings.TrimSpace(output()))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if b, _ := os.ReadFile(result); len(b) == 0 {
		t.Fatalf("the surviving subshell never reported its exec: %s", output())
	}
	// The program itself (sleep 60, the defender's child) died with the defender.
	var sleeps int
	for _, k := range kids {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(k) + "/comm"); strings.TrimSpace(string(b)) == "sleep" && alive(k) {
			sleeps++
		}
	}
	if sleeps != 0 {
		t.Fatalf("the program kept running after the defender was killed")
	}
}

// BenchmarkForkExec measures one fork+exec of /bin/true by a shell loop, bare and under
// the defender with each mechanism, interleaved in rounds of the same size so that other
// load on the machine hits both alike. ns/op is the defended time per exec; the ratio to
// bare (median of the rounds) and the bare time are reported as metrics.
//
//	go test -run '^$' -bench ForkExec -benchtime 2000x ./cmd/taskward-defender
func BenchmarkForkExec(b *testing.B) {
	def := hostDefender(b)
	for _, m := range mechanisms {
		b.Run(m, func(b *testing.B) { benchForkExec(b, def, m) })
	}
}

func benchForkExec(b *testing.B, def, mech string) {
	const round = 250
	loop := func(n int) []string {
		return []string{"/bin/sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done", n)}
	}
	run := func(argv []string) time.Duration {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), `TASKWARD_POLICY={"name":"bench"}`)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", argv, err, out)
		}
		return time.Since(start)
	}
	under := func(argv []string) []string { return append([]string{def, "run", "--mechanism", mech, "--"}, argv...) }
	run(loop(20)) // warm-up: page cache, binaries
	run(under(loop(20)))
	var ratios []float64
	var bare, defended time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(round, b.N-done)
		var tb, td time.Duration
		if len(ratios)%2 == 0 {
			tb, td = run(loop(n)), run(under(loop(n)))
		} else {
			td, tb = run(under(loop(n))), run(loop(n))
		}
		bare += tb
		defended += td
		ratios = append(ratios, float64(td)/float64(tb))
		done += n
	}
	b.StopTimer()
	sort.Float64s(ratios)
	b.ReportMetric(float64(defended.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "bare-ns/exec")
	b.ReportMetric(ratios[len(ratios)/2], "x-bare(median)")
	b.ReportMetric(ratios[0], "x-bare(min)")
	b.ReportMetric(ratios[len(ratios)-1], "x-bare(max)")
}
