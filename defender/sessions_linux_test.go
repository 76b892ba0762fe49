//go:build linux

package defender

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestIdentifiable: a process that entered from outside is judged by the program it runs
// only once /proc names that program in our filesystem. runc init runs from a memfd copy
// of runc (or a detached bind mount of it, which /proc/PID/exe shows as "/"): judged then,
// its `runc init` arguments were reported as an exec session before it exec'd the health
// check (the flake of TestHealthCheckIsNoExecSession/trace under load).
func TestIdentifiable(t *testing.T) {
	start := func(t *testing.T, cmd *exec.Cmd) procKey {
		t.Helper()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		pid := strconv.Itoa(cmd.Process.Pid)
		// Until its exec is done the child runs the test binary: wait for the image.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if exe, _ := os.Readlink("/proc/" + pid + "/exe"); exe != "" && exe != mustExecutable(t) && len(cmdline(cmd.Process.Pid)) > 0 && cmdline(cmd.Process.Pid)[0] != os.Args[0] {
				return procKey{pid: cmd.Process.Pid, exe: exe, root: cmd.Process.Pid}
			}
		}
		t.Fatal("the child did not exec")
		return procKey{}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}

	t.Run("program of the filesystem", func(t *testing.T) {
		if p := start(t, exec.Command(sleep, "60")); !identifiable(p) {
			t.Errorf("%+v (%q) is not identifiable", p, cmdline(p.pid))
		}
	})
	t.Run("memfd copy", func(t *testing.T) {
		fd, err := unix.MemfdCreate("runc_cloned:/proc/self/exe", unix.MFD_CLOEXEC)
		if err != nil {
			t.Skip(err)
		}
		mem := os.NewFile(uintptr(fd), "memfd")
		defer mem.Close()
		b, err := os.ReadFile(sleep)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mem.Write(b); err != nil {
			t.Fatal(err)
		}
		// Executed read-only, as runc does: a writable descriptor would make exec ETXTBSY.
		ro, err := os.Open("/proc/self/fd/" + strconv.Itoa(fd))
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		mem.Close()
		cmd := exec.Command("/proc/self/fd/3", "60")
		cmd.Args[0] = "runc"
		cmd.ExtraFiles = []*os.File{ro}
		p := start(t, cmd)
		if identifiable(p) {
			t.Errorf("%+v runs a memfd and is identifiable", p)
		}
		// The same process, as the watcher sees it if /proc/PID/exe cannot be read.
		if q := (procKey{pid: p.pid, root: p.pid}); identifiable(q) {
			t.Errorf("%+v has no program and is identifiable", q)
		}
		// A detached bind mount of runc reads "/": a directory, not the running image.
		if q := (procKey{pid: p.pid, exe: "/", root: p.pid}); identifiable(q) {
			t.Errorf("%+v is identifiable", q)
		}
		// A path that names another file than the running image.
		if q := (procKey{pid: p.pid, exe: sleep, root: p.pid}); identifiable(q) {
			t.Errorf("%+v is identifiable although it runs a memfd", q)
		}
	})
}

func mustExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}
