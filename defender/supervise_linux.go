//go:build linux

package defender

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// ForwardedSignals are passed on to the program, like tini does.
var ForwardedSignals = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH}

// OwnEnv lists the environment variables that configure the defender; they are removed
// from the program's environment (the events token must not leak to the application).
var OwnEnv = []string{"TASKWARD_POLICY", "TASKWARD_EVENTS_URL", "TASKWARD_EVENTS_TOKEN", "TASKWARD_FAIL_OPEN", EnvHealthCheck, stageEnv}

// Config is what Run supervises.
type Config struct {
	// Policy decides every exec; it must be Resolved (policy.ParseJSON returns it so).
	Policy *policy.Policy
	// Argv is the program and its arguments; Argv[0] is looked up in the PATH of Env
	// when it has no slash, as Docker does.
	Argv []string
	// Env is the program's environment (the defender's own variables already removed).
	Env []string
	// Reporter receives events; required.
	Reporter *Reporter
	// Self is the defender's executable, re-executed as the stage; default /proc/self/exe.
	Self string
	// HealthCheck is the argument vector of the container's health check
	// (HealthCheckArgv): a process entering from outside with exactly these arguments, and
	// what it starts, is not an exec session.
	HealthCheck []string
	// Mechanism is how execs reach the defender; "" means Auto (see ChooseMechanism).
	Mechanism Mechanism
	// NotifyWithoutKillableWait makes Notify behave as on kernels before 5.19, where any
	// signal interrupts an exec call waiting for the defender, even after the defender has
	// read it. For tests of that path on newer kernels.
	NotifyWithoutKillableWait bool
	// Baseline is the task's start for drift: a program whose content was written after it
	// did not come with the image. Zero means TaskBaseline (when install wrote the defender).
	Baseline time.Time
}

// supervisor is the state of the tracer loop. It is owned by the tracer thread.
type supervisor struct {
	cfg       *Config
	drift     driftCheck
	mainPid   int
	tracees   map[int]struct{}  // every pid/tid seen in a ptrace stop and not yet reaped
	approvals map[int]*approval // by the tid that made the approved exec call
	// watches are the threads followed from their exec to their open of a script
	// (scriptwatch_linux.go), by tid.
	watches map[int]execWatch
	// transient: the Notify mechanism, which attaches to a thread only for its exec (and
	// a script watch), and detaches where Trace continues.
	transient bool
	watchers  *watchers // Notify: the tracer threads of script watches (notifywatch_linux.go); nil: inline
	waitAll   int       // Notify: the wait4 flags of the loop (WNOTHREAD while watchers exist)
	// ownRoot is an O_PATH descriptor of the defender's root, which is every tracee's
	// root until one of them changes a root or mount namespace (the filter sends those
	// calls here: rootChanged). Programs are resolved under it while it is valid, and
	// under /proc/PID/root after. -1 when it could not be opened.
	ownRoot     int
	rootChanged bool
	// prepared lists, oldest first, the tids whose approval holds prepared descriptors
	// (Trace only: Notify releases them before the next exec call). A failed exec keeps
	// its approval, and the descriptors, until the thread exec's again or exits; past
	// maxPrepared the oldest are released (their check then reads /proc by path).
	prepared []int
	// lastBlock is the last block reported (report); setIDSeen the privileged programs
	// already noted (noteSetID).
	lastBlock blockKey
	setIDSeen map[string]bool
	// status is the program's exit status once it has exited, -1 before; deadline then
	// bounds the wait for the rest of the tree.
	status   int
	deadline *time.Timer
}

