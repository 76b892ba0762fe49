//go:build linux

package defender

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// maxScriptDepth is the kernel's limit on nested interpreters (BINPRM_MAX_RECURSION).
const maxScriptDepth = 4

// maxCmdline bounds the command line compared at PTRACE_EVENT_EXEC.
const maxCmdline = 4096

// execCall is one execve or execveat as read at its seccomp stop.
type execCall struct {
	pid, tid  int
	dirfd     int // unix.AT_FDCWD for execve
	path      string
	flags     int
	argv      []string
	truncated bool // argv hit a read bound
}

// approval is what a tracee was allowed to become: checked at PTRACE_EVENT_EXEC.
type approval struct {
	// ev is the file the kernel must map (the program, or its final interpreter): its
	// identity and content evidence (size, mtime, ctime) when it was decided.
	ev      evidence
	cmdline []byte // the expected /proc/PID/cmdline, at most maxCmdline bytes
	prefix  bool   // cmdline is only a prefix (argv was truncated when read)
	path    string
	// interp is the ELF interpreter (PT_INTERP) approved with the program, named as the
	// defender opens it, with its evidence; "" for a static program.
	interp string
	// interpShared: interp is resolved under the defender's own root, which the tracee
	// shares (stat it directly, not through /proc/PID/root).
	interpShared bool
	interpEv     evidence
	// interpName is the program's PT_INTERP, the name the kernel opens (and the key of
	// interpFiles): stat'ed at the exec event when the root is shared.
	interpName string
	// loader decides, at PTRACE_EVENT_EXEC, what the new image's loader variables make the
	// loader load; nil for a static program.
	loader *loaderRule
	// script is the file the program opens by name after the exec (its script, or what
	// the loader runs), followed until it does (scriptwatch_linux.go); nil for none.
	script *scriptWatch
	// Prepared at the seccomp stop, once the tracee is on its way into the exec (prepare):
	// an O_PATH descriptor of /proc/TID and an open /proc/TID/cmdline, which reads the
	// arguments of whatever image the task runs when it is read; -1 when missing.
	prepared          bool
	procDir, cmdlineF int
}

