//go:build linux

package defender

import (
	"strings"
	"testing"
)

func TestShebang(t *testing.T) {
	for _, tc := range []struct{ in, interp, arg string }{
		{"#!/bin/sh\necho", "/bin/sh", ""},
		{"#! /usr/bin/env python3 -u\n", "/usr/bin/env", "python3 -u"},
		{"#!/bin/sh\t-e\n", "/bin/sh", "-e"},
	} {
		i, a, ok := shebang([]byte(tc.in))
		if !ok || i != tc.interp || a != tc.arg {
			t.Errorf("shebang(%q) = %q %q %v", tc.in, i, a, ok)
		}
	}
	if _, _, ok := shebang([]byte("\x7fELF")); ok {
		t.Error("ELF taken for a script")
	}
}

func TestIsMagicLink(t *testing.T) {
	for p, want := range map[string]bool{
		"/proc/12/fd/3": true, "/proc/12/exe": true, "/proc/1/task/2/fd/0": true, "/proc/12/cwd": true,
		"/proc/12/map_files/400000-401000": true, "/proc/12/fd": false, "/proc/self/fd/3": false, "/tmp/x": false,
	} {
		if got := isMagicLink(p); got != want {
			t.Errorf("isMagicLink(%s) = %v", p, got)
		}
	}
}

func TestClimb(t *testing.T) {
	for _, tc := range []struct{ dir, rel, want string }{
		{"/tmp/gone/sub", "../../../bin/echo", "/bin/echo"},
		{"/tmp/gone", "./../x", "/tmp/x"},
		{"/tmp/gone", "../../../../../../x", "/x"},
		{"/tmp/gone", "..", "/tmp/"},
		{"/tmp/gone", "x", ""},
		{"/tmp/gone", "./x", ""},
		{"/", "../x", "/x"},
	} {
		got, ok := climb(tc.dir, tc.rel)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("climb(%q, %q) = %q, %v; want %q", tc.dir, tc.rel, got, ok, tc.want)
		}
	}
}

// FuzzClimb: the path of an exec call is the program's choice; climb, which runs on the
// supervisor thread, must never panic and must stay inside the tracee's root.
func FuzzClimb(f *testing.F) {
	f.Add("/tmp/gone/sub", "../../../bin/echo")
	f.Add("/", "..//./../x")
	f.Fuzz(func(t *testing.T, dir, rel string) {
		if !strings.HasPrefix(dir, "/") {
			return
		}
		p, ok := climb(dir, rel)
		if ok && !strings.HasPrefix(p, "/") {
			t.Fatalf("climb(%q, %q) = %q: not absolute", dir, rel, p)
		}
	})
}
