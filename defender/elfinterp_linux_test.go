//go:build linux

package defender

import (
	"os"
	"runtime"
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

// FuzzElfInterp: any file content, however malformed, gives a path or "" without a panic.
func FuzzElfInterp(f *testing.F) {
	if dyn, err := os.ReadFile("/usr/bin/echo"); err == nil {
		f.Add(dyn[:min(len(dyn), 4096)])
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = interpOf(t, b)
	})
}
