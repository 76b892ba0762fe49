//go:build linux

package defender

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Time-setting calls (utimensat, and on amd64 futimesat, utimes and utime) are the only
// way to give a file an mtime other than the current time. The filter hands every one of
// them to the defender (traceTimes), which answers it in one of two ways:
//
//   - continue: times == NULL (a plain touch, read from the register, so no other thread
//     can change it) of anything but an image program: the kernel sets both times to now,
//     which can only make a file look newer.
//   - emulate: anything else. The defender reads the times once, clamps them, and makes
//     the call itself on the file it resolved, with the caller's permissions checked as
//     the kernel would (owner or CAP_FOWNER for explicit times; also write access for
//     "now"). The clamp: an mtime before the baseline is not set (UTIME_OMIT: the file
//     keeps the mtime its last write gave it), and "now" is not set on an image program
//     (touch of an image program is not drift). Emulating instead of continuing means no
//     other thread can change the times or the path between the defender's read and the
//     kernel's: the call that runs is the call that was clamped.
//
// What the caller sees: success, as if the times were set. cp -p, tar and rsync -a keep
// working; the files they write keep their real write time, and are drift if executed,
// which is the point.

// timesCall is one time-setting call as read from the caller.
type timesCall struct {
	dirfd  int
	path   *string // nil: the call names dirfd itself (futimens)
	times  *[2]unix.Timespec
	flags  int
	nullTs bool // the times pointer was NULL: both times are "now"
}

// timesArgs maps a time-setting call to its arguments: the index of the path argument, of
// the times argument, whether the call has a dirfd (argument 0) and flags (argument 3),
// and how the times are encoded. ok is false for any other call.
func timesArgs(nr int) (pathArg, timesArg int, dirfd, flags bool, enc timesEncoding, ok bool) {
	if nr == unix.SYS_UTIMENSAT {
		return 1, 2, true, true, encTimespec, true
	}
	return archTimesArgs(nr)
}

type timesEncoding int

const (
	encTimespec timesEncoding = iota // struct timespec[2]: sec, nsec
	encTimeval                       // struct timeval[2]: sec, usec
	encUtimbuf                       // struct utimbuf: actime, modtime (seconds)
)

// readTimesCall reads a time-setting call's arguments from tid's memory.
func readTimesCall(tid, nr int, args [6]uint64) (*timesCall, error) {
	pathArg, timesArg, hasDirfd, hasFlags, enc, _ := timesArgs(nr)
	c := &timesCall{dirfd: unix.AT_FDCWD}
	if hasDirfd {
		c.dirfd = int(int32(args[0]))
	}
	if hasFlags {
		c.flags = int(int32(args[3]))
	}
	if args[pathArg] != 0 {
		p, err := readString(tid, args[pathArg], maxPathLen)
		if err != nil {
			return nil, err
		}
		c.path = &p
	} else if !hasDirfd {
		return nil, unix.EFAULT // utimes(NULL, ...), utime(NULL, ...)
	}
	if args[timesArg] == 0 {
		c.nullTs = true
		c.times = &[2]unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}
		return c, nil
	}
	var buf [32]byte
	n, err := readMem(tid, args[timesArg], buf[:])
	want := 32
	if enc == encUtimbuf {
		want = 16
	}
	if err != nil || n < want {
		return nil, unix.EFAULT
	}
	w := func(i int) int64 { return int64(binary.LittleEndian.Uint64(buf[8*i:])) }
	var ts [2]unix.Timespec
	switch enc {
	case encTimespec:
		ts = [2]unix.Timespec{{Sec: w(0), Nsec: w(1)}, {Sec: w(2), Nsec: w(3)}}
		for _, t := range ts {
			if t.Nsec != unix.UTIME_NOW && t.Nsec != unix.UTIME_OMIT && (t.Nsec < 0 || t.Nsec >= 1e9) {
				return nil, unix.EINVAL
			}
		}
	case encTimeval:
		for i := range ts {
			if w(2*i+1) < 0 || w(2*i+1) >= 1e6 {
				return nil, unix.EINVAL
			}
			ts[i] = unix.Timespec{Sec: w(2 * i), Nsec: w(2*i+1) * 1000}
		}
	case encUtimbuf:
		ts = [2]unix.Timespec{{Sec: w(0)}, {Sec: w(1)}}
	}
	c.times = &ts
	return c, nil
}

// timesAnswer is how one time-setting call is answered.
type timesAnswer struct {
	cont  bool       // let the kernel run the call as it is
	errno unix.Errno // otherwise: the call's result (0: success)
}

