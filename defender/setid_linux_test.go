//go:build linux

package defender

import "testing"

func TestSetIDChanges(t *testing.T) {
	for _, tc := range []struct {
		name       string
		s          setID
		euid, egid uint32
		want       bool
	}{
		{"su run by root", setID{suid: true}, 0, 0, false},
		{"su run by a user", setID{suid: true}, 1000, 1000, true},
		{"set-user-ID of another user run by root", setID{suid: true, uid: 1000, gid: 1000}, 0, 0, true},
		{"set-user-ID of the caller itself", setID{suid: true, uid: 1000}, 1000, 1000, false},
		{"set-group-ID of another group", setID{sgid: true, gid: 42}, 1000, 1000, true},
		{"set-group-ID of the caller's group", setID{sgid: true, gid: 1000}, 1000, 1000, false},
		{"ping's capabilities for a user", setID{caps: true}, 1000, 1000, true},
		{"ping's capabilities for root", setID{caps: true}, 0, 0, false},
		{"nothing", setID{}, 1000, 1000, false},
	} {
		if got := tc.s.changes(tc.euid, tc.egid); got != tc.want {
			t.Errorf("%s: changes = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEffectiveIDs(t *testing.T) {
	euid, egid, ok := effectiveIDs(map[string]string{"Uid": "0\t1000\t1000\t1000", "Gid": "5\t6\t6\t6"})
	if !ok || euid != 1000 || egid != 6 {
		t.Errorf("got %d %d %v, want the second field of each", euid, egid, ok)
	}
	if _, _, ok := effectiveIDs(map[string]string{"Uid": "0"}); ok {
		t.Error("a short Uid line must not parse")
	}
}
