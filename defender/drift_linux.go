//go:build linux

package defender

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// Drift (DESIGN.md decision 5, as revised in docs/design-notes.md): a program file is
// drift when its content did not come with the image. The evidence is the file's
// modification time against the task's baseline:
//
//   - The baseline is the moment the init container installed the defender into the task
//     volume (TaskBaseline): the program cannot move it (the volume is read-only to the
//     application container) and a restart of the container does not reset it.
//   - The kernel sets mtime to the current time on every content change (write, truncate,
//     mmap write, copy_file_range, a new file). Only the time-setting calls (utimensat,
//     futimesat, utimes, utime) can set an older one, and the filter hands every one of
//     them to the defender (timesCall), which never lets a file's mtime go back before the
//     baseline. So a file whose mtime is after the baseline was written during the task,
//     and one whose mtime is before was not.
//   - chown, chmod, a hard link, a rename, an overlay copy-up and touch (of an image
//     program: see timesCall) change ctime, not content: they are not drift.

// TaskBaseline is the moment the defender was installed for this task: the later of the
// modification and change times of the running executable, which `install` wrote into the
// task volume. Run uses it when Config.Baseline is zero.
func TaskBaseline() (time.Time, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return time.Time{}, fmt.Errorf("drift baseline: stat own executable: %w", err)
	}
	m, c := time.Unix(st.Mtim.Unix()), time.Unix(st.Ctim.Unix())
	if c.After(m) {
		return c, nil
	}
	return m, nil
}

// DriftFinding is the drift verdict on one file, with what was found.
type DriftFinding struct {
	Kind   policy.DriftKind // policy.NoDrift when the file came with the image
	Detail string           // what was found, for the event; "" when Kind is NoDrift
}

// driftCheck decides drift against one baseline.
type driftCheck struct{ baseline time.Time }

// Of is the drift verdict on a resolved program file f (the program, a script, its
// interpreter, its ELF interpreter or a preloaded library).
func (d driftCheck) Of(f *file) DriftFinding {
	switch {
	case strings.HasPrefix(f.Path, "/memfd:"):
		return DriftFinding{Kind: policy.Memfd, Detail: "memfd " + f.Path}
	case f.Nlink == 0 || strings.HasSuffix(f.Path, " (deleted)"):
		return DriftFinding{Kind: policy.Deleted, Detail: f.Path + " has no name left (deleted)"}
	case f.Mtime.After(d.baseline):
		return DriftFinding{Kind: policy.Modified, Detail: fmt.Sprintf("%s content written at %s, after the task started at %s",
			f.Path, f.Mtime.UTC().Format(time.RFC3339Nano), d.baseline.UTC().Format(time.RFC3339Nano))}
	}
	return DriftFinding{}
}

// isImageProgram reports whether st is a regular executable file whose content predates
// the baseline: a touch of it must not turn it into drift.
func (d driftCheck) isImageProgram(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o111 != 0 && !time.Unix(st.Mtim.Unix()).After(d.baseline)
}

// evidence is what identifies a file's content at one moment: checked again at
// PTRACE_EVENT_EXEC, so that a file rewritten in place after the decision never runs.
type evidence struct {
	dev, ino, size uint64
	mtime, ctime   unix.Timespec
}

func evidenceOf(st *unix.Stat_t) evidence {
	return evidence{dev: st.Dev, ino: st.Ino, size: uint64(st.Size), mtime: st.Mtim, ctime: st.Ctim}
}

// differs names what changed from e to got, or returns "" when nothing did.
func (e evidence) differs(got evidence) string {
	var d []string
	if e.dev != got.dev || e.ino != got.ino {
		d = append(d, fmt.Sprintf("file %d:%d, found %d:%d", e.dev, e.ino, got.dev, got.ino))
	}
	if e.size != got.size {
		d = append(d, fmt.Sprintf("size %d, found %d", e.size, got.size))
	}
	if e.mtime != got.mtime {
		d = append(d, fmt.Sprintf("mtime %s, found %s", tsString(e.mtime), tsString(got.mtime)))
	}
	if e.ctime != got.ctime {
		d = append(d, fmt.Sprintf("ctime %s, found %s", tsString(e.ctime), tsString(got.ctime)))
	}
	return strings.Join(d, "; ")
}

func tsString(t unix.Timespec) string {
	return time.Unix(t.Unix()).UTC().Format(time.RFC3339Nano)
}
