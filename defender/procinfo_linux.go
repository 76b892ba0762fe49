//go:build linux

package defender

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/taskward/taskward/policy"
)

// eventFor describes a process for an event. It reads /proc, so it is called only for
// events (never on the allow path).
func (s *supervisor) eventFor(action, rule, reason string, pid int, e *policy.Exec, argv []string) *Event {
	ev := &Event{Action: action, Rule: rule, Reason: reason, PID: pid, Argv: argv}
	if e != nil {
		ev.Program, ev.Invoked, ev.Argv = e.Path, e.Invoked, e.Argv
		if ev.Invoked == ev.Program {
			ev.Invoked = ""
		}
	} else {
		ev.Program, _ = os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if a := cmdline(pid); a != nil {
			ev.Argv = a
		}
	}
	ev.Cwd, _ = os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	st := readStat(pid)
	ev.PPID = st.ppid
	ev.User = userName(st.uid)
	for p, n := st.ppid, 0; p > 0 && n < maxParents; n++ {
		ps := readStat(p)
		ev.Parents = append(ev.Parents, strconv.Itoa(p)+":"+ps.comm)
		p = ps.ppid
	}
	return ev
}

type procStat struct {
	ppid int
	uid  string
	comm string
}

func readStat(pid int) procStat {
	fields, _ := procStatus(strconv.Itoa(pid))
	st := procStat{comm: fields["Name"]}
	st.ppid, _ = strconv.Atoi(fields["PPid"])
	st.uid, _, _ = strings.Cut(fields["Uid"], "\t") // real uid
	return st
}

// procStatus reads /proc/PID/status (PID may be "self") into its fields, values trimmed.
func procStatus(pid string) (map[string]string, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields, nil
}

// users maps uids to names from the container's /etc/passwd, read once before the program
// starts (loadUsers). Never later: the program may replace the file by a FIFO or a huge
// file, and nothing on the supervisor thread may block on a container file.
var users atomic.Pointer[map[string]string]

// maxPasswd bounds what loadUsers reads.
const maxPasswd = 1 << 20

// loadUsers reads /etc/passwd (the defender shares the program's root) into users, without
// blocking: only a regular file, opened O_NONBLOCK, at most maxPasswd bytes.
func loadUsers() {
	m := map[string]string{}
	defer users.Store(&m)
	fd, err := unix.Open("/etc/passwd", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > maxPasswd {
		return
	}
	b := make([]byte, st.Size)
	n, _ := unix.Pread(fd, b, 0)
	for _, line := range strings.Split(string(b[:max(n, 0)]), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 {
			m[f[2]] = f[0]
		}
	}
}

// userName maps a uid to its name (users), or returns the number.
func userName(uid string) string {
	if m := users.Load(); m != nil {
		if n, ok := (*m)[uid]; ok {
			return n
		}
	}
	return uid
}

// cmdline is the argument vector of pid, nil when it cannot be read.
func cmdline(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil
	}
	return cmdlineArgs(b)
}

// readProcStat reads the parent, start time and state of pid from /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses: fields are counted after the
// last ')'.
func readProcStat(pid int) (ppid int, start, state string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", "", false
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, "", "", false
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state(3) ppid(4) ... starttime(22).
	if len(f) < 20 {
		return 0, "", "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[19], f[0], err == nil
}