// onTimesCall decides and, unless it can continue, performs a time-setting call of tid.
// root is a descriptor of the caller's root, or -1 to use /proc/TID/root. live, when not
// nil, says whether tid is still the caller, blocked in the call (Notify): it is asked
// after the reads and before anything is done on the caller's behalf.
func (d driftCheck) onTimesCall(tid, nr int, args [6]uint64, root int, live func() bool) timesAnswer {
	c, err := readTimesCall(tid, nr, args)
	if err != nil {
		if errno, ok := err.(unix.Errno); ok {
			return timesAnswer{errno: errno}
		}
		return timesAnswer{errno: unix.EFAULT}
	}
	fd, name, err := openTimesTarget(tid, c, root)
	if err != nil {
		return timesAnswer{errno: errnoOf(err)}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	nofollow := c.flags&unix.AT_SYMLINK_NOFOLLOW != 0
	if err := fstatTarget(fd, name, nofollow, &st); err != nil {
		return timesAnswer{errno: errnoOf(err)}
	}
	if live != nil && !live() {
		return timesAnswer{errno: unix.ESRCH}
	}
	image := d.isImageProgram(&st)
	if c.nullTs && !image {
		return timesAnswer{cont: true}
	}
	if errno := timesPermission(tid, c, &st); errno != 0 {
		return timesAnswer{errno: errno}
	}
	ts := *c.times
	switch m := ts[1]; {
	case m.Nsec == unix.UTIME_OMIT:
	case m.Nsec == unix.UTIME_NOW:
		if image {
			ts[1].Nsec = unix.UTIME_OMIT
		}
	case !time.Unix(m.Unix()).After(d.baseline):
		ts[1] = unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	if ts[0].Nsec == unix.UTIME_OMIT && ts[1].Nsec == unix.UTIME_OMIT {
		return timesAnswer{}
	}
	flags := 0
	if name != "" && nofollow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	target := name
	dir := fd
	if name == "" {
		dir, target = unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd)
	}
	if err := unix.UtimesNanoAt(dir, target, ts[:], flags); err != nil {
		return timesAnswer{errno: errnoOf(err)}
	}
	return timesAnswer{}
}

// openTimesTarget opens what a time-setting call names: an O_PATH descriptor of the file
// itself (name "") when the call names a descriptor, or of the directory holding it and
// the entry's name.
func openTimesTarget(tid int, c *timesCall, root int) (fd int, name string, err error) {
	proc := "/proc/" + strconv.Itoa(tid)
	if c.path == nil || (*c.path == "" && c.flags&unix.AT_EMPTY_PATH != 0) {
		if c.dirfd == unix.AT_FDCWD && c.path == nil {
			return -1, "", unix.EBADF
		} else if c.dirfd == unix.AT_FDCWD {
			fd, err = unix.Open(proc+"/cwd", unix.O_PATH|unix.O_CLOEXEC, 0)
		} else {
			fd, err = unix.Open(proc+"/fd/"+strconv.Itoa(c.dirfd), unix.O_PATH|unix.O_CLOEXEC, 0)
		}
		return fd, "", err
	}
	p := *c.path
	if p == "" {
		return -1, "", unix.ENOENT
	}
	if !strings.HasPrefix(p, "/") {
		base := proc + "/cwd"
		if c.dirfd != unix.AT_FDCWD {
			base = proc + "/fd/" + strconv.Itoa(c.dirfd)
		}
		// The directory itself, through its magic link: no name to race on.
		dirfd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, "", err
		}
		if !strings.Contains(p, "/") {
			return dirfd, p, nil
		}
		defer unix.Close(dirfd)
		// A relative path with directories: resolved from the tracee's view of that
		// directory, under its root.
		var lbuf [unix.PathMax]byte
		n, err := fdLink(dirfd, lbuf[:])
		if err != nil {
			return -1, "", err
		}
		r := newResolver(tid, tid)
		p = r.toTracee(string(lbuf[:n])) + "/" + p
	}
	if strings.Contains(p, "/proc") {
		// procfs names ("self") would resolve for the defender: not emulated.
		return -1, "", unix.EPERM
	}
	dir, base := p[:strings.LastIndexByte(p, '/')+1], p[strings.LastIndexByte(p, '/')+1:]
	if base == "" || base == "." || base == ".." {
		base, dir = ".", p
	}
	if root < 0 {
		if root, err = unix.Open(proc+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return -1, "", err
		}
		defer unix.Close(root)
	}
	fd, err = unix.Openat2(root, dir, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	return fd, base, err
}

// fstatTarget stats the target: fd itself (name "") or the entry name in directory fd.
func fstatTarget(fd int, name string, nofollow bool, st *unix.Stat_t) error {
	if name == "" {
		return unix.Fstat(fd, st)
	}
	flags := 0
	if nofollow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	return unix.Fstatat(fd, name, st, flags)
}

// timesPermission checks the caller's right to set times on st as utimensat(2) says:
// explicit times need the owner or CAP_FOWNER; "now" for both also allows write access
// (approximated by the mode's group and other bits, and CAP_DAC_OVERRIDE).
func timesPermission(tid int, c *timesCall, st *unix.Stat_t) unix.Errno {
	fields, err := procStatus(strconv.Itoa(tid))
	if err != nil {
		return unix.ESRCH
	}
	ids := func(k string) []string { return strings.Fields(fields[k]) }
	uids, gids := ids("Uid"), ids("Gid")
	if len(uids) < 4 || len(gids) < 4 {
		return unix.EPERM
	}
	capEff, _ := strconv.ParseUint(fields["CapEff"], 16, 64)
	if uids[3] == strconv.Itoa(int(st.Uid)) || capEff&(1<<unix.CAP_FOWNER) != 0 {
		return 0
	}
	bothNow := c.times[0].Nsec == unix.UTIME_NOW && c.times[1].Nsec == unix.UTIME_NOW
	if !bothNow {
		return unix.EPERM
	}
	if capEff&(1<<unix.CAP_DAC_OVERRIDE) != 0 || st.Mode&0o002 != 0 ||
		(st.Mode&0o020 != 0 && inGroups(fields, gids[3], st.Gid)) {
		return 0
	}
	return unix.EACCES
}

func inGroups(fields map[string]string, fsgid string, gid uint32) bool {
	g := strconv.Itoa(int(gid))
	if fsgid == g {
		return true
	}
	for _, x := range strings.Fields(fields["Groups"]) {
		if x == g {
			return true
		}
	}
	return false
}

func errnoOf(err error) unix.Errno {
	if errno, ok := err.(unix.Errno); ok {
		return errno
	}
	return unix.EPERM
}
