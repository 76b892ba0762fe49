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
	got, end := r.linkWalk(filepath.Join(dir, "other/link"))
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
