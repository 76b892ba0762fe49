//go:build linux

package defender

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// A script is read by name twice: once by the defender when it decides the exec, and once
// by the interpreter after the exec, when it opens its script operand (the kernel hands a
// "#!" interpreter the script's name, not the file). Between the two the caller, or any
// process that can write the script's directory, can put another file under that name: a
// symlink repointed, a file renamed over the script, a script created where none was. The
// EXEC-time check sees only the interpreter, which is the approved one.
//
// So an exec whose program opens a file named by its arguments (an interpreter's script, the
// program `ld.so FILE` loads) is followed past PTRACE_EVENT_EXEC with syscall stops
// (PTRACE_SYSCALL), in every thread it starts meanwhile, until the program opens the file:
//
//  1. At each open (open, openat, openat2) that succeeds, the opened descriptor is stat'ed
//     (/proc/TID/fd/N). The approved file (same device and inode) ends the watch, if its
//     evidence (size, mtime, ctime) is still what was decided; otherwise the program is
//     killed. Another file opened under the operand's name (as given, made absolute
//     against the working directory, or as resolved when decided) is a swap: killed.
//  2. Programs that resolve the name themselves before opening it (Node's realpath, and
//     Python's readlink of its script) read its symlinks: a readlink of a path the
//     decision walked whose answer differs from what the walk found (another target, or a
//     link where there was none) is a swap too.
//  3. An exec call ends the watch (the file was never read by this image; the new image
//     is decided afresh, operand included), and so does exit.
//  3a. A file opened under the script's base name in another directory (bash and
//     `perl -S` search PATH for a name they cannot open; a working directory renamed
//     after the decision changes every relative name) is judged as a script: one whose
//     content was written after the task started is killed.
//  4. After maxWatchStops syscall stops without the file being opened the program is
//     killed (fail closed): interpreters open their script within a few thousand stops,
//     and a program that only delays its open (a huge PYTHONPATH, hundreds of threads)
//     must not outlast the watch. There is no time limit: a program stopped by a signal
//     costs nothing while it waits, and a limit in time let a swap win after a SIGSTOP.
//
// What it costs: two stops per system call of that one thread, from its exec to its open of
// the script (dash about 40 calls, bash about 180, perl 160, python3 320, node 1,000).
// Execs of programs (no script operand) are not followed.

// maxWatchStops bounds one watch (entry and exit stops count one each, over all the
// program's threads): node 18 opens its CommonJS script after about 2,000 stops, python3
// after 640.
const maxWatchStops = 200000

// watchedCall is the kind of a system call a watch looks at.
type watchedCall uint8

const (
	callNone watchedCall = iota
	callOpen
	callReadlink
)

// scriptWatch is the file a program must open by name after its exec (see above).
type scriptWatch struct {
	name    string // the operand as the program was given it
	abs     string // name made absolute against the caller's working directory, lexically
	path    string // the file as resolved when decided; "" when it did not exist
	ev      evidence
	program string // the program that opens it, for events
	base    string // "/" and the name's last component
	drift   driftCheck
	// fixed: the name cannot change (read-only mounts all the way): nothing to follow.
	fixed bool
	// links is what the decision's walk of abs found at each path it looked at: the
	// symlink's target, or "" for a component that was not a symlink.
	links map[string]string
	stops int
	// done: the watch ended; threads still attached are let go at their next stop.
	done bool
	// pending is, by thread, the call seen at its entry stop, looked at again at its exit:
	// every thread of the program is followed (Node's ES module loader reads the script
	// on a thread of its pool).
	pending map[int]pendingCall
}

// pendingCall is a watched call between its entry and exit stops.
type pendingCall struct {
	call            watchedCall
	dirfd           int
	pathArg, bufArg uint64
	// pathOnly: an O_PATH open, which reads nothing: the decided file opened so does not
	// end the watch (another file under the name still kills).
	pathOnly bool
}