// Run starts the program under supervision and returns its exit status (128+signal when
// it was killed by a signal) once it has exited and the rest of its tree is stopped.
// Precondition: nothing else in the process waits for children.
func Run(cfg *Config) (int, error) {
	if cfg.Policy == nil || cfg.Reporter == nil || len(cfg.Argv) == 0 {
		return 0, errors.New("defender: Run needs a policy, a reporter and a program")
	}
	asked := cfg.Mechanism
	if asked == "" {
		asked = Auto
	}
	mech, err := ChooseMechanism(asked)
	if err != nil {
		return 0, err
	}
	// All ptrace requests and the wait loop run on this thread, which also forks the stage
	// (PR_SET_PDEATHSIG fires when the forking thread exits). It is never unlocked.
	runtime.LockOSThread()
	// Not dumpable: /proc/PID/mem, environ (the events token), fd and pidfd_getfd of the
	// defender then need CAP_SYS_PTRACE, which the stage removes from the program. The
	// stage and the program are dumpable again after their exec, as the tracer needs.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return 0, fmt.Errorf("make the defender not dumpable: %w", err)
	}

	path, err := lookPath(cfg.Argv[0], cfg.Env)
	if err != nil {
		return 0, err
	}
	if os.Getpid() != 1 {
		// Orphans of the program are reparented to us, not to the host's init, so we reap
		// them and stop them with the rest of the tree.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return 0, fmt.Errorf("become child subreaper: %w", err)
		}
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, ForwardedSignals...)
	ignoreSyncSignals()
	loadUsers() // events name users; the file is read before the program can replace it
	quietStopSignals()

	self := cfg.Self
	if self == "" {
		self = "/proc/self/exe"
	}
	baseline := cfg.Baseline
	if baseline.IsZero() {
		if baseline, err = TaskBaseline(); err != nil {
			return 0, err
		}
	}
	s := &supervisor{cfg: cfg, drift: driftCheck{baseline: baseline}, tracees: map[int]struct{}{}, approvals: map[int]*approval{}, watches: map[int]execWatch{}, ownRoot: -1, status: -1, setIDSeen: map[string]bool{}}
	// O_CLOEXEC: the stage must not inherit it.
	if fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		s.ownRoot = fd
	}
	// Exec sessions (sessions_linux.go) are looked for while the program runs.
	stopSessions := make(chan struct{})
	defer close(stopSessions)
	go s.watchSessions(stopSessions)
	stageArgv := append([]string{"taskward-defender-stage", path}, cfg.Argv...)
	stageEnvFor := func(mode string) []string {
		return append(append([]string(nil), cfg.Env...), stageEnv+"="+mode)
	}
	if mech == Notify {
		mode := string(Notify)
		if cfg.NotifyWithoutKillableWait {
			mode = stageNotifyNoKillable
		}
		code, err := s.runNotify(self, stageArgv, stageEnvFor(mode), sigs)
		if err != errNoListener || asked != Auto {
			return code, err
		}
		// Something around us (a container runtime's seccomp profile, say) refused the
		// listener. The program has not started: start it under trace instead.
		fmt.Fprintln(os.Stderr, "taskward-defender: seccomp user notification refused here; using --mechanism trace")
	}
	return s.runTrace(self, stageArgv, stageEnvFor(string(Trace)), sigs)
}

// forwardSignals passes every signal received on sigs to the program, like tini.
func forwardSignals(sigs <-chan os.Signal, pid int) {
	for sig := range sigs {
		unix.Kill(pid, sig.(syscall.Signal))
	}
}

// lookPath finds argv0 in env's PATH when it has no slash, as Docker and execvp do.
func lookPath(argv0 string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + argv0
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", argv0, exec.ErrNotFound)
}

// yieldEvery is how often the busy tracer yields to the Go scheduler (see loop).
const yieldEvery = 5 * time.Millisecond

// yielder keeps sysmon asleep while the supervisor thread works through a stream of
// events. The supervisor goroutine never blocks in the Go scheduler, so its P keeps the
// same schedtick. After 10 ms of that, sysmon treats it as a goroutine that hogs its P: it
// preempts it or retakes the P from the blocking system call, hands the P to another
// thread, and starts polling every 20 us again. Under a steady stream of events that
// costs thousands of sysmon wake-ups a second on a machine whose CPUs the program needs.
// Yielding once every few milliseconds (one hand-off of the P and back, for a locked
// goroutine) keeps sysmon asleep.
type yielder struct{ last time.Time }

