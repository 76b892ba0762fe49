//go:build linux

package defender

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests below check the fast paths of the tracer (one openat2 to resolve a program,
// one process_vm_readv per string, a batched read of argv) against the slow paths they
// shortcut, using this process or a chrooted child as the "tracee".

// TestFastOpenMatchesWalk resolves paths through symlinks both ways and compares.
func TestFastOpenMatchesWalk(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "prog")
	if err := os.WriteFile(target, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, os.Symlink("prog", filepath.Join(dir, "rel")))
	must(t, os.Symlink(target, filepath.Join(dir, "abs")))
	must(t, os.Symlink("rel", filepath.Join(dir, "chain")))
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	must(t, os.Symlink("../prog", filepath.Join(dir, "sub", "up")))
	must(t, os.Symlink("loop", filepath.Join(dir, "loop")))

	ownRoot, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(t, err)
	defer unix.Close(ownRoot)
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "via /proc/PID/root", true: "via the shared root"}[shared], func(t *testing.T) {
			r := newResolver(os.Getpid(), unix.Gettid())
			if shared {
				r.sharedRoot, r.rootView = ownRoot, "/"
			}
			fastOpenCases(t, r, dir, target)
		})
	}
}

func fastOpenCases(t *testing.T, r *resolver, dir, target string) {
	for _, p := range []string{"/bin/sh", target, dir + "/rel", dir + "/abs", dir + "/chain", dir + "/sub/up", dir + "/sub/../prog", dir + "/./abs"} {
		fast := r.fastOpen(p)
		if fast == nil {
			t.Errorf("%s: fast path declined", p)
			continue
		}
		slow, err := r.walk(p)
		if err != nil {
			t.Fatalf("%s: walk: %v", p, err)
		}
		if fast.Path != slow.Path || fast.Invoked != slow.Invoked || fast.Dev != slow.Dev || fast.Ino != slow.Ino ||
			fast.Mode != slow.Mode || string(fast.header) != string(slow.header) || fast.ev != slow.ev {
			t.Errorf("%s: fast %+v, walk %+v", p, *fast, *slow)
		}
	}
	// Declined: names under /proc (self is the opener there), magic links reached through
	// a symlink, and errors, which walk reports as the kernel would.
	os.Symlink("/proc/self/exe", filepath.Join(dir, "toexe"))
	os.Symlink("/proc", filepath.Join(dir, "toproc"))
	for _, p := range []string{"/proc/self/exe", "/usr/../proc/self/exe", dir + "/toexe", dir + "/toproc/self/exe", dir + "/missing", dir + "/loop", dir + "/prog/"} {
		if f := r.fastOpen(p); f != nil {
			t.Errorf("%s: fast path answered %+v; want it to decline", p, *f)
		}
	}
	// And through execTarget, the /proc/self symlink still means the tracee (here: us).
	f, err := r.execTarget(unix.AT_FDCWD, dir+"/toexe", 0)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	must(t, unix.Stat("/proc/self/exe", &st))
	if f.Ino != st.Ino || f.Dev != st.Dev {
		t.Errorf("%s/toexe resolved to %+v, not this test binary", dir, *f)
	}
}