// prepare opens what checkExec will need for tid, best effort: checkExec falls back to
// /proc paths for anything missing.
func (a *approval) prepare(tid int) {
	a.prepared, a.procDir, a.cmdlineF = true, -1, -1
	dir, err := unix.Open("/proc/"+strconv.Itoa(tid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	a.procDir = dir
	if fd, err := unix.Openat(dir, "cmdline", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		a.cmdlineF = fd
	}
}

// release closes the prepared descriptors. a may be nil.
func (a *approval) release() {
	if a == nil || !a.prepared {
		return
	}
	if a.cmdlineF >= 0 {
		unix.Close(a.cmdlineF)
	}
	if a.procDir >= 0 {
		unix.Close(a.procDir)
	}
	a.prepared = false
}

// verdict is the outcome of deciding one exec call.
type verdict struct {
	decision policy.Decision
	exec     *policy.Exec // the exec the decision is about (the script or an interpreter)
	file     *file
	approval *approval // nil when the kernel cannot succeed (unresolvable path)
	// setID is the program's set-ID bits and owner when it has any (setIDFile its path):
	// no_new_privs keeps them from taking effect (noteSetID).
	setID     setID
	setIDFile string
}

// kernelFilename is bprm->filename: what the kernel names the program internally, which
// becomes the script's argument when a "#!" interpreter runs it (fs/exec.c, do_execveat_common).
func (c *execCall) kernelFilename() string {
	if c.dirfd == unix.AT_FDCWD || strings.HasPrefix(c.path, "/") {
		return c.path
	}
	if c.path == "" {
		return "/dev/fd/" + strconv.Itoa(c.dirfd)
	}
	return "/dev/fd/" + strconv.Itoa(c.dirfd) + "/" + c.path
}

// decideExec resolves the program of c, follows "#!" interpreters as the kernel will,
// and decides every level with p. The strongest decision wins.
//
// sharedRoot, when not -1, is a descriptor of the tracee's root (the defender's own, shared
// with every tracee until one changes it): paths are resolved under it without /proc.
func decideExec(p *policy.Policy, c *execCall, drift driftCheck, sharedRoot int) verdict {
	r := newResolver(c.pid, c.tid)
	if sharedRoot >= 0 {
		r.sharedRoot, r.rootView = sharedRoot, "/"
	}
	f, err := r.execTarget(c.dirfd, c.path, c.flags)
	if err != nil {
		// The kernel will fail this exec too (or the file changed under us, which the
		// EXEC-time check catches): nothing is approved.
		return verdict{decision: policy.Decision{Effect: policy.Off}}
	}
	argv := c.argv
	name := c.kernelFilename()
	var socks *[2]bool
	best := verdict{decision: policy.Decision{Effect: policy.Off}}
	var last *policy.Exec // the program the kernel maps: the last level
	// The file the last level opens by name after the exec, and that name (see
	// scriptWatch); watched says the last level has one.
	var operand *file
	var opName string
	watched := false
	keep := func(d policy.Decision, e *policy.Exec, f *file) {
		if best.exec == nil || rank(d.Effect) > rank(best.decision.Effect) {
			best.decision, best.exec, best.file = d, e, f
		}
	}
	for depth := 0; ; depth++ {
		df := drift.Of(f)
		e := &policy.Exec{Path: f.Path, Invoked: f.Invoked, Argv: argv, Truncated: c.truncated, Drift: df.Kind, DriftDetail: df.Detail, Loader: f.sharedObject}
		if rank(p.ReverseShell) > 0 && e.IsShell() { // the sockets matter only to that rule
			if socks == nil {
				socks = &[2]bool{isNetSocket(c.pid, 0), isNetSocket(c.pid, 1)}
			}
			e.StdinSocket, e.StdoutSocket = socks[0], socks[1]
		}
		last = e
		keep(p.Decide(e), e, f)
		watched = false
		if op, ok := e.Operand(); ok && !op.Cut {
			d, oe, of := decideOperand(p, r, e, op, name, drift)
			keep(d, oe, of)
			// A directory (python3 DIR, node DIR) is not opened by its name but searched
			// like a module path: what is read in it is not followed.
			isFile := of == nil || of.Mode&unix.S_IFMT == unix.S_IFREG
			if n := operandName(e, op); op.Module == "" && isFile && (op.Role == policy.RoleScript || strings.Contains(n, "/")) {
				watched, opName, operand = true, n, of
				if n == name {
					operand = f // the program's own file, decided above
				}
			}
		}
		interp, arg, ok := shebang(f.header)
		if !ok {
			break
		}
		if strings.HasPrefix(name, "/dev/fd/") {
			// The interpreter will open the script again by the name /dev/fd/N, which a root
			// caller can point elsewhere (/dev is writable): what it reads is not what was
			// decided. A script run by descriptor is refused as drift.
			e2 := *e
			e2.Drift, e2.DriftDetail = policy.Modified, "script "+f.Path+" run by descriptor: its interpreter would reopen "+name+", which the caller can repoint"
			if d := p.Decide(&e2); rank(d.Effect) > rank(best.decision.Effect) {
				best.decision, best.exec, best.file = d, &e2, f
			}
		}
		if depth+1 >= maxScriptDepth {
			return verdict{decision: policy.Decision{Effect: policy.Off}} // the kernel fails with ELOOP
		}
		next, err := r.execTarget(unix.AT_FDCWD, interp, 0)
		if err != nil {
			return best.withoutApproval()
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, name)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv, name, f = nargv, interp, next
	}
	best.approval = &approval{ev: f.ev, path: f.Path, prefix: c.truncated}
	best.approval.cmdline = joinCmdline(argv)
	if watched {
		w, same := newScriptWatch(r, opName, operand, f.Path, drift)
		if !w.fixed {
			best.approval.script = w
		}
		if !same {
			// The name was pointed elsewhere while the exec was decided: what was decided
			// is not what the program would read.
			e := *last
			e.Drift, e.DriftDetail = policy.Modified, "script "+opName+" was changed while "+f.Path+"'s exec was decided: it no longer leads to "+operand.Path
			keep(p.Decide(&e), &e, f)
		}
	}
	// The loader runs inside the program: its drift is drift of the program. What the
	// environment makes it load is decided at PTRACE_EVENT_EXEC, from the environment
	// the kernel copied (loaderRule).
	switch {
	case f.elfInterp != "":
		in, held, err := r.locateInterp(f.elfInterp)
		if err == nil && held && drift.Of(in).Kind != policy.NoDrift {
			// Never refuse on what the cache holds: the path may lead elsewhere now.
			interpFiles.drop(f.elfInterp)
			in, _, err = r.locateInterp(f.elfInterp)
		}
		if err == nil {
			best.approval.interp, best.approval.interpEv = in.Path, in.ev
			best.approval.interpShared, best.approval.interpName = sharedRoot >= 0, f.elfInterp
			if df := drift.Of(in); last.Drift == policy.NoDrift && df.Kind != policy.NoDrift {
				e := *last
				e.Drift, e.DriftDetail = df.Kind, "ELF interpreter "+f.elfInterp+" of "+f.Path+": "+df.Detail
				keep(p.Decide(&e), &e, f)
			}
		}
		best.approval.loader = &loaderRule{p: p, drift: drift, prog: f, exec: last, sharedRoot: sharedRoot}
	case f.sharedObject || policy.IsLoader(f.Path):
		// The loader run directly: it reads the loader variables and its own options. It is
		// known by its content too: a hard link of it under another name is not drift
		// (TestLoaderHardLinked).
		best.approval.loader = &loaderRule{p: p, drift: drift, prog: f, exec: last, sharedRoot: sharedRoot, direct: true}
	}
	if f.setID.any() {
		best.setID, best.setIDFile = f.setID, f.Path
	}
	return best
}

// decideOperand decides the file that program e will run without an exec of its own: the
// script an interpreter is given or the program the loader is run on (op, from
// e.Operand). The file is resolved as the program would open it, relative to the
// caller's working directory, and judged by the same drift check as any program
// (driftCheck.Of).
// prev is the kernel's name of the file a "#!" line made e run: an interpreter's script
// that is that file was decided already.
func decideOperand(p *policy.Policy, r *resolver, e *policy.Exec, op policy.Operand, prev string, drift driftCheck) (policy.Decision, *policy.Exec, *file) {
	cmd := operandArgs(e, op)
	o := &policy.Exec{Argv: cmd[op.Index:], Truncated: e.Truncated, Role: op.Role, Runner: op.Runner}
	if op.Module != "" {
		o.Invoked = op.Module
		o.Argv = append([]string{op.Module}, cmd[op.Index+1:]...)
		return p.Decide(o), o, nil
	}
	name := cmd[op.Index]
	if op.Role == policy.RoleScript && name == prev {
		return policy.Decision{Effect: policy.Off}, nil, nil
	}
	if op.Role == policy.RoleLoaded && !strings.Contains(name, "/") {
		return policy.Decision{Effect: policy.Off}, nil, nil // the loader rule of e decides it
	}
	f, err := r.execTarget(unix.AT_FDCWD, name, 0)
	if err != nil {
		if op.Role == policy.RoleScript {
			// The interpreter will fail to open it too. A file created in between is a
			// script changed after the decision (the drift rule's concern).
			return policy.Decision{Effect: policy.Off}, nil, nil
		}
		o.Invoked, o.Unresolved = name, true
		return p.Decide(o), o, nil
	}
	df := drift.Of(f)
	o.Path, o.Invoked, o.Drift, o.DriftDetail = f.Path, f.Invoked, df.Kind, df.Detail
	return p.Decide(o), o, f
}

// operandArgs is the argument list op indexes: the command (argv, or a multi-call
// binary's applet onwards), or argv itself for the loader, which does not look at argv[0].
func operandArgs(e *policy.Exec, op policy.Operand) []string {
	if op.Role == policy.RoleLoaded {
		return e.Argv
	}
	return e.Command()
}

// operandName is the file name op is given as, when it is not a module.
func operandName(e *policy.Exec, op policy.Operand) string { return operandArgs(e, op)[op.Index] }

func (v verdict) withoutApproval() verdict { v.approval = nil; return v }

func rank(e policy.Effect) int {
	switch e {
	case policy.Block:
		return 2
	case policy.Alert:
		return 1
	}
	return 0
}

// isNetSocket reports whether descriptor fd of pid is an inet or inet6 socket: a shell
// reading or writing one is the mark of a reverse shell, while a Unix socket pair is what
// Node's child_process and Python's subprocess give their children. The family is read
// from a copy of the descriptor (pidfd_getfd, SO_DOMAIN); when that fails, any socket
// counts, so the rule fails towards an alert.
func isNetSocket(pid, fd int) bool {
	t, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd))
	if err != nil || !strings.HasPrefix(t, "socket:[") {
		return false
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return true
	}
	defer unix.Close(pidfd)
	dup, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return true
	}
	defer unix.Close(dup)
	domain, err := unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return true
	}
	return domain == unix.AF_INET || domain == unix.AF_INET6
}