// maybeYield yields when the last yield is yieldEvery ago. A new yielder starts counting
// at its first call rather than yielding there: followExec once
// made one for every allowed exec, and a hand-off of the P at each of them cost the
// defender about 40 µs of CPU per exec under notify.
func (y *yielder) maybeYield() {
	now := time.Now()
	if y.last.IsZero() {
		y.last = now
		return
	}
	if now.Sub(y.last) > yieldEvery {
		runtime.Gosched()
		y.last = now
	}
}

// onChildExit notes a reaped child. When it is the program, the rest of the tree is
// stopped and the wait for it bounded.
func (s *supervisor) onChildExit(wpid int, ws unix.WaitStatus) {
	if wpid != s.mainPid {
		if s.status >= 0 {
			s.killTree() // the tree is being stopped: catch what forked meanwhile
		}
		return
	}
	status := exitStatus(ws)
	s.status = status
	s.killTree()
	// A process stuck in uninterruptible sleep must not keep the container up: stop
	// waiting after a grace period.
	s.deadline = time.AfterFunc(3*time.Second, func() {
		s.cfg.Reporter.Close(time.Second)
		os.Exit(status)
	})
}

// finish is the exit status once no child is left.
func (s *supervisor) finish() int {
	if s.deadline != nil {
		s.deadline.Stop()
	}
	if s.status < 0 {
		return 127
	}
	return s.status
}

func exitStatus(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// killTree stops everything the program left behind. As PID 1 of a PID namespace,
// kill(-1) reaches every other process in it; otherwise every known tracee is killed, and
// every descendant found under /proc (the only record Notify has: as a child subreaper,
// the defender is the ancestor of everything the program started).
func (s *supervisor) killTree() {
	if os.Getpid() == 1 {
		unix.Kill(-1, unix.SIGKILL)
		return
	}
	for pid := range s.tracees {
		unix.Kill(pid, unix.SIGKILL)
	}
	for _, pid := range descendants(os.Getpid()) {
		unix.Kill(pid, unix.SIGKILL)
	}
}

// descendants lists every process below pid, from /proc/PID/task/TID/children.
func descendants(pid int) []int {
	var out []int
	queue := []int{pid}
	for len(queue) > 0 && len(out) < 1<<16 {
		p := queue[0]
		queue = queue[1:]
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(p) + "/task")
		for _, task := range tasks {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/task/" + task.Name() + "/children")
			for _, f := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(f); err == nil {
					out = append(out, n)
					queue = append(queue, n)
				}
			}
		}
	}
	return out
}

// readExecCall reads the arguments of an execve or execveat (nr, with its register
// arguments args) from the memory of tid.
func readExecCall(pid, tid, nr int, args [6]uint64) (*execCall, error) {
	c := &execCall{pid: pid, tid: tid, dirfd: unix.AT_FDCWD}
	pathArg, argvArg := args[0], args[1]
	if nr == unix.SYS_EXECVEAT {
		c.dirfd, pathArg, argvArg, c.flags = int(int32(args[0])), args[1], args[2], int(int32(args[4]))
	}
	var err error
	c.path, c.argv, c.truncated, err = readExecArgs(tid, pathArg, argvArg)
	return c, err
}

// decide resolves and decides one exec call with the policy.
func (s *supervisor) decide(c *execCall) verdict {
	return decideExec(s.cfg.Policy, c, s.drift, s.root())
}

// root is the descriptor of every tracee's root while they share the defender's, or -1
// (resolve under /proc/PID/root).
func (s *supervisor) root() int {
	if s.rootChanged {
		return -1
	}
	return s.ownRoot
}

// isTimesCall reports whether nr sets file times (the filter's traceTimes rule).
func isTimesCall(nr int) bool {
	_, _, _, _, _, ok := timesArgs(nr)
	return ok
}

