//go:build linux

package defender

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// The loader's own inputs are decided at PTRACE_EVENT_EXEC (loaderRule): the files the
// loader variables name, resolved then. The loader opens them afterwards, by name, so the
// names can be pointed elsewhere in between (a symlink flipped between an image library
// and a drop: TestPreloadRace), and a loader run directly (`ld.so PROG`) takes libraries
// from its options as well (`--preload`, `--audit`, `--library-path`).
//
// So a program whose loader reads loader variables, and a loader run directly, are
// followed past PTRACE_EVENT_EXEC with syscall stops until the loader hands over, and
// every file mapping it makes executable is judged by the file mapped, not by a name:
//
//  1. At the entry of an mmap with PROT_EXEC of a descriptor, the file behind it
//     (/proc/TID/fd/N) is judged by the drift rule, as a program is; drift is a kill (or
//     an alert, as the policy says) before the mapping exists.
//  2. At the exit of that mmap the file is stat'ed again: new content between the two
//     stops (size or mtime) is a kill. Nothing of the mapping has run yet.
//  3. The loader maps every object (LD_AUDIT libraries, then LD_PRELOAD ones, then what
//     they and the program need) before it runs any of their code but the auditors'
//     callbacks, and only then relocates them and runs their constructors. So the watch
//     ends at the first system call made from outside the loader's own mappings and the
//     auditors' executable ones: the loader has handed over.
//  4. An exec call ends it, and so does exit; maxWatchStops stops without a hand-over is
//     a kill, as for scripts.
//
// What it costs: two stops per system call of the loader's (about 40 for /bin/true with one
// preloaded library), on execs that have loader variables and direct runs of the loader
// only. Libraries opened later by dlopen are not followed (docs/design-notes.md,
// "Libraries loaded later").

// loaderWatch follows one program's loader (see above).
type loaderWatch struct {
	rule *loaderRule
	// ld is the loader's address range: the ELF interpreter's mappings, or the program's
	// own when the loader was run directly.
	ld [2]uint64
	// audit is the LD_AUDIT libraries decided at the exec event (device and inode);
	// auditText the executable mappings of them seen since, where their callbacks run.
	audit     map[[2]uint64]bool
	auditText [][2]uint64
	pending   map[int]mappingCall
	stops     int
	done      bool
	// entry is the program's entry point (AT_ENTRY), where a breakpoint planted at the exec
	// event ends the watch, when a first system call from outside the loader does not mark
	// the hand-over: the loader is also the program's libc (musl: every system call of the
	// program comes from inside its mappings), or auditors run (glibc loads each with its
	// own libc, whose initialisation makes system calls before the program's libraries are
	// mapped). saved is the text it replaced; nil when none is planted.
	entry uint64
	saved []byte
}

// mappingCall is an executable file mapping between its entry and exit stops.
type mappingCall struct {
	fd     int
	length uint64
	ev     evidence
	audit  bool
	path   string
}

// inLoader reports whether ip lies in the loader or an auditor's executable mapping.
func (l *loaderWatch) inLoader(ip uint64) bool {
	if ip >= l.ld[0] && ip < l.ld[1] {
		return true
	}
	for _, t := range l.auditText {
		if ip >= t[0] && ip < t[1] {
			return true
		}
	}
	return false
}