// shebang parses a "#!" line as fs/binfmt_script.c does: the interpreter is the first word
// after "#!" and blanks, and everything after it (trimmed) is one optional argument.
func shebang(h []byte) (interp, arg string, ok bool) {
	if !bytes.HasPrefix(h, []byte("#!")) {
		return "", "", false
	}
	line := h[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	s := strings.Trim(string(line), " \t")
	if s == "" {
		return "", "", false
	}
	interp, arg, _ = strings.Cut(s, " ")
	if i := strings.IndexByte(interp, '\t'); i >= 0 {
		interp, arg = interp[:i], interp[i+1:]+" "+arg
	}
	return interp, strings.Trim(arg, " \t"), true
}

// joinCmdline is argv as /proc/PID/cmdline shows it, cut at maxCmdline bytes.
func joinCmdline(argv []string) []byte {
	var b []byte
	for _, a := range argv {
		b = append(b, a...)
		b = append(b, 0)
	}
	if len(b) > maxCmdline {
		b = b[:maxCmdline]
	}
	return b
}

// imageCheck is checkExec's verdict on a new image.
type imageCheck struct {
	kill  bool   // it must not run
	alert bool   // it runs, and the policy alerts on what its loader loads
	rule  string // the event's rule: ruleExecCheck, or the policy rule of a loader input
	why   string
	exec  *policy.Exec // the exec a loader input was decided with; nil: what /proc shows
	// watch, when not nil, follows the loader until it hands over (loaderwatch_linux.go).
	watch *loaderWatch
}

// ruleExecCheck is the rule of an image that is not what was approved.
const ruleExecCheck = "exec-check"

// mismatch is the verdict on an image that differs from its approval.
func mismatch(why string) imageCheck { return imageCheck{kill: true, rule: ruleExecCheck, why: why} }

// checkExec compares the image a tracee now runs with its approval, and decides what the
// environment the kernel copied makes its loader load (approval.loader). Precondition: pid
// is in a PTRACE_EVENT_EXEC stop, when the new image is in place and the program has not
// run a single instruction, so neither the file, the arguments nor the environment can
// change any more.
func checkExec(pid int, a *approval) imageCheck {
	if a == nil {
		return mismatch("exec without an approved seccomp stop")
	}
	var st unix.Stat_t
	var err error = unix.ENOENT
	if a.prepared && a.procDir >= 0 {
		err = unix.Fstatat(a.procDir, "exe", &st, 0)
	}
	if err != nil {
		if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/exe", &st); err != nil {
			return mismatch("cannot stat /proc/PID/exe: " + err.Error())
		}
	}
	if d := a.ev.differs(evidenceOf(&st)); d != "" {
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		return mismatch("program changed between check and exec: approved " + a.path + ", running " + exe + ": approved " + d)
	}
	// One read is enough: procfs copies the whole requested range of the argument area
	// (fs/proc/base.c, get_mm_cmdline), and a short read could only make the comparison
	// fail (a kill), never pass. The prepared descriptor reads the task's current image.
	var buf [maxCmdline]byte
	n := -1
	if a.prepared && a.cmdlineF >= 0 {
		if m, err := unix.Pread(a.cmdlineF, buf[:], 0); err == nil {
			n = m
		}
	}
	if n < 0 {
		fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/cmdline", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return mismatch("cannot read /proc/PID/cmdline: " + err.Error())
		}
		defer unix.Close(fd)
		if n, err = unix.Read(fd, buf[:]); err != nil {
			return mismatch("cannot read /proc/PID/cmdline: " + err.Error())
		}
	}
	got := buf[:n]
	if a.prefix || len(a.cmdline) == maxCmdline {
		if len(got) > len(a.cmdline) {
			got = got[:len(a.cmdline)]
		}
	}
	if !bytes.Equal(got, a.cmdline) {
		return mismatch(fmt.Sprintf("arguments changed between check and exec: approved %q, found %q", cmdlineArgs(a.cmdline), cmdlineArgs(got)))
	}
	if a.interp == "" && a.loader == nil {
		// A static program: no loader reads the environment.
		return imageCheck{}
	}
	var ist unix.Stat_t // the interpreter's name now
	if a.interp != "" {
		p := a.interpName
		if !a.interpShared {
			p = "/proc/" + strconv.Itoa(pid) + "/root" + a.interp
		}
		if err := unix.Stat(p, &ist); err != nil {
			interpFiles.drop(a.interpName)
			return mismatch("cannot stat the approved ELF interpreter " + a.interp + ": " + err.Error())
		}
	}
	env, base, err := loaderEnvAt(pid, a)
	if err != nil {
		return mismatch("cannot read /proc/PID/environ: " + err.Error())
	}
	var c imageCheck
	// The file the kernel mapped must be the approved one, unchanged; comparing the name's
	// file alone would pass a name swapped around the kernel's load and back
	// (TestInterpreterRace). (The loader run directly has no interpreter: the kernel mapped
	// the program, checked above.)
	if a.interp != "" {
		if base == 0 {
			// A loader (ET_DYN) is mapped at a load bias, never 0: the kernel loaded another
			// file, a fixed-address one.
			interpFiles.drop(a.interpName)
			return mismatch(fmt.Sprintf("ELF interpreter %s swapped around the exec: approved file %d:%d, the kernel mapped one at a fixed address (AT_BASE 0)", a.interp, a.interpEv.dev, a.interpEv.ino))
		}
		dev, ino, err := mappedAt(pid, a, base)
		if err != nil {
			return mismatch("cannot find the mapped ELF interpreter: " + err.Error())
		}
		now := evidenceOf(&ist)
		switch {
		case dev == a.interpEv.dev && ino == a.interpEv.ino && a.interpEv.differs(now) == "":
			// The approved file, mapped: the usual case.
		case dev == now.dev && ino == now.ino && a.loader != nil:
			// The name leads to another file than the one decided (or the same with new
			// content or metadata), and that is the file the kernel mapped: the call decided
			// a file it held (interpFiles) and no longer is. Judge this one as the call
			// would have; the next call resolves the name afresh.
			interpFiles.drop(a.interpName)
			f := statFile(&ist, a.interp, false)
			if j := a.loader.judgeFile(f, "ELF interpreter "+a.interpName+" of "+a.path); j != nil {
				if j.kill {
					return *j
				}
				c = *j
			}
			// The loader watch follows the loader mapped (TestInterpreterRenamed).
			a.interpEv = now
		default:
			interpFiles.drop(a.interpName)
			if d := a.interpEv.differs(now); d != "" && dev == a.interpEv.dev && ino == a.interpEv.ino {
				return mismatch("ELF interpreter " + a.interp + " changed between check and exec: approved " + d)
			}
			return mismatch(fmt.Sprintf("ELF interpreter %s swapped around the exec: approved file %d:%d, the kernel mapped %d:%d", a.interp, a.interpEv.dev, a.interpEv.ino, dev, ino))
		}
	}
	if a.loader == nil {
		return c
	}
	vars := cmdlineArgs(env)
	if p, ok := a.loader.systemPreload(pid); ok {
		vars = append(vars, p)
	}
	// In a root of its own (chroot) every library directory is the caller's choice, as
	// LD_LIBRARY_PATH's are, and so is every one a loader cache written during the task
	// names, or a run path relative to the program's name or the working directory: the
	// loader is followed there too (TestChrootLibraries, TestLoaderCacheDrift,
	// TestOriginHardLinked).
	if len(vars) == 0 && !a.loader.direct && !a.loader.prog.ownSearchPath && (a.interpShared || sameRoot(pid, a)) && !a.loader.cacheDrifted(pid) {
		return c
	}
	d, e, inputs := a.loader.decide(pid, vars)
	switch d.Effect {
	case policy.Block:
		return imageCheck{kill: true, rule: d.Rule, why: d.Reason, exec: e}
	case policy.Alert:
		c = imageCheck{alert: true, rule: d.Rule, why: d.Reason, exec: e}
	}
	// What the names led to when decided is not what the loader opens later: follow it.
	w, err := a.loader.watch(pid, a, inputs)
	if err != nil {
		return mismatch("cannot find the loader's mappings, to follow what it loads: " + err.Error())
	}
	c.watch = w
	return c
}