// dropApproval forgets the approval of tid, if any, and releases what it holds.
func (s *supervisor) dropApproval(tid int) {
	if a := s.approvals[tid]; a != nil {
		a.release()
		delete(s.approvals, tid)
	}
}

// onRefused refuses a syscall the filter sent to the tracer only to be reported.
func (s *supervisor) onRefused(tid int, data uint) {
	denySyscall(tid, unix.EPERM)
	s.cfg.Reporter.Report(s.refusedEvent(tid, data))
	s.cont(tid, 0)
}

// refusedEvent is the event of a system call refused for the rule of filter datum data.
// Precondition as execEvent: the caller still waits in the call.
func (s *supervisor) refusedEvent(tid int, data uint) *Event {
	rule, ok := refusedSyscalls[data]
	if !ok {
		rule = "seccomp"
	}
	return s.eventFor(ActionBlocked, rule, "system call refused: it could be used to escape the defender ("+rule+")", tgid(tid), nil, nil)
}

// execEvent builds the event of a decided exec call. Precondition: the caller is still
// waiting in the call (stopped, or in its notification), so that what the event reads
// from /proc (user, parents, working directory) is the caller's.
func (s *supervisor) execEvent(action string, v verdict, c *execCall) *Event {
	return s.eventFor(action, v.decision.Rule, v.decision.Reason, tgid(c.tid), v.exec, c.argv)
}

// report reports the event of a decided exec call, built with execEvent. A block that
// repeats the last one of the same process (same program, rule and arguments) is the same
// command: a PATH search trying /bin/dpkg, then /usr/bin/dpkg, the same file through a
// symlinked /bin. It is not reported again.
func (s *supervisor) report(e *Event) {
	if e.Action == ActionBlocked {
		key := blockKey{pid: e.PID, program: e.Program, rule: e.Rule, argv: strings.Join(e.Argv, "\x00")}
		if key == s.lastBlock {
			return
		}
		s.lastBlock = key
	}
	s.cfg.Reporter.Report(e)
}

// blockKey identifies one command's block, for report.
type blockKey struct {
	pid                 int
	program, rule, argv string
}

// noteSetID reports, once per program, that a set-user-ID, set-group-ID or
// file-capability program ran whose bits would have changed its caller's credentials:
// no_new_privs (which the stage sets so that the filter can be installed without
// CAP_SYS_ADMIN) keeps them from taking effect, so sudo, su or ping run by a user may fail
// in ways that are hard to explain without this event. Root running su or sudo (the
// usual drop to a user at start) loses nothing and is not noted.
func (s *supervisor) noteSetID(v verdict, c *execCall) {
	if !v.setID.any() || v.decision.Effect == policy.Block || s.setIDSeen[v.setIDFile] || len(s.setIDSeen) >= maxSetIDSeen {
		return
	}
	fields, err := procStatus(strconv.Itoa(c.tid))
	if err != nil {
		return // the caller is gone: its exec does not run
	}
	euid, egid, ok := effectiveIDs(fields)
	if !ok || !v.setID.changes(euid, egid) {
		return
	}
	s.setIDSeen[v.setIDFile] = true
	e := s.eventFor(ActionAlerted, RuleNoNewPrivs, v.setIDFile+" is "+v.setID.what()+": no_new_privs keeps it from changing its caller's credentials, it runs with its caller's", tgid(c.tid), nil, c.argv)
	e.Program, e.Argv = v.setIDFile, c.argv
	s.cfg.Reporter.Report(e)
}

// RuleNoNewPrivs names the informational event of noteSetID; it is not a policy rule.
const RuleNoNewPrivs = "noNewPrivs"

// maxSetIDSeen bounds the programs noteSetID remembers.
const maxSetIDSeen = 256

// tgid returns the process (thread group) of a thread.
func tgid(tid int) int {
	fields, _ := procStatus(strconv.Itoa(tid))
	if n, err := strconv.Atoi(fields["Tgid"]); err == nil {
		return n
	}
	return tid
}