// step looks at one syscall stop of the watched thread tid (execWatch).
func (l *loaderWatch) step(tid int, si syscallInfo, r *resolver) (watchOutcome, *imageCheck) {
	if l.done {
		return watchDone, nil
	}
	l.stops++
	switch si.op {
	case unix.PTRACE_SYSCALL_INFO_ENTRY:
		delete(l.pending, tid)
		// With a breakpoint at the entry, only it ends the watch (see entry).
		if si.nr == unix.SYS_EXECVE || si.nr == unix.SYS_EXECVEAT || !l.inLoader(si.ip) && l.saved == nil {
			l.done = true
			l.disarm(tid)
			return watchDone, nil
		}
		if si.nr != unix.SYS_MMAP || si.args[2]&unix.PROT_EXEC == 0 || si.args[3]&unix.MAP_ANONYMOUS != 0 || int32(si.args[4]) < 0 {
			break
		}
		fd := int(int32(si.args[4]))
		st, path, ok := fdStat(tid, fd, r)
		if !ok {
			break // the call fails with EBADF: nothing is mapped
		}
		ev := evidenceOf(&st)
		l.pending[tid] = mappingCall{fd: fd, length: si.args[1], ev: ev, audit: l.audit[[2]uint64{ev.dev, ev.ino}], path: path}
		f := statFile(&st, path, false)
		if c := l.rule.judgeFile(f, "library "+path+" mapped by the loader of "+l.rule.prog.Path); c != nil {
			if c.kill {
				l.done = true
				return watchKill, c
			}
			return watchGoOn, c // an alert: reported, and the loader goes on
		}
	case unix.PTRACE_SYSCALL_INFO_EXIT:
		m, ok := l.pending[tid]
		delete(l.pending, tid)
		if !ok || si.isErr {
			break
		}
		st, _, ok := fdStat(tid, m.fd, r)
		if !ok {
			l.done = true
			return watchKill, &imageCheck{kill: true, rule: ruleExecCheck, why: "the loader of " + l.rule.prog.Path + " mapped " + m.path + ", whose descriptor was then closed: what was mapped could not be checked again"}
		}
		got := evidenceOf(&st)
		want := m.ev
		want.ctime = got.ctime // content only, as for scripts
		if d := want.differs(got); d != "" {
			l.done = true
			return watchKill, &imageCheck{kill: true, rule: ruleExecCheck, why: "the loader of " + l.rule.prog.Path + " mapped " + m.path + ", which changed while it was mapped: judged " + d}
		}
		if m.audit {
			l.auditText = append(l.auditText, [2]uint64{uint64(si.rval), uint64(si.rval) + m.length})
		}
	}
	if l.stops >= maxWatchStops {
		l.done = true
		return watchKill, &imageCheck{kill: true, rule: ruleExecCheck, why: "the loader of " + l.rule.prog.Path + " did not hand over within " + strconv.Itoa(maxWatchStops) + " system call stops: what it maps could not be judged"}
	}
	return watchGoOn, nil
}

// arm plants the entry breakpoint in pid, stopped at its PTRACE_EVENT_EXEC (see entry), or
// leaves the watch as it is when it cannot. Precondition: called on the tracer thread.
func (l *loaderWatch) arm(pid int, entry uint64) {
	if len(entryTrap) == 0 || entry == 0 {
		return
	}
	saved := make([]byte, len(entryTrap))
	if n, err := unix.PtracePeekText(pid, uintptr(entry), saved); err != nil || n != len(saved) {
		return
	}
	if n, err := unix.PtracePokeText(pid, uintptr(entry), entryTrap); err != nil || n != len(entryTrap) {
		return
	}
	l.entry, l.saved = entry, saved
}

// disarm puts back what the entry breakpoint replaced, if it is planted, so that the
// program runs on untraced. Precondition: tid is stopped, traced from this thread.
func (l *loaderWatch) disarm(tid int) {
	if l.saved != nil {
		unix.PtracePokeText(tid, uintptr(l.entry), l.saved)
		l.saved = nil
	}
}

// entryTrapped looks at a SIGTRAP signal-delivery stop of tid under w: when it is the
// entry breakpoint of w's loader watch, the loader has handed over: the breakpoint is
// taken out, tid set back to run the entry, and the loader watch is done (the next system
// call stop ends it). The caller then resumes tid without the signal.
func entryTrapped(w execWatch, tid int) bool {
	switch w := w.(type) {
	case *loaderWatch:
		if w.saved == nil || !rewindTrap(tid, w.entry) {
			return false
		}
		w.disarm(tid)
		w.done = true
		return true
	case watchSet:
		for _, x := range w {
			if entryTrapped(x, tid) {
				return true
			}
		}
	}
	return false
}

// fdStat stats descriptor fd of tid and names its file in the tracee's view.
func fdStat(tid, fd int, r *resolver) (unix.Stat_t, string, bool) {
	p := "/proc/" + strconv.Itoa(tid) + "/fd/" + strconv.Itoa(fd)
	var st unix.Stat_t
	if unix.Stat(p, &st) != nil {
		return st, "", false
	}
	name, _ := os.Readlink(p)
	return st, r.toTracee(name), true
}

// judgeFile decides a file the loader maps into the program (what says which, for the
// event): drift of it is drift of the program. nil when the policy has nothing to say.
func (l *loaderRule) judgeFile(f *file, what string) *imageCheck {
	df := l.drift.Of(f)
	if df.Kind == policy.NoDrift {
		return nil
	}
	e := *l.exec
	e.Drift, e.DriftDetail = df.Kind, what+": "+df.Detail
	switch d := l.p.Decide(&e); d.Effect {
	case policy.Block:
		return &imageCheck{kill: true, rule: d.Rule, why: d.Reason, exec: &e}
	case policy.Alert:
		return &imageCheck{alert: true, rule: d.Rule, why: d.Reason, exec: &e}
	}
	return nil
}