// loaderCache is the file glibc's loader looks DT_NEEDED libraries up in before its
// default directories (ldconfig writes it).
const loaderCache = "/etc/ld.so.cache"

// cacheDrifted reports whether pid's loader cache was written during the task: then the
// directories it names are anyone's, and what the loader maps must be followed. An image's
// cache (or none, as in musl or busybox images) costs one lookup.
func (l *loaderRule) cacheDrifted(pid int) bool {
	r := l.resolver(pid)
	if r.sharedRoot >= 0 {
		// One stat per exec: the name as the loader opens it, symlinks followed in the root
		// the tracee shares.
		var st unix.Stat_t
		if unix.Fstatat(r.sharedRoot, loaderCache[1:], &st, 0) != nil {
			return false
		}
		return l.drift.Of(statFile(&st, loaderCache, false)).Kind != policy.NoDrift
	}
	f, err := r.locate(loaderCache)
	return err == nil && l.drift.Of(f).Kind != policy.NoDrift
}

// sameRoot reports whether pid's root directory is the defender's own (the task's), or
// whether that could not be told (then false: the loader is followed).
func sameRoot(pid int, a *approval) bool {
	var mine, its unix.Stat_t
	var err error = unix.ENOENT
	if a.prepared && a.procDir >= 0 {
		err = unix.Fstatat(a.procDir, "root", &its, 0)
	}
	if err != nil && unix.Stat("/proc/"+strconv.Itoa(pid)+"/root", &its) != nil || unix.Stat("/", &mine) != nil {
		return false
	}
	return mine.Dev == its.Dev && mine.Ino == its.Ino
}

