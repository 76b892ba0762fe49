//go:build linux

package defender

import (
	"strconv"
	"strings"
)

// setID is what an exec's set-ID bits and file capabilities would do without
// no_new_privs: execve(2) sets the effective user (group) to the file's owner (group) for a
// set-user-ID (set-group-ID) file, and grants the file's capabilities. With no_new_privs
// the kernel ignores all three (Documentation/userspace-api/no_new_privs.rst).
type setID struct {
	suid, sgid, caps bool
	uid, gid         uint32
}

func (s setID) any() bool { return s.suid || s.sgid || s.caps }

// changes reports whether the bits would have changed the credentials of a caller with
// effective ids euid and egid: a set-user-ID file owned by another user, a set-group-ID
// file of another group, or file capabilities for a caller that is not root (root's
// capabilities after exec already come from the bounding set, capabilities(7)).
func (s setID) changes(euid, egid uint32) bool {
	return (s.suid && s.uid != euid) || (s.sgid && s.gid != egid) || (s.caps && euid != 0)
}

// what names the bits for an event.
func (s setID) what() string {
	var w []string
	if s.suid {
		w = append(w, "set-user-ID ("+strconv.FormatUint(uint64(s.uid), 10)+")")
	}
	if s.sgid {
		w = append(w, "set-group-ID ("+strconv.FormatUint(uint64(s.gid), 10)+")")
	}
	if s.caps {
		w = append(w, "with file capabilities")
	}
	return strings.Join(w, ", ")
}

// effectiveIDs reads the effective user and group ids from /proc/PID/status fields
// ("Uid: real effective saved fs").
func effectiveIDs(fields map[string]string) (euid, egid uint32, ok bool) {
	second := func(v string) (uint32, bool) {
		f := strings.Fields(v)
		if len(f) < 2 {
			return 0, false
		}
		n, err := strconv.ParseUint(f[1], 10, 32)
		return uint32(n), err == nil
	}
	euid, ok1 := second(fields["Uid"])
	egid, ok2 := second(fields["Gid"])
	return euid, egid, ok1 && ok2
}