// newScriptWatch builds the watch of name, which the decision resolved to f (nil when it did
// not resolve), to be opened by program; drift judges files found under its base name. It
// reports false when the name no longer leads to f: it was changed while the exec was
// being decided.
func newScriptWatch(r *resolver, name string, f *file, program string, drift driftCheck) (*scriptWatch, bool) {
	w := &scriptWatch{name: name, program: program, drift: drift, pending: map[int]pendingCall{}}
	if f != nil {
		w.path, w.ev = f.Path, f.ev
	}
	base := ""
	if !strings.HasPrefix(name, "/") {
		t, err := os.Readlink("/proc/" + strconv.Itoa(r.tid) + "/cwd")
		if err != nil {
			return w, true
		}
		base = r.toTracee(strings.TrimSuffix(t, " (deleted)")) + "/"
	}
	w.abs = cleanAbs(base + name)
	if strings.HasPrefix(w.abs, "/proc/") || w.abs == "/proc" {
		return w, true
	}
	w.base = "/" + name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		w.base = name[i:]
	}
	// The walk runs after the decision's own resolution of the name, so it must end at the
	// file decided: otherwise what it records is another file's way.
	var end string
	var writable bool
	// The name as given, not cleaned: ".." after a symlink leaves the symlink's target,
	// as the kernel's walk does.
	w.links, end, writable = r.linkWalk(base + name)
	if !writable {
		// Every directory on the way is on a read-only mount: nobody can rename, repoint or
		// create a name there (short of mounting over it, which needs CAP_SYS_ADMIN), so the
		// program reads what was decided and is not followed.
		w.fixed = true
	}
	if f == nil {
		return w, true
	}
	var st unix.Stat_t
	var err error
	if r.sharedRoot >= 0 {
		err = unix.Fstatat(r.sharedRoot, strings.TrimPrefix(end, "/"), &st, unix.AT_SYMLINK_NOFOLLOW)
	} else {
		err = unix.Lstat(r.rootPrefix+end, &st)
	}
	return w, err == nil && st.Dev == f.ev.dev && st.Ino == f.ev.ino
}

