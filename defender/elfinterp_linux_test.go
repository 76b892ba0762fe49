//go:build linux

package defender

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// interpOf runs elfInterp on content as the resolver does: the first 1 KiB as the header,
// the rest read from the file.
func interpOf(t testing.TB, content []byte) string {
	fd, err := unix.MemfdCreate("elf", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.Pwrite(fd, content, 0); err != nil && len(content) > 0 {
		t.Fatal(err)
	}
	return elfInterp(fd, content[:min(1024, len(content))])
}

func memfdOf(t testing.TB, content []byte) int {
	fd, err := unix.MemfdCreate("elf", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	unix.Pwrite(fd, content, 0)
	return fd
}

func TestElfInterp(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the host programs read here are amd64")
	}
	dyn, err := os.ReadFile("/usr/bin/echo")
	if err != nil {
		t.Skip(err)
	}
	if got := interpOf(t, dyn); got != "/lib64/ld-linux-x86-64.so.2" {
		t.Errorf("PT_INTERP of /usr/bin/echo = %q", got)
	}
	// The path read from the header and the path read from the file agree.
	if got := elfInterp(memfdOf(t, dyn), dyn[:64]); got != "/lib64/ld-linux-x86-64.so.2" {
		t.Errorf("PT_INTERP of /usr/bin/echo read from the file = %q", got)
	}
	for _, bad := range [][]byte{nil, []byte("#!/bin/sh\n"), []byte("\x7fELF\x02\x01"), dyn[:100]} {
		if got := interpOf(t, bad); got != "" {
			t.Errorf("elfInterp(%q...) = %q, want \"\"", bad[:min(8, len(bad))], got)
		}
	}
}

// TestElfSoname: the loader is known by its DT_SONAME; a program (PT_INTERP or static)
// has none.
func TestElfSoname(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the host programs read here are amd64")
	}
	for path, want := range map[string]string{"/lib64/ld-linux-x86-64.so.2": "ld-linux-x86-64.so.2", "/usr/bin/echo": ""} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Skip(err)
		}
		if got := elfSoname(memfdOf(t, b), b[:min(1024, len(b))]); got != want {
			t.Errorf("DT_SONAME of %s = %q, want %q", path, got, want)
		}
	}
}

// TestOwnSearchPath: run path entries relative to the program's name or the working
// directory are the caller's; absolute ones and $LIB are not.
func TestOwnSearchPath(t *testing.T) {
	for p, want := range map[string]bool{"": false, "/usr/lib/x": false, "/opt/$LIB": false, "$ORIGIN/../lib": true, "/a:${ORIGIN}": true, "lib": true, "/a:": true, "/a::/b": true} {
		if got := ownSearchPath(p); got != want {
			t.Errorf("ownSearchPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// FuzzElfInterp: any file content, however malformed, gives a path (a DT_SONAME) or ""
// without a panic.
func FuzzElfInterp(f *testing.F) {
	for _, p := range []string{"/usr/bin/echo", "/lib64/ld-linux-x86-64.so.2"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = interpOf(t, b)
		_ = elfSoname(memfdOf(t, b), b[:min(1024, len(b))])
		_ = elfRunPath(memfdOf(t, b), b[:min(1024, len(b))])
	})
}

// TestProcmapQuery checks that PROCMAP_QUERY and the text of /proc/PID/maps name the same
// file at the start of every file mapping of this process, and that an address inside a
// mapping is not taken for its start.
func TestProcmapQuery(t *testing.T) {
	fd, err := unix.Open("/proc/self/maps", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := procmapAt(fd, 0); err == unix.ENOTTY || err == unix.EINVAL {
		t.Skipf("no PROCMAP_QUERY on this kernel (%v): mappedAt reads the text", err)
	}
	text, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[5], "/") {
			continue
		}
		start, end, _ := strings.Cut(f[0], "-")
		s, _ := strconv.ParseUint(start, 16, 64)
		e, _ := strconv.ParseUint(end, 16, 64)
		q, err := procmapAt(fd, s)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		tfd, err := unix.Open("/proc/self/maps", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		dev, ino, err := mappedAtText(tfd, s)
		unix.Close(tfd)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if q.vmaStart != s || q.vmaEnd != e || unix.Mkdev(q.devMajor, q.devMinor) != dev || q.inode != ino {
			t.Errorf("%s: PROCMAP_QUERY says %#x-%#x %d:%d %d, the text %d %d", line, q.vmaStart, q.vmaEnd, q.devMajor, q.devMinor, q.inode, dev, ino)
		}
		if q2, err := procmapAt(fd, s+1); err != nil || q2.vmaStart != s {
			t.Errorf("%s: inside the mapping: %#x, %v", line, q2.vmaStart, err)
		}
		files++
	}
	if files == 0 {
		t.Fatal("no file mapping in /proc/self/maps")
	}
	if noProcmapQuery.Load() {
		t.Error("mappedAt gave up PROCMAP_QUERY on a kernel that has it")
	}
	// spanOf, the loader watch's range of one file's mappings, agrees both ways.
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		t.Fatal(err)
	}
	lo, hi, err := spanOf(os.Getpid(), &approval{}, st.Dev, st.Ino)
	noProcmapQuery.Store(true)
	tlo, thi, terr := spanOf(os.Getpid(), &approval{}, st.Dev, st.Ino)
	noProcmapQuery.Store(false)
	if err != nil || terr != nil || lo != tlo || hi != thi || lo >= hi {
		t.Errorf("spanOf of this program: PROCMAP_QUERY %#x-%#x (%v), text %#x-%#x (%v)", lo, hi, err, tlo, thi, terr)
	}
}