// loaderRule decides, at PTRACE_EVENT_EXEC, the files the new image's loader variables
// (LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH) make the dynamic loader load into the program:
// drift in any of them is drift of the program. They are read there, from the environment
// the kernel copied, once: what the caller's memory said at the exec call could still
// change (another thread, a shared mapping) before the kernel copied it. So such a drop
// is not refused at the call but killed before the loader runs.
type loaderRule struct {
	p          *policy.Policy
	drift      driftCheck
	prog       *file        // the program the kernel maps
	exec       *policy.Exec // its exec, as decided at the call
	sharedRoot int          // as decideExec's
	direct     bool         // prog is the loader itself, run directly (`ld.so PROG`)
}

// decide is the strongest decision on the loader inputs of env for pid (stopped at its
// PTRACE_EVENT_EXEC), with the exec it was made for (an Off decision when none drifted),
// and the inputs found.
func (l *loaderRule) decide(pid int, env []string) (policy.Decision, *policy.Exec, []loaderInput) {
	best, be := policy.Decision{Effect: policy.Off}, (*policy.Exec)(nil)
	if l.direct {
		env = append(env, policy.LoaderOptionVariables(l.exec.Argv)...)
	}
	inputs := loaderInputs(l.resolver(pid), env)
	if l.exec.Drift != policy.NoDrift {
		return best, nil, inputs // decided at the call already
	}
	var auditors []string
	for _, in := range inputs {
		if in.audit {
			auditors = append(auditors, in.file.Path)
		}
		df := l.drift.Of(in.file)
		if df.Kind == policy.NoDrift {
			continue
		}
		e := *l.exec
		e.Drift, e.DriftDetail = df.Kind, in.what+" of "+l.prog.Path+": "+df.Detail
		if d := l.p.Decide(&e); be == nil || rank(d.Effect) > rank(best.Effect) {
			best, be = d, &e
		}
	}
	// Auditors of the image: the loader rule's (drift of one is named above, first).
	if len(auditors) > 0 {
		e := *l.exec
		e.Auditors = auditors
		if d := l.p.Decide(&e); be == nil || rank(d.Effect) > rank(best.Effect) {
			best, be = d, &e
		}
	}
	return best, be, inputs
}

