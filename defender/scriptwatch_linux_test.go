//go:build linux

package defender

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLinkWalk: the decision's walk of a script name records, at each path a realpath of
// that name reads, the symlink target it found or "" for a plain component, following
// relative and absolute targets as realpath(3) does.
func TestLinkWalk(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"real/bin", "other"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "real/bin/app.js"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("real", filepath.Join(dir, "cur")))                                      // relative
	must(os.Symlink(filepath.Join(dir, "cur/bin/app.js"), filepath.Join(dir, "other/link"))) // absolute, through cur
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(err)
	defer unix.Close(root)
	r := newResolver(os.Getpid(), unix.Gettid())
	r.sharedRoot, r.rootView = root, "/"
	got, end, writable := r.linkWalk(filepath.Join(dir, "other/link"))
	if !writable {
		t.Errorf("a walk through a test's temporary directory says no directory is writable")
	}
	if end != dir+"/real/bin/app.js" {
		t.Errorf("walk ends at %s, want %s", end, dir+"/real/bin/app.js")
	}
	want := map[string]string{
		dir + "/other/link":      dir + "/cur/bin/app.js",
		dir + "/cur":             "real",
		dir + "/real":            "",
		dir + "/real/bin":        "",
		dir + "/real/bin/app.js": "",
		dir + "/other":           "",
	}
	for p := dir; p != "/"; p = filepath.Dir(p) {
		want[p] = ""
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("linkWalk:\n got %v\nwant %v", got, want)
	}
}

// TestLinkWalkReadOnly: a script whose every directory is on a read-only mount (a task with
// readonlyRootFilesystem) cannot be swapped and is not followed; one writable directory on
// the way (a tmpfs under it) is enough to follow it.
func TestLinkWalkReadOnly(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounts a tmpfs: needs root (CI runs tests as root)")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	for _, d := range []string{"app", "app/rw"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "app/run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", filepath.Join(dir, "app/rw"), "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../run.sh", filepath.Join(dir, "app/rw/link")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	r := newResolver(os.Getpid(), unix.Gettid())
	r.sharedRoot, r.rootView = root, "/"
	if _, end, writable := r.linkWalk("/app/run.sh"); writable || end != "/app/run.sh" {
		t.Errorf("/app/run.sh on a read-only mount: end %s, writable %v; want /app/run.sh, false", end, writable)
	}
	if _, end, writable := r.linkWalk("/app/rw/link"); !writable || end != "/app/run.sh" {
		t.Errorf("/app/rw/link through a writable tmpfs: end %s, writable %v; want /app/run.sh, true", end, writable)
	}
}

// TestWatchedCallOf: the calls a watch looks at, read from their registers as the kernel
// takes them; an O_PATH open is marked as reading nothing.
func TestWatchedCallOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		nr   int
		args [6]uint64
		want pendingCall
	}{
		{"openat", unix.SYS_OPENAT, [6]uint64{uint64(0xffffff9c), 0x1000, unix.O_RDONLY}, pendingCall{call: callOpen, dirfd: unix.AT_FDCWD, pathArg: 0x1000}},
		{"openat O_PATH", unix.SYS_OPENAT, [6]uint64{3, 0x1000, unix.O_PATH}, pendingCall{call: callOpen, dirfd: 3, pathArg: 0x1000, pathOnly: true}},
		{"openat2", unix.SYS_OPENAT2, [6]uint64{3, 0x1000, 0x2000, 24}, pendingCall{call: callOpen, dirfd: 3, pathArg: 0x1000}},
		{"readlinkat", unix.SYS_READLINKAT, [6]uint64{uint64(0xffffff9c), 0x1000, 0x2000, 4096}, pendingCall{call: callReadlink, dirfd: unix.AT_FDCWD, pathArg: 0x1000, bufArg: 0x2000}},
		{"close", unix.SYS_CLOSE, [6]uint64{3}, pendingCall{}},
	} {
		if got := watchedCallOf(tc.nr, tc.args); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestScriptWatchDotDot: a script named through a symlink and ".." (/x/link/../s0 with link
// pointing into a subdirectory) is the file the kernel's walk finds, not the lexically
// cleaned /x/s0: the decision must not call that a name changed while decided.
func TestScriptWatchDotDot(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"sub/deeper"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "sub/s0"), []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/deeper", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	r := newResolver(os.Getpid(), unix.Gettid())
	r.sharedRoot, r.rootView = root, "/"
	name := filepath.Join(dir, "link") + "/../s0"
	f, err := r.execTarget(unix.AT_FDCWD, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, same := newScriptWatch(r, name, f, "/usr/bin/python3", driftCheck{}); !same {
		t.Errorf("%s (resolves to %s) reported as changed while decided", name, f.Path)
	}
}
