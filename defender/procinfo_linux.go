//go:build linux

package defender

import (
	"os"
	"strconv"
	"strings"
	"sync"

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
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil {
			ev.Argv = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
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

var (
	passwdOnce sync.Once
	passwd     map[string]string
)

// userName maps a uid to its name in the container's /etc/passwd (the defender shares the
// program's root), or returns the number.
func userName(uid string) string {
	passwdOnce.Do(func() {
		passwd = map[string]string{}
		b, err := os.ReadFile("/etc/passwd")
		if err != nil || len(b) > 1<<20 {
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) > 2 {
				passwd[f[2]] = f[0]
			}
		}
	})
	if n, ok := passwd[uid]; ok {
		return n
	}
	return uid
}