// TestFastOpenInChroot checks RESOLVE_IN_ROOT against a chrooted tracee: absolute
// symlinks and ".." stay inside its root, and names are the tracee's.
func TestFastOpenInChroot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("chroot needs root")
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs a static busybox")
	}
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	b, err := os.ReadFile(bb)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(root, "bin", "busybox"), b, 0o755))
	must(t, os.Symlink("/bin/busybox", filepath.Join(root, "abs")))        // absolute: inside the root
	must(t, os.Symlink("../../../bin/busybox", filepath.Join(root, "up"))) // ".." stops at the root
	cmd := exec.Command("/bin/busybox", "sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
	must(t, cmd.Start())
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	for i := 0; i < 100; i++ { // wait until the exec inside the chroot is done
		if l, _ := os.Readlink("/proc/" + itoa(pid) + "/root"); l == root {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var want unix.Stat_t
	must(t, unix.Stat(filepath.Join(root, "bin", "busybox"), &want))
	for _, p := range []string{"/bin/busybox", "/abs", "/up", "/../../bin/busybox"} {
		r := newResolver(pid, pid)
		f := r.fastOpen(p)
		if f == nil {
			t.Errorf("%s: fast path declined", p)
			continue
		}
		if f.Path != "/bin/busybox" || f.Ino != want.Ino || f.Dev != want.Dev {
			t.Errorf("%s in chroot: got %q ino %d; want /bin/busybox ino %d", p, f.Path, f.Ino, want.Ino)
		}
		slow, err := newResolver(pid, pid).walk(p)
		if err != nil || slow.Path != f.Path || slow.Ino != f.Ino {
			t.Errorf("%s in chroot: walk %+v %v, fast %+v", p, slow, err, f)
		}
	}
}

// guarded maps two pages, the second one inaccessible, and returns the first.
func guarded(t *testing.T) []byte {
	t.Helper()
	m, err := unix.Mmap(-1, 0, 2*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	must(t, err)
	t.Cleanup(func() { unix.Munmap(m) })
	must(t, unix.Mprotect(m[pageSize:], unix.PROT_NONE))
	return m[:pageSize]
}

func TestReadStringAtPageEnd(t *testing.T) {
	page := guarded(t)
	pid := os.Getpid()
	// Ends exactly at the last byte before the guard page.
	s := "/bin/true"
	at := page[pageSize-len(s)-1:]
	copy(at, s+"\x00")
	if got, err := readString(pid, addrOf(at), maxPathLen); err != nil || got != s {
		t.Errorf("string at page end: %q, %v", got, err)
	}
	// Runs into the guard page without a NUL: the kernel would fault.
	copy(page[pageSize-4:], "abcd")
	if _, err := readString(pid, addrOf(page[pageSize-4:]), maxPathLen); err == nil {
		t.Error("unterminated string before an unmapped page: no error")
	}
	// Longer than the bound: truncated.
	for i := range page {
		page[i] = 'x'
	}
	if got, err := readString(pid, addrOf(page), 100); err != errNotTerminated || len(got) != 100 {
		t.Errorf("bounded read: %d bytes, %v", len(got), err)
	}
}

// TestReadArgvPrefetch builds argv arrays in our own memory and reads them back.
func TestReadArgvPrefetch(t *testing.T) {
	pid := os.Getpid()
	page := guarded(t)
	var keep [][]byte
	cstr := func(s string) uint64 {
		b := append([]byte(s), 0)
		keep = append(keep, b)
		return addrOf(b)
	}
	array := func(ptrs ...uint64) uint64 {
		b := make([]byte, 8*len(ptrs)+8)
		for i, p := range ptrs {
			binary.LittleEndian.PutUint64(b[8*i:], p)
		}
		keep = append(keep, b)
		return addrOf(b)
	}
	// A string crossing a page boundary (not prefetched whole), one ending at the guard
	// page, more arguments than are prefetched, and long ones.
	m, err := unix.Mmap(-1, 0, 2*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	must(t, err)
	defer unix.Munmap(m)
	cross := m[pageSize-10:]
	copy(cross, "crossing-the-page-boundary\x00")
	end := page[pageSize-6:]
	copy(end, "atend\x00")
	var want []string
	var ptrs []uint64
	for i := 0; i < maxPrefetchArgs+10; i++ {
		var s string
		switch i {
		case 3:
			s = "crossing-the-page-boundary"
			ptrs = append(ptrs, addrOf(cross))
		case 5:
			s = "atend"
			ptrs = append(ptrs, addrOf(end))
		case 7:
			s = strings.Repeat("L", 1000)
			ptrs = append(ptrs, cstr(s))
		default:
			s = "arg" + itoa(i)
			ptrs = append(ptrs, cstr(s))
		}
		want = append(want, s)
	}
	got, trunc, err := readArgv(pid, array(ptrs...))
	if err != nil || trunc || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("readArgv: %v truncated=%v err=%v", got, trunc, err)
	}
	// An argument longer than maxArgLen is cut and flagged.
	long := strings.Repeat("y", maxArgLen+100)
	got, trunc, err = readArgv(pid, array(cstr("a"), cstr(long)))
	if err != nil || !trunc || len(got) != 2 || len(got[1]) != maxArgLen {
		t.Fatalf("long argument: %d args, truncated=%v, err=%v", len(got), trunc, err)
	}
	// An unterminated argument running into an unmapped page fails the read.
	copy(page[pageSize-3:], "abc")
	if _, _, err := readArgv(pid, array(cstr("a"), addrOf(page[pageSize-3:]))); err == nil {
		t.Fatal("unterminated argument before an unmapped page: no error")
	}
	if len(keep) == 0 {
		t.Fatal("unreachable")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestReadExecArgs compares the batched read of an exec call's path and argv with the
// separate reads it shortcuts, including at the edges of mappings.
func TestReadExecArgs(t *testing.T) {
	pid := os.Getpid()
	page := guarded(t)
	var keep [][]byte
	cstr := func(s string) uint64 {
		b := append([]byte(s), 0)
		keep = append(keep, b)
		return addrOf(b)
	}
	ptrArray := func(ptrs ...uint64) []byte {
		b := make([]byte, 8*len(ptrs)+8)
		for i, p := range ptrs {
			binary.LittleEndian.PutUint64(b[8*i:], p)
		}
		return b
	}
	heapArray := func(ptrs ...uint64) uint64 {
		b := ptrArray(ptrs...)
		keep = append(keep, b)
		return addrOf(b)
	}
	// An argv array whose end is the end of a mapping: the batched read of maxArgs
	// pointers is partial and must fall back.
	edge := ptrArray(cstr("edge0"), cstr("edge1"))
	copy(page[pageSize-len(edge):], edge)
	edgeArray := addrOf(page[pageSize-len(edge):])
	pathAtEnd := page[pageSize-200 : pageSize-len(edge)]
	copy(pathAtEnd, "/at/the/end\x00")
	for _, tc := range []struct {
		name       string
		path, argv uint64
	}{
		{"short", cstr("/bin/true"), heapArray(cstr("true"), cstr("-x"))},
		{"long path", cstr("/" + strings.Repeat("p", 1000)), heapArray(cstr("a"))},
		{"argv NULL", cstr("/bin/true"), 0},
		{"argv at a mapping's end", cstr("/bin/true"), edgeArray},
		{"path near a mapping's end", addrOf(pathAtEnd), heapArray(cstr("b"))},
	} {
		path, argv, trunc, err := readExecArgs(pid, tc.path, tc.argv)
		wantPath, err1 := readString(pid, tc.path, maxPathLen)
		wantArgv, wantTrunc, err2 := readArgv(pid, tc.argv)
		if err != nil || err1 != nil || err2 != nil || path != wantPath || strings.Join(argv, "|") != strings.Join(wantArgv, "|") || trunc != wantTrunc {
			t.Errorf("%s: got %q %q %v %v; want %q %q %v (%v, %v)", tc.name, path, argv, trunc, err, wantPath, wantArgv, wantTrunc, err1, err2)
		}
	}
	// An unterminated path before an unmapped page: an error, as readString gives.
	copy(page[pageSize-3:], "abc")
	if _, _, _, err := readExecArgs(pid, addrOf(page[pageSize-3:]), 0); err == nil {
		t.Error("unterminated path: no error")
	}
	if _, _, _, err := readExecArgs(pid, 0, 0); err == nil {
		t.Error("NULL path: no error")
	}
	if len(keep) == 0 {
		t.Fatal("unreachable")
	}
}

// TestLocateInterp checks the interpreter cache (interpFiles) against locate: the file held
// for a path shows new content at once; a file renamed over the held one (which then has no
// name left) is found afresh; while the held one keeps a name elsewhere (a hard link) the
// cache answers with it, which the EXEC-time check settles (it drops the entry); a dropped
// entry is resolved afresh.
func TestLocateInterp(t *testing.T) {
	dir := t.TempDir()
	ld := filepath.Join(dir, "ld.so")
	must(t, os.WriteFile(ld, []byte("\x7fELF loader"), 0o755))
	link := filepath.Join(dir, "lib64-ld")
	must(t, os.Symlink(ld, link))
	ownRoot, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(t, err)
	defer unix.Close(ownRoot)
	r := newResolver(os.Getpid(), unix.Gettid())
	r.sharedRoot, r.rootView = ownRoot, "/"
	defer interpFiles.drop(link)
	check := func(what string, wantFresh bool) *file {
		t.Helper()
		got, _, err := r.locateInterp(link)
		must(t, err)
		fresh, err := r.locate(link)
		must(t, err)
		if same := got.ev == fresh.ev && got.Path == fresh.Path; same != wantFresh {
			t.Fatalf("%s: locateInterp %+v, locate %+v (want equal: %v)", what, got.ev, fresh.ev, wantFresh)
		}
		return got
	}
	first := check("first", true)
	if _, ok := interpFiles.m[link]; !ok {
		t.Fatal("nothing held after the first call")
	}
	check("held", true)
	// New content in place: the held descriptor shows it.
	must(t, os.WriteFile(ld, []byte("\x7fELF rewritten, longer"), 0o755))
	if got := check("rewritten", true); got.ev == first.ev {
		t.Fatal("rewritten in place: same evidence")
	}
	// Renamed over, the held file has no name left: found afresh.
	tmp := filepath.Join(dir, "new.so")
	must(t, os.WriteFile(tmp, []byte("\x7fELF replaced"), 0o755))
	must(t, os.Rename(tmp, ld))
	replaced := check("renamed over", true)
	// Renamed over while the held file keeps a name: the cache answers with the held one.
	must(t, os.Link(ld, filepath.Join(dir, "keep.so")))
	must(t, os.WriteFile(tmp, []byte("\x7fELF replaced again"), 0o755))
	must(t, os.Rename(tmp, ld))
	if got := check("renamed over, held one linked", false); got.ev.dev != replaced.ev.dev || got.ev.ino != replaced.ev.ino {
		t.Fatalf("want the held file %+v, got %+v", replaced.ev, got.ev)
	}
	interpFiles.drop(link)
	check("dropped", true)
}

// TestLocate checks locate, the loader inputs' cheap resolution, against execTarget, and
// that its remembered names never hide a change: a file replaced at the path, or a
// symlink repointed, is seen at once, with its new evidence and name.
func TestLocate(t *testing.T) {
	dir := t.TempDir()
	ld := filepath.Join(dir, "ld.so")
	must(t, os.WriteFile(ld, []byte("\x7fELF loader"), 0o755))
	other := filepath.Join(dir, "other.so")
	must(t, os.WriteFile(other, []byte("\x7fELF other"), 0o755))
	link := filepath.Join(dir, "lib64-ld")
	must(t, os.Symlink(ld, link))
	ownRoot, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	must(t, err)
	defer unix.Close(ownRoot)
	for _, shared := range []bool{false, true} {
		r := newResolver(os.Getpid(), unix.Gettid())
		if shared {
			r.sharedRoot, r.rootView = ownRoot, "/"
		}
		same := func(what, p string) *file {
			t.Helper()
			got, err := r.locate(p)
			must(t, err)
			want, err := r.execTarget(unix.AT_FDCWD, p, 0)
			must(t, err)
			if got.Path != want.Path || got.Invoked != want.Invoked || got.ev != want.ev || got.Nlink != want.Nlink || got.Mode != want.Mode || !got.Mtime.Equal(want.Mtime) {
				t.Fatalf("shared=%v, %s: locate %+v, execTarget %+v", shared, what, *got, *want)
			}
			return got
		}
		for _, p := range []string{"/bin/sh", link, ld, dir} {
			same(p, p)
			same(p+" again", p)
		}
		before := same("before the swap", link)
		// Replaced at its name (rename over it): a new inode, new content.
		tmp := filepath.Join(dir, "new.so")
		must(t, os.WriteFile(tmp, []byte("\x7fELF replaced"), 0o755))
		must(t, os.Rename(tmp, ld))
		if after := same("replaced by rename", link); after.Ino == before.Ino {
			t.Fatalf("shared=%v: the replaced loader has the old inode", shared)
		}
		// Rewritten in place: the same inode, new size and mtime.
		time.Sleep(10 * time.Millisecond)
		before = same("before the rewrite", link)
		must(t, os.WriteFile(ld, []byte("\x7fELF rewritten in place"), 0o755))
		if after := same("rewritten in place", link); after.ev == before.ev {
			t.Fatalf("shared=%v: the rewrite left the evidence as it was: %+v", shared, after.ev)
		}
		// The symlink repointed: another file, another name.
		must(t, os.Remove(link))
		must(t, os.Symlink(other, link))
		if after := same("repointed", link); after.Path != other {
			t.Fatalf("shared=%v: repointed link named %s, want %s", shared, after.Path, other)
		}
		must(t, os.Remove(link))
		must(t, os.Symlink(ld, link))
	}
	// A missing file is an error, as for execTarget.
	if _, err := newResolver(os.Getpid(), unix.Gettid()).locate(filepath.Join(dir, "missing")); err == nil {
		t.Error("locate of a missing file: no error")
	}
}

// loaderVarsReference is loaderVars written the plain way: split, filter, join.
func loaderVarsReference(env []byte) []byte {
	var out []byte
	for _, kv := range strings.Split(string(env), "\x00") {
		if isLoaderEnv(kv) {
			out = append(append(out, kv...), 0)
		}
	}
	return out
}

// TestLoaderVarsIn reads environment files as the EXEC-time check does (one read into a
// reused buffer, more only past its size) and compares with the plain way.
func TestLoaderVarsIn(t *testing.T) {
	big := strings.Repeat("FILLER="+strings.Repeat("x", 100)+"\x00", environBufSize/108+1)
	for _, tc := range []struct{ name, env string }{
		{"empty", ""},
		{"none", "A=1\x00B=2\x00"},
		{"first and last", "LD_PRELOAD=/a.so\x00A=1\x00LD_LIBRARY_PATH=/l\x00"},
		{"lookalikes", "XLD_PRELOAD=/x\x00LD_PRELOADX=/y\x00LD_AUDIT=/z\x00A=LD_AUDIT=/w\x00LD_\x00LD"},
		{"no final NUL", "A=1\x00LD_AUDIT=/z"},
		{"just under the buffer", big[:environBufSize-30] + "\x00LD_PRELOAD=/b.so\x00"},
		{"across the buffer's end", big + "\x00LD_PRELOAD=/c.so\x00" + big + "LD_AUDIT=/d.so\x00"},
	} {
		fd, err := unix.MemfdCreate("environ", unix.MFD_CLOEXEC)
		must(t, err)
		if _, err := unix.Pwrite(fd, []byte(tc.env), 0); err != nil && tc.env != "" {
			t.Fatal(err)
		}
		got, err := loaderVarsIn(fd)
		unix.Close(fd)
		if want := loaderVarsReference([]byte(tc.env)); err != nil || string(got) != string(want) {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, want)
		}
	}
}

// FuzzLoaderVars: loaderVars, which searches for "LD_" rather than splitting, finds
// exactly the loader variables the plain way finds, whatever the environment.
func FuzzLoaderVars(f *testing.F) {
	f.Add([]byte("A=1\x00LD_PRELOAD=/a.so\x00\x00LD_AUDIT=\x00LD"))
	f.Add([]byte("LD_LIBRARY_PATH=/l:/m\x00XLD_PRELOAD=/x"))
	f.Fuzz(func(t *testing.T, env []byte) {
		if got, want := loaderVars(env), loaderVarsReference(env); string(got) != string(want) {
			t.Fatalf("loaderVars(%q) = %q, want %q", env, got, want)
		}
	})
}

// TestLoaderVarsOnStack stops real programs right after their exec (PTRACE_TRACEME, as
// the EXEC-time check finds them at PTRACE_EVENT_EXEC) and compares the loader variables
// read from the new stack with /proc/PID/environ's, for environments that fit in one read
// and ones that do not (the caller then reads environ: ok is false).
func TestLoaderVarsOnStack(t *testing.T) {
	runtime.LockOSThread() // the tracer is the thread that started the child
	defer runtime.UnlockOSThread()
	var many []string
	for i := 0; i < 1100; i++ {
		many = append(many, "V"+itoa(i)+"=x")
	}
	for _, tc := range []struct {
		name    string
		env     []string
		onStack bool
	}{
		{"none", []string{}, true},
		{"a container's", containerEnv, true},
		{"loader variables", append([]string{"LD_PRELOAD=/lib/a.so", "A=1"}, append(containerEnv, "LD_AUDIT=/b.so", "LD_LIBRARY_PATH=/l:/m")...), true},
		{"a thousand variables first", append(slices.Repeat([]string{"v="}, 1000), "LD_PRELOAD=/late.so"), true},
		{"more than one read", append(many, "LD_PRELOAD=/later.so"), false},
		{"a long value", []string{"LD_AUDIT=/x.so", "BIG=" + strings.Repeat("b", stackReadSize)}, false},
	} {
		cmd := exec.Command("/bin/true")
		cmd.Env = tc.env
		cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
			t.Fatalf("%s: child not stopped after exec: %v %v", tc.name, ws, err)
		}
		got, base, ok := loaderVarsOnStack(pid)
		fd, err := unix.Open("/proc/"+itoa(pid)+"/environ", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		must(t, err)
		want, err := loaderVarsIn(fd)
		unix.Close(fd)
		must(t, err)
		wantBase, err := auxvFileBase(pid, &approval{})
		must(t, err)
		if ok && base != wantBase {
			t.Errorf("%s: AT_BASE from the stack %#x, from /proc/PID/auxv %#x", tc.name, base, wantBase)
		}
		if dev, ino, err := mappedAt(pid, &approval{}, wantBase); wantBase != 0 && (err != nil || dev == 0 || ino == 0) {
			t.Errorf("%s: the interpreter mapped at %#x: %d:%d, %v", tc.name, wantBase, dev, ino, err)
		}
		unix.Kill(pid, unix.SIGKILL)
		cmd.Wait()
		if ok != tc.onStack || (ok && string(got) != string(want)) {
			t.Errorf("%s: from the stack %q (ok %v), from environ %q", tc.name, got, ok, want)
		}
		if strings.Contains(tc.name, "loader") && len(want) == 0 || strings.Contains(tc.name, "first") && !strings.Contains(string(want), "late.so") {
			t.Errorf("%s: environ shows no loader variable: %q", tc.name, want)
		}
	}
}

// TestEnvOnStack checks the stack parser on layouts the kernel never writes: each must be
// declined (the caller then reads environ), never misread.
func TestEnvOnStack(t *testing.T) {
	const sp = 0x7ffc0000
	stack := func(argc uint64, ptrs []uint64, strs string, at int) []byte {
		b := make([]byte, at+len(strs))
		binary.LittleEndian.PutUint64(b, argc)
		for i, p := range ptrs {
			binary.LittleEndian.PutUint64(b[8+8*i:], p)
		}
		copy(b[at:], strs)
		return b
	}
	good := stack(1, []uint64{sp + 64, 0, sp + 66, sp + 70, 0}, "a\x00B=1\x00LD_AUDIT=/x\x00", 64)
	if env, ok := envOnStack(good, sp); !ok || string(env) != "B=1\x00LD_AUDIT=/x\x00" {
		t.Fatalf("well-formed stack: %q %v", env, ok)
	}
	for name, b := range map[string][]byte{
		"empty":                {},
		"argc too large":       stack(1<<40, nil, "", 16),
		"argv not terminated":  stack(1, []uint64{sp + 64, sp + 64}, "a\x00", 24),
		"envp not terminated":  stack(0, []uint64{0, sp + 24}, "B=1\x00", 24)[:24],
		"pointer below sp":     stack(0, []uint64{0, sp - 8, 0}, "", 32),
		"pointer past the end": stack(0, []uint64{0, sp + 4096, 0}, "", 32),
		"strings out of order": stack(0, []uint64{0, sp + 44, sp + 40, 0}, "B=1\x00C=2\x00", 40),
		"a gap between them":   stack(0, []uint64{0, sp + 40, sp + 45, 0}, "B=1\x00\x00C=2\x00", 40),
		"string not ended":     stack(0, []uint64{0, sp + 32, 0}, "B=1", 32),
	} {
		if env, ok := envOnStack(b, sp); ok {
			t.Errorf("%s: accepted, %q", name, env)
		}
	}
}

// FuzzEnvOnStack: whatever the bytes, the parser stays within them and what it returns is
// a run of NUL-terminated strings.
func FuzzEnvOnStack(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\x00"), uint64(0x1000))
	f.Fuzz(func(t *testing.T, b []byte, sp uint64) {
		env, ok := envOnStack(b, sp)
		if ok && len(env) > 0 && env[len(env)-1] != 0 {
			t.Fatalf("envOnStack returned %q, not NUL-terminated", env)
		}
	})
}