// systemPreload reads /etc/ld.so.preload in pid's root, as its loader will, as the entry
// "/etc/ld.so.preload=LIST" for loaderInputs; ok is false when there is no such file (the
// usual case: one failed open). A file that cannot be read gets an empty list: the loader
// is followed all the same (what it maps is judged as it maps it).
func (l *loaderRule) systemPreload(pid int) (string, bool) {
	r := l.resolver(pid)
	if r.sharedRoot >= 0 {
		// The usual case, no such name: one lstat, no open.
		var st unix.Stat_t
		if unix.Fstatat(r.sharedRoot, systemPreload[1:], &st, unix.AT_SYMLINK_NOFOLLOW) == unix.ENOENT {
			return "", false
		}
	}
	fd, err := r.openInRootErr(systemPreload, unix.O_RDONLY|unix.O_NONBLOCK)
	if err == unix.ENOENT {
		return "", false
	}
	if err != nil {
		return systemPreload + "=", true
	}
	defer unix.Close(fd)
	var buf [4096]byte
	b, _ := readUpTo(fd, buf[:])
	return systemPreload + "=" + strings.Join(strings.FieldsFunc(string(b), func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == ':' }), ":"), true
}

// resolver resolves names as pid, stopped at its PTRACE_EVENT_EXEC, would.
func (l *loaderRule) resolver(pid int) *resolver {
	r := newResolver(pid, pid)
	if l.sharedRoot >= 0 {
		r.sharedRoot, r.rootView = l.sharedRoot, "/"
	}
	return r
}