// linkWalk resolves abs (an absolute tracee path) component by component as realpath(3)
// and Node's realpath do, and records at each path it looks at the symlink target found, or
// "" for a component that is not a symlink. end is where the walk ends; writable says some
// directory it looked a name up in is not on a read-only mount (or could not be told).
func (r *resolver) linkWalk(abs string) (m map[string]string, end string, writable bool) {
	m = map[string]string{}
	seen := map[string]bool{}
	lookIn := func(dir string) {
		if writable || seen[dir] {
			return
		}
		seen[dir] = true
		var fs unix.Statfs_t
		var err error
		if r.sharedRoot >= 0 {
			fd, oerr := unix.Openat(r.sharedRoot, "."+dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err = oerr; err == nil {
				err = unix.Fstatfs(fd, &fs)
				unix.Close(fd)
			}
		} else {
			err = unix.Statfs(r.rootPrefix+dir, &fs)
		}
		writable = err != nil || fs.Flags&unix.ST_RDONLY == 0
	}
	comps := splitPath(abs)
	cur := ""
	var buf [unix.PathMax]byte
	for links, steps := 0, 0; len(comps) > 0 && links <= maxSymlinks && steps < 4096; steps++ {
		c := comps[0]
		comps = comps[1:]
		if dotStep(c, &cur) {
			continue
		}
		next := cur + "/" + c
		lookIn(cur + "/")
		var n int
		var err error
		if r.sharedRoot >= 0 {
			n, err = unix.Readlinkat(r.sharedRoot, next[1:], buf[:])
		} else {
			n, err = unix.Readlink(r.rootPrefix+next, buf[:])
		}
		if err != nil {
			m[next] = ""
			cur = next
			continue
		}
		target := string(buf[:n])
		m[next] = target
		links++
		if strings.HasPrefix(target, "/") {
			cur = ""
		}
		comps = append(splitPath(target), comps...)
	}
	if cur == "" {
		cur = "/"
	}
	return m, cur, writable
}

// watchedCallOf is the call a watch looks at (callNone for the others), with its
// directory, path and buffer arguments.
func watchedCallOf(nr int, args [6]uint64) pendingCall {
	switch nr {
	case unix.SYS_OPENAT:
		return pendingCall{call: callOpen, dirfd: int(int32(args[0])), pathArg: args[1], pathOnly: args[2]&unix.O_PATH != 0}
	case unix.SYS_OPENAT2: // its flags are in memory; an O_PATH open counts as a read
		return pendingCall{call: callOpen, dirfd: int(int32(args[0])), pathArg: args[1]}
	case unix.SYS_READLINKAT:
		return pendingCall{call: callReadlink, dirfd: int(int32(args[0])), pathArg: args[1], bufArg: args[2]}
	}
	if k, p, ok := archPathArgs(nr); ok {
		pc := pendingCall{call: k, dirfd: unix.AT_FDCWD, pathArg: args[p], bufArg: args[p+1]}
		if k == callOpen {
			pc.bufArg, pc.pathOnly = 0, args[p+1]&unix.O_PATH != 0 // open(path, flags, mode)
		}
		return pc
	}
	return pendingCall{}
}

// execWatch follows a program past its exec with syscall stops: to its open of its script
// (scriptWatch), through its loader's mappings (loaderWatch), or both (watchSet).
type execWatch interface {
	// step looks at one syscall stop of the watched thread tid. An outcome other than
	// watchGoOn ends the watch for every thread. c, when not nil, is what to report: the
	// reason of a kill, or an alert while the watch goes on.
	step(tid int, si syscallInfo, r *resolver) (out watchOutcome, c *imageCheck)
}

// step is onSyscallStop as an execWatch.
func (w *scriptWatch) step(tid int, si syscallInfo, r *resolver) (watchOutcome, *imageCheck) {
	out, why := w.onSyscallStop(tid, si, r)
	if out == watchKill {
		c := mismatch(why)
		return out, &c
	}
	return out, nil
}

// watchSet is the watches of one program, each going on until it is done: the program is
// let go when all are.
type watchSet []execWatch

func (ws watchSet) step(tid int, si syscallInfo, r *resolver) (watchOutcome, *imageCheck) {
	out, note := watchDone, (*imageCheck)(nil)
	for _, w := range ws {
		o, c := w.step(tid, si, r)
		if o == watchKill {
			return o, c
		}
		if o == watchGoOn {
			out = watchGoOn
		}
		if c != nil {
			note = c
		}
	}
	return out, note
}

// watchAfter is the watch of a program past its exec: its script's, its loader's, both,
// or nil for none.
func watchAfter(script *scriptWatch, loader *loaderWatch) execWatch {
	switch {
	case script != nil && loader != nil:
		return watchSet{script, loader}
	case script != nil:
		return script
	case loader != nil:
		return loader
	}
	return nil
}

// watchOutcome is what one syscall stop of a watch comes to.
type watchOutcome uint8

const (
	watchGoOn watchOutcome = iota // follow the next system call
	watchDone                     // the approved file was opened, or an exec ends it: let go
	watchKill                     // another file is read under the name: kill
)

// onSyscallStop looks at one syscall stop of the watched thread tid. why explains a kill.
// Any outcome but watchGoOn ends the watch for every thread.
func (w *scriptWatch) onSyscallStop(tid int, si syscallInfo, r *resolver) (out watchOutcome, why string) {
	if w.done {
		return watchDone, ""
	}
	defer func() { w.done = out != watchGoOn }()
	w.stops++
	switch si.op {
	case unix.PTRACE_SYSCALL_INFO_ENTRY:
		if si.nr == unix.SYS_EXECVE || si.nr == unix.SYS_EXECVEAT {
			return watchDone, ""
		}
		if pc := watchedCallOf(si.nr, si.args); pc.call != callNone {
			w.pending[tid] = pc
		} else {
			delete(w.pending, tid)
		}
	case unix.PTRACE_SYSCALL_INFO_EXIT:
		pc, ok := w.pending[tid]
		delete(w.pending, tid)
		if ok && !si.isErr && si.rval >= 0 {
			if out, why := w.onResult(tid, pc, si.rval, r); out != watchGoOn {
				return out, why
			}
		}
	}
	if w.stops >= maxWatchStops {
		return watchKill, w.program + " did not open its script " + w.name + " within " + strconv.Itoa(maxWatchStops) + " system call stops: what it reads under that name could not be compared with the file decided"
	}
	return watchGoOn, ""
}

// onResult judges a successful open (rval is the descriptor) or readlink (rval is the
// length of the target written to the buffer).
func (w *scriptWatch) onResult(tid int, pc pendingCall, rval int64, r *resolver) (watchOutcome, string) {
	if pc.call == callOpen {
		fdPath := "/proc/" + strconv.Itoa(tid) + "/fd/" + strconv.FormatInt(rval, 10)
		var st unix.Stat_t
		if unix.Stat(fdPath, &st) != nil {
			return watchGoOn, ""
		}
		got := evidenceOf(&st)
		if w.path != "" && got.dev == w.ev.dev && got.ino == w.ev.ino {
			// Content only: a chmod or chown of the script by another process while the
			// interpreter starts (ctime) is not a different script; new content always
			// moves mtime past the task's start (no backdating, times_linux.go).
			want := w.ev
			want.ctime = got.ctime
			if d := want.differs(got); d != "" {
				return watchKill, "script " + w.path + " changed between the decision and " + w.program + "'s open of it: approved " + d
			}
			if pc.pathOnly {
				return watchGoOn, ""
			}
			return watchDone, ""
		}
		p, ok := w.callPath(tid, pc, r)
		if !ok {
			return watchGoOn, ""
		}
		opened, _ := os.Readlink(fdPath)
		if p != w.abs && p != w.path {
			// Another name. One with the script's base name that did not come with the image
			// is the script found elsewhere (a PATH search, a renamed working directory).
			if st.Mode&unix.S_IFMT != unix.S_IFREG || !strings.HasSuffix(p, w.base) {
				return watchGoOn, ""
			}
			f := statFile(&st, r.toTracee(opened), false)
			if df := w.drift.Of(f); df.Kind != policy.NoDrift {
				return watchKill, "script " + w.name + " decided as " + orNone(w.path) + ", but " + w.program + " opened " + p + ", which did not come with the image: " + df.Detail
			}
			return watchGoOn, ""
		}
		if w.path == "" {
			return watchKill, "script " + w.name + " did not exist when " + w.program + " was allowed to run it, and was then created (" + r.toTracee(opened) + ")"
		}
		return watchKill, "script " + w.name + " was replaced between the decision and " + w.program + "'s open of it: approved " + w.path + ", opened " + r.toTracee(opened) + ": approved " + w.ev.differs(got)
	}
	p, ok := w.callPath(tid, pc, r)
	if !ok {
		return watchGoOn, ""
	}
	want, walked := w.links[p]
	if !walked || rval > unix.PathMax {
		return watchGoOn, ""
	}
	buf := make([]byte, rval)
	if n, err := readMem(tid, pc.bufArg, buf); err != nil || n != len(buf) {
		return watchGoOn, ""
	}
	if got := string(buf); got != want {
		if want == "" {
			want = "not a symbolic link"
		}
		return watchKill, "script " + w.name + " was redirected between the decision and " + w.program + "'s read of it: " + p + " was " + want + ", is now a link to " + got
	}
	return watchGoOn, ""
}

// callPath is the path argument of the call seen at the entry stop, made absolute against
// its directory (the thread's working directory or the descriptor's), lexically, in the
// tracee's view.
func (w *scriptWatch) callPath(tid int, pc pendingCall, r *resolver) (string, bool) {
	p, err := readString(tid, pc.pathArg, maxPathLen)
	if err != nil || p == "" {
		return "", false
	}
	if strings.HasPrefix(p, "/") {
		return cleanAbs(p), true
	}
	base := "/proc/" + strconv.Itoa(tid) + "/cwd"
	if pc.dirfd != unix.AT_FDCWD {
		base = "/proc/" + strconv.Itoa(tid) + "/fd/" + strconv.Itoa(pc.dirfd)
	}
	t, err := os.Readlink(base)
	if err != nil || !strings.HasPrefix(t, "/") {
		return "", false
	}
	return cleanAbs(r.toTracee(strings.TrimSuffix(t, " (deleted)")) + "/" + p), true
}

// watch starts following tid, stopped, for w (Trace); the caller then resumes it with
// PTRACE_SYSCALL.
func (s *supervisor) watch(tid int, w execWatch) { s.watches[tid] = w }

// unwatch stops following tid (gone, exec'ing, or done), if a watch did.
func (s *supervisor) unwatch(tid int) { delete(s.watches, tid) }

// onWatchStop handles a syscall stop of the thread tid, which a watch follows under Trace,
// and resumes it: on to its next system call while the watch goes on, else until its next
// event.
func (s *supervisor) onWatchStop(tid int) {
	w := s.watches[tid]
	if w == nil {
		unix.PtraceCont(tid, 0)
		return
	}
	si, err := getSyscallInfo(tid)
	if err != nil {
		s.unwatch(tid)
		unix.PtraceCont(tid, 0)
		return
	}
	switch out, c := s.judge(tid, w, si, s.root()); out {
	case watchGoOn:
		if c != nil {
			s.cfg.Reporter.Report(s.imageEvent(tid, *c))
		}
		unix.PtraceSyscall(tid, 0)
		return
	case watchKill:
		s.killFor(tid, s.imageEvent(tid, *c))
	}
	s.unwatch(tid)
	unix.PtraceCont(tid, 0) // the loop collects the killed one's exit
}

// judge looks at one syscall stop si of tid for w and says what to do. root is s.root()
// as the caller read it.
func (s *supervisor) judge(tid int, w execWatch, si syscallInfo, root int) (watchOutcome, *imageCheck) {
	r := newResolver(tid, tid)
	if root >= 0 {
		r.sharedRoot, r.rootView = root, "/"
	}
	return w.step(tid, si, r)
}

// orNone is p, or "nothing (the name did not resolve)" for "".
func orNone(p string) string {
	if p == "" {
		return "nothing (the name did not resolve)"
	}
	return p
}

// checkedEvent is the event of a failed integrity check of the stopped tracee tid. Built
// before the kill, while /proc still shows the process (its program, arguments, parents).
func (s *supervisor) checkedEvent(tid int, why string) *Event {
	return s.eventFor(ActionKilled, ruleExecCheck, why, tgid(tid), nil, nil)
}

// imageEvent is the event of checkExec's verdict c on the new image of tid (killed or
// alerted), built as checkedEvent.
func (s *supervisor) imageEvent(tid int, c imageCheck) *Event {
	action := ActionAlerted
	if c.kill {
		action = ActionKilled
	}
	return s.eventFor(action, c.rule, c.why, tgid(tid), c.exec, nil)
}

// killFor kills the process of the stopped tracee tid and reports ev, built before.
func (s *supervisor) killFor(tid int, ev *Event) {
	unix.Kill(tid, unix.SIGKILL)
	s.cfg.Reporter.Report(ev)
}