// watch is the loader watch of pid (loaderwatch_linux.go): the loader's address range
// (the ELF interpreter's mappings, or the program's when it is the loader), and the
// auditors among its inputs (decide's), which a policy may let run (Loader: alert or off).
func (l *loaderRule) watch(pid int, a *approval, inputs []loaderInput) (*loaderWatch, error) {
	if l.p.Drift == policy.Off {
		return nil, nil // nothing it maps would be judged
	}
	dev, ino := a.interpEv.dev, a.interpEv.ino
	if l.direct {
		dev, ino = a.ev.dev, a.ev.ino
	}
	lo, hi, err := spanOf(pid, a, dev, ino)
	if err != nil {
		return nil, err
	}
	w := &loaderWatch{rule: l, ld: [2]uint64{lo, hi}, audit: map[[2]uint64]bool{}, pending: map[int]mappingCall{}}
	for _, in := range inputs {
		if in.audit {
			w.audit[[2]uint64{in.file.ev.dev, in.file.ev.ino}] = true
		}
	}
	// musl's loader is its libc: its program's system calls never leave the loader's
	// mappings; an auditor's own libc makes some before the program's libraries are
	// mapped. Then the program's entry marks the hand-over (TestLoaderWatchMusl,
	// TestAuditorEarlyHandOver). Run directly, the entry is the loader's own: not planted.
	if !l.direct && (strings.HasPrefix(path.Base(a.interpName), "ld-musl-") || len(w.audit) > 0) {
		if entry, err := auxvFileValue(pid, a, 9); err == nil { // AT_ENTRY
			w.arm(pid, entry)
		}
	}
	return w, nil
}

// cmdlineArgs splits NUL-terminated strings (a command line, loader variables) for events.
func cmdlineArgs(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// loaderEnvAt reads the loader variables (loaderEnvNames) of the environment the kernel
// copied for the new image of pid, NUL-separated: from the new
// stack (loaderVarsOnStack), or from /proc/PID/environ when it does not fit one read.
// Precondition: as checkExec, and the calling thread is pid's tracer.
//
// base is AT_BASE, where the kernel mapped the ELF interpreter, read from the same stack,
// or from /proc/PID/auxv.
func loaderEnvAt(pid int, a *approval) (vars []byte, base uint64, err error) {
	if vars, base, ok := loaderVarsOnStack(pid); ok {
		return vars, base, nil // one process_vm_readv instead of an open, a read and a close
	}
	if base, err = auxvFileBase(pid, a); err != nil {
		return nil, 0, err
	}
	fd, err := openProcNow(pid, a, "environ")
	if err != nil {
		return nil, 0, err
	}
	defer unix.Close(fd)
	vars, err = loaderVarsIn(fd)
	return vars, base, err
}

// auxvFileBase reads AT_BASE from /proc/PID/auxv (opened now: the new image's).
func auxvFileBase(pid int, a *approval) (uint64, error) { return auxvFileValue(pid, a, 7) }

// auxvFileValue reads the entry of type typ from /proc/PID/auxv (opened now: the new
// image's), 0 when there is none.
func auxvFileValue(pid int, a *approval, typ uint64) (uint64, error) {
	bp := environBufs.Get().(*[environBufSize]byte)
	defer environBufs.Put(bp)
	b, err := readProcNow(pid, a, "auxv", bp[:])
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	for i := 0; i+16 <= len(b); i += 16 {
		if t := le.Uint64(b[i:]); t == typ {
			return le.Uint64(b[i+8:]), nil
		} else if t == 0 {
			break
		}
	}
	return 0, nil
}

// openProcNow opens /proc/PID/NAME of the image pid runs now, relative to the prepared
// /proc/PID directory when there is one. Not at the exec call: an open environ, auxv or
// maps file reads the memory of the image it was opened on (fs/proc/base.c,
// __mem_open), which the exec replaced.
func openProcNow(pid int, a *approval, name string) (int, error) {
	if a.prepared && a.procDir >= 0 {
		return unix.Openat(a.procDir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	return unix.Open("/proc/"+strconv.Itoa(pid)+"/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

// readProcNow reads /proc/PID/NAME (openProcNow) into buf, up to its end or buf's.
func readProcNow(pid int, a *approval, name string, buf []byte) ([]byte, error) {
	fd, err := openProcNow(pid, a, name)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return readUpTo(fd, buf)
}

// readUpTo reads fd into buf, up to its end or buf's.
func readUpTo(fd int, buf []byte) ([]byte, error) {
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}

// mappedAt is the device and inode of the file mapped at base in pid's new image, from
// /proc/PID/maps: its PROCMAP_QUERY ioctl (Linux 6.11) where the kernel has it, else its
// text ("start-end perms offset major:minor inode path", numbers in hex but the inode).
func mappedAt(pid int, a *approval, base uint64) (dev, ino uint64, err error) {
	if base == 0 {
		return 0, 0, fmt.Errorf("no AT_BASE: the kernel loaded no interpreter")
	}
	fd, err := openProcNow(pid, a, "maps")
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	if !noProcmapQuery.Load() {
		q, err := procmapAt(fd, base)
		switch err {
		case nil:
			if q.vmaStart != base {
				return 0, 0, fmt.Errorf("no mapping starts at %#x (one spans %#x-%#x)", base, q.vmaStart, q.vmaEnd)
			}
			return unix.Mkdev(q.devMajor, q.devMinor), q.inode, nil
		case unix.ENOENT:
			return 0, 0, fmt.Errorf("no mapping starts at %#x", base)
		case unix.ENOTTY, unix.EINVAL:
			noProcmapQuery.Store(true) // an older kernel: read the text from now on
		default:
			return 0, 0, err
		}
	}
	return mappedAtText(fd, base)
}

// spanOf is the address range [lo, hi) that pid's mappings of the file dev:ino cover
// (a loaded ELF object: its segments, mapped next to each other), from /proc/PID/maps.
func spanOf(pid int, a *approval, dev, ino uint64) (lo, hi uint64, err error) {
	fd, err := openProcNow(pid, a, "maps")
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	note := func(start, end, d, i uint64) bool {
		if d == dev && i == ino {
			if hi == 0 || start < lo {
				lo = start
			}
			hi = max(hi, end)
		}
		return true
	}
	if !noProcmapQuery.Load() {
		for addr, n := uint64(0), 0; n < 65536; n++ {
			q, err := procmapNext(fd, addr)
			if err == unix.ENOENT {
				break
			}
			if err != nil {
				return 0, 0, err
			}
			note(q.vmaStart, q.vmaEnd, unix.Mkdev(q.devMajor, q.devMinor), q.inode)
			addr = q.vmaEnd
		}
	} else if err := eachMapping(fd, note); err != nil {
		return 0, 0, err
	}
	if hi == 0 {
		return 0, 0, fmt.Errorf("no mapping of %d:%d", dev, ino)
	}
	return lo, hi, nil
}

// noProcmapQuery is set once the kernel has refused PROCMAP_QUERY.
var noProcmapQuery atomic.Bool

// mappedAtText is mappedAt from the text of the maps file fd.
func mappedAtText(fd int, base uint64) (dev, ino uint64, err error) {
	found := false
	err = eachMapping(fd, func(start, _, d, i uint64) bool {
		if start == base {
			dev, ino, found = d, i, true
		}
		return !found
	})
	if err == nil && !found {
		err = fmt.Errorf("no mapping starts at %#x", base)
	}
	return dev, ino, err
}

// eachMapping calls f with the range, device and inode of each line of the maps file fd
// ("start-end perms offset major:minor inode path", numbers in hex but the inode), until f
// returns false.
func eachMapping(fd int, f func(start, end, dev, ino uint64) bool) error {
	bp := environBufs.Get().(*[environBufSize]byte)
	defer environBufs.Put(bp)
	b, err := readUpTo(fd, bp[:])
	if err != nil {
		return err
	}
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		w := strings.Fields(string(line))
		if len(w) < 5 {
			continue
		}
		start, end, _ := strings.Cut(w[0], "-")
		maj, min, _ := strings.Cut(w[3], ":")
		s, err1 := strconv.ParseUint(start, 16, 64)
		e, err2 := strconv.ParseUint(end, 16, 64)
		ma, err3 := strconv.ParseUint(maj, 16, 32)
		mi, err4 := strconv.ParseUint(min, 16, 32)
		in, err5 := strconv.ParseUint(w[4], 10, 64)
		if err1 == nil && err2 == nil && err3 == nil && err4 == nil && err5 == nil && !f(s, e, unix.Mkdev(uint32(ma), uint32(mi)), in) {
			break
		}
	}
	return nil
}
