// Command attack makes the syscall-level attacks of the defender's container tests. It is
// built static (CGO_ENABLED=0) into the test rootfs as /usr/local/bin/attack. Each case
// prints one line "RESULT: ..." that the test reads.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: attack CASE ARGS...")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "memfd": // memfd_create + fexecve of a copy of FILE
		fd, err := unix.MemfdCreate("payload", 0)
		check(err)
		src, err := os.Open(args[0])
		check(err)
		_, err = io.Copy(os.NewFile(uintptr(fd), "memfd"), src)
		check(err)
		result(execveat(fd, "", append([]string{"payload"}, args[1:]...), unix.AT_EMPTY_PATH))
	case "execveat-fd": // open FILE, execveat(fd, "", AT_EMPTY_PATH) with a harmless argv[0]
		fd, err := unix.Open(args[0], unix.O_RDONLY, 0)
		check(err)
		result(execveat(fd, "", append([]string{"innocent"}, args[1:]...), unix.AT_EMPTY_PATH))
	case "procfd": // open FILE, execve("/proc/self/fd/N")
		fd, err := unix.Open(args[0], unix.O_RDONLY, 0)
		check(err)
		result(syscall.Exec("/proc/self/fd/"+strconv.Itoa(fd), append([]string{"innocent"}, args[1:]...), os.Environ()))
	case "untraced": // clone(CLONE_UNTRACED|SIGCHLD): a child the tracer would not see
		r, _, errno := unix.RawSyscall6(unix.SYS_CLONE, unix.CLONE_UNTRACED|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
		if errno == 0 && r == 0 {
			unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
		}
		result(errnoErr(errno))
	case "clone3": // clone3 with CLONE_UNTRACED in its struct
		args := struct{ flags, pidfd, childTid, parentTid, exitSignal, stack, stackSize, tls uint64 }{flags: unix.CLONE_UNTRACED, exitSignal: uint64(unix.SIGCHLD)}
		r, _, errno := unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args), 0)
		if errno == 0 && r == 0 {
			unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
		}
		result(errnoErr(errno))
	case "procmem": // open /proc/PID/mem for writing, as a debugger would to patch a process
		fd, err := unix.Open("/proc/"+args[0]+"/mem", unix.O_RDWR, 0)
		if err == nil {
			unix.Close(fd)
		}
		result(err)
	case "pidfd-getfd": // copy every descriptor of PID with pidfd_getfd (the defender's listener among them)
		pid, _ := strconv.Atoi(args[0])
		pidfd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			result(err)
			return
		}
		var first error
		for n := 0; n < 64; n++ {
			fd, err := unix.PidfdGetfd(pidfd, n, 0)
			if err == nil {
				unix.Close(fd)
				result(nil) // got one
				return
			}
			if first == nil && err != unix.EBADF {
				first = err
			}
		}
		result(first)
	case "unshare-user": // unshare(CLONE_NEWUSER) in a single-threaded child: a user namespace, root inside it
		r, _, errno := unix.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
		if errno == 0 && r == 0 {
			_, _, e := unix.RawSyscall(unix.SYS_UNSHARE, unix.CLONE_NEWUSER, 0, 0)
			unix.RawSyscall(unix.SYS_EXIT_GROUP, uintptr(e), 0, 0)
		}
		check(errnoErr(errno))
		var ws unix.WaitStatus
		_, err := unix.Wait4(int(r), &ws, 0, nil)
		check(err)
		result(errnoErr(syscall.Errno(ws.ExitStatus())))
	case "clone-user": // clone(CLONE_NEWUSER|SIGCHLD)
		r, _, errno := unix.RawSyscall6(unix.SYS_CLONE, unix.CLONE_NEWUSER|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
		if errno == 0 && r == 0 {
			unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
		}
		result(errnoErr(errno))
	case "socketpair": // run ARGS with stdin and stdout on an AF_UNIX socket pair, as Node's child_process does
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		check(err)
		child := os.NewFile(uintptr(fds[1]), "child")
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = child, child, os.Stderr
		check(cmd.Start())
		child.Close()
		out, _ := io.ReadAll(os.NewFile(uintptr(fds[0]), "parent"))
		err = cmd.Wait()
		fmt.Printf("CHILD OUTPUT: %s\n", out)
		result(err)
	case "ptrace": // attach to a sibling PID
		pid, _ := strconv.Atoi(args[0])
		runtime.LockOSThread()
		result(unix.PtraceAttach(pid))
	case "sigqueue", "tgsigqueue", "pidfd-signal", "tgkill": // SIG to PID's main thread, by each call that names a signal
		pid, _ := strconv.Atoi(args[0])
		sig, _ := strconv.Atoi(args[1])
		// struct siginfo: si_signo, si_errno, si_code, then the union (si_pid first); 128
		// bytes. SI_QUEUE, as sigqueue(3) sends it: the kernel lets any negative code but
		// SI_TKILL through to another process.
		var info [128]byte
		*(*int32)(unsafe.Pointer(&info[0])) = int32(sig)
		*(*int32)(unsafe.Pointer(&info[8])) = -1 // SI_QUEUE
		*(*int32)(unsafe.Pointer(&info[16])) = int32(os.Getpid())
		ip := uintptr(unsafe.Pointer(&info[0]))
		var errno syscall.Errno
		switch os.Args[1] {
		case "sigqueue":
			_, _, errno = unix.RawSyscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(pid), uintptr(sig), ip)
		case "tgsigqueue":
			_, _, errno = unix.RawSyscall6(unix.SYS_RT_TGSIGQUEUEINFO, uintptr(pid), uintptr(pid), uintptr(sig), ip, 0, 0)
		case "pidfd-signal":
			pidfd, err := unix.PidfdOpen(pid, 0)
			check(err)
			_, _, errno = unix.RawSyscall6(unix.SYS_PIDFD_SEND_SIGNAL, uintptr(pidfd), uintptr(sig), ip, 0, 0, 0)
		case "tgkill": // si_code SI_TKILL
			_, _, errno = unix.RawSyscall(unix.SYS_TGKILL, uintptr(pid), uintptr(pid), uintptr(sig))
		}
		fmt.Println("RESULT:", errnoString(errno))
	case "sigio": // a pipe owned by PID (F_SETOWN) signals SIG (F_SETSIG) when written to
		pid, _ := strconv.Atoi(args[0])
		sig, _ := strconv.Atoi(args[1])
		var p [2]int
		check(unix.Pipe(p[:]))
		_, err := unix.FcntlInt(uintptr(p[0]), unix.F_SETOWN, pid)
		if err == nil {
			_, err = unix.FcntlInt(uintptr(p[0]), unix.F_SETSIG, sig)
		}
		if err == nil {
			var fl int
			fl, err = unix.FcntlInt(uintptr(p[0]), unix.F_GETFL, 0)
			if err == nil {
				_, err = unix.FcntlInt(uintptr(p[0]), unix.F_SETFL, fl|unix.O_ASYNC)
			}
		}
		if err == nil {
			_, err = unix.Write(p[1], []byte{1})
		}
		if err == nil {
			fmt.Println("RESULT: ok")
		} else {
			fmt.Println("RESULT:", err)
		}
	case "failexec": // N threads each make one exec call of PATH that the kernel fails, then wait
		n, _ := strconv.Atoi(args[0])
		path, _ := syscall.BytePtrFromString(args[1])
		argv, _ := syscall.SlicePtrFromStrings([]string{args[1]})
		envv, _ := syscall.SlicePtrFromStrings(nil)
		done := make(chan syscall.Errno)
		for i := 0; i < n; i++ {
			go func() {
				runtime.LockOSThread() // the thread stays, with its failed exec, until exit
				_, _, errno := unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
				done <- errno
				select {}
			}()
		}
		counts := map[string]int{}
		for i := 0; i < n; i++ {
			counts[errnoString(<-done)]++
		}
		fmt.Printf("RESULT: %v\n", counts)
		os.Stdout.Sync()
		time.Sleep(time.Hour) // a main goroutine blocked forever would be a deadlock to the runtime
	case "uffd-exec": // execve of a path on a page a userfaultfd holds: whoever reads it waits for us
		const userModeOnly = 1 // UFFD_USER_MODE_ONLY
		fd, _, errno := unix.RawSyscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC, 0, 0)
		mode := "full"
		if errno != 0 {
			fd, _, errno = unix.RawSyscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|userModeOnly, 0, 0)
			mode = "user-mode-only"
		}
		if errno != 0 {
			fmt.Println("RESULT: userfaultfd:", errno)
			return
		}
		api := [3]uint64{0xAA} // struct uffdio_api: api UFFD_API, features, ioctls
		if _, _, errno := unix.RawSyscall(unix.SYS_IOCTL, fd, 0xc018aa3f /* UFFDIO_API */, uintptr(unsafe.Pointer(&api[0]))); errno != 0 {
			fmt.Println("RESULT: UFFDIO_API:", errno)
			return
		}
		page, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		check(err)
		reg := [4]uint64{uint64(uintptr(unsafe.Pointer(&page[0]))), 4096, 1 /* MISSING */} // struct uffdio_register
		if _, _, errno := unix.RawSyscall(unix.SYS_IOCTL, fd, 0xc020aa00 /* UFFDIO_REGISTER */, uintptr(unsafe.Pointer(&reg[0]))); errno != 0 {
			fmt.Println("RESULT: UFFDIO_REGISTER:", errno)
			return
		}
		argv, _ := syscall.SlicePtrFromStrings([]string{"echo", "EXEC-RAN"})
		envv, _ := syscall.SlicePtrFromStrings(nil)
		_, _, errno = unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(&page[0])), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
		fmt.Println("RESULT: "+mode+" userfaultfd, execve:", errnoString(errno))
	case "race": // RUNS times: a child execs GOOD while a thread rewrites the path to BAD
		runs, _ := strconv.Atoi(args[2])
		counts := map[string]int{}
		for i := 0; i < runs; i++ {
			out, err := exec.Command("/proc/self/exe", "race-child", args[0], args[1]).CombinedOutput()
			key := "exit0"
			if ee, ok := err.(*exec.ExitError); ok {
				key = ee.String()
			} else if err != nil {
				key = err.Error()
			}
			if len(out) > 0 {
				key += " output=" + strconv.Quote(string(out))
			}
			counts[key]++
		}
		fmt.Printf("RESULT: %v\n", counts)
	case "race-child":
		good, bad := args[0], args[1]
		if len(good) != len(bad) {
			panic("paths must have equal length")
		}
		buf := []byte(good + "\x00")
		// The flipper must already run on its own thread when the exec starts: otherwise
		// the race depends on how fast the defender lets the new thread start, and a run
		// of 40 children may not hit the window once.
		var started atomic.Bool
		go func() {
			runtime.LockOSThread()
			started.Store(true)
			for {
				copy(buf, bad)
				copy(buf, good)
			}
		}()
		for !started.Load() {
			runtime.Gosched()
		}
		argv, _ := syscall.SlicePtrFromStrings([]string{"true"})
		envv, _ := syscall.SlicePtrFromStrings(os.Environ())
		for i := 0; i < 200; i++ {
			unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
		}
		os.Exit(3) // every attempt was refused
	case "tiny-elf": // write a minimal static x86-64 program printing MSG to OUT (for image layers)
		check(os.WriteFile(args[1], tinyELF(args[0]+"\n"), 0o755))
		os.Exit(0)
	case "patch": // copy IN to OUT with the bytes OLD replaced by NEW, of the same length (a dropped library that says so)
		b, err := os.ReadFile(args[0])
		check(err)
		if len(args[2]) != len(args[3]) || !strings.Contains(string(b), args[2]) {
			fmt.Println("RESULT: cannot patch")
			os.Exit(1)
		}
		check(os.WriteFile(args[1], []byte(strings.ReplaceAll(string(b), args[2], args[3])), 0o755))
		os.Exit(0)
	case "rewrite": // N times: exec PREFIX<i> (a tiny-elf image program) by a long path, and rewrite it in place once the defender has read it
		n, _ := strconv.Atoi(args[0])
		counts := map[string]int{}
		for i := 0; i < n; i++ {
			counts[rewriteOnce(args[1]+strconv.Itoa(i))]++
		}
		fmt.Printf("RESULT: %v\n", counts)
	case "script-swap": // N times: run image script PREFIX<i>[SUFFIX] by name (MODE: symlink, rename, operand, create) and put EVIL in its place once the defender has read it
		n, _ := strconv.Atoi(args[1])
		suffix := ""
		if len(args) > 4 {
			suffix = args[4]
		}
		counts := map[string]int{}
		for i := 0; i < n; i++ {
			counts[scriptSwapOnce(args[0], args[2]+strconv.Itoa(i)+suffix, args[3], i)]++
		}
		fmt.Printf("RESULT: %v\n", counts)
	case "interp-race": // N execs of PROG while a thread flips the symlink LD between REAL and EVIL (the ELF interpreter swapped and restored around the kernel's load)
		n, _ := strconv.Atoi(args[0])
		prog, ld, real, evil := args[1], args[2], args[3], args[4]
		stop := flipLink(ld, evil, real)
		counts := map[string]int{}
		for i := 0; i < n; i++ {
			out, err := exec.Command(prog, "GOOD").CombinedOutput()
			tally(counts, out, err, "PWN"+"ED", "evil loader ran")
		}
		stop()
		fmt.Printf("RESULT: %v\n", counts)
	case "preload-race": // N runs of PROG FILE with LD_PRELOAD=LINK while a thread flips the symlink LINK between GOOD and EVIL (a preloaded library swapped after its check)
		n, _ := strconv.Atoi(args[0])
		prog, file, link, good, evil := args[1], args[2], args[3], args[4], args[5]
		stop := flipLink(link, evil, good)
		counts := map[string]int{}
		for i := 0; i < n; i++ {
			cmd := exec.Command(prog, file)
			cmd.Env = append(os.Environ(), "LD_PRELOAD="+link)
			out, err := cmd.Output()
			tally(counts, out, err, evil, "evil library loaded")
		}
		stop()
		fmt.Printf("RESULT: %v\n", counts)
	default:
		fmt.Println("unknown case", os.Args[1])
		os.Exit(2)
	}
}

// tally counts one run of a race: as what when its output shows marker, else killed
// (SIGKILL), failed (any other error) or ran.
func tally(counts map[string]int, out []byte, err error, marker, what string) {
	switch {
	case strings.Contains(string(out), marker):
		counts[what]++
	case err != nil && strings.Contains(err.Error(), "killed"):
		counts["killed"]++
	case err != nil:
		counts["failed"]++
	default:
		counts["ran"]++
	}
}

// flipLink points the symlink link at a, then b, then a again, atomically (a rename over
// it), on a thread of its own until the returned stop is called.
func flipLink(link, a, b string) (stop func()) {
	var done atomic.Bool
	go func() {
		runtime.LockOSThread()
		tmp := link + ".flip"
		for !done.Load() {
			for _, t := range []string{a, b} {
				os.Remove(tmp)
				os.Symlink(t, tmp)
				os.Rename(tmp, link)
			}
		}
	}()
	return func() { done.Store(true) }
}

func execveat(fd int, path string, argv []string, flags int) error {
	p, _ := syscall.BytePtrFromString(path)
	av, _ := syscall.SlicePtrFromStrings(argv)
	ev, _ := syscall.SlicePtrFromStrings(os.Environ())
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&av[0])), uintptr(unsafe.Pointer(&ev[0])), uintptr(flags), 0)
	return errnoErr(errno)
}

func errnoString(e syscall.Errno) string {
	if e == 0 {
		return "ok"
	}
	return e.Error()
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func result(err error) {
	if err == nil {
		fmt.Println("RESULT: ok")
	} else {
		fmt.Println("RESULT: " + err.Error())
	}
	os.Exit(1)
}

func check(err error) {
	if err != nil {
		fmt.Println("RESULT: setup failed: " + err.Error())
		os.Exit(2)
	}
}

// rewriteOnce execs target through a symlink chain and a long path (the kernel's walk gives
// the writer time) while a watcher rewrites the file in place, same size, as soon as the
// defender has read it and closed it. It returns what happened.
func rewriteOnce(target string) string {
	// Each link's target is a long walk ("d/.." 700 times) to the previous link.
	os.MkdirAll("/tmp/d", 0o755)
	walk := "/tmp" + strings.Repeat("/d/..", 700) + "/"
	link := target
	for i := 0; i < 39; i++ {
		next := "/tmp/rewrite-link-" + strconv.Itoa(i)
		os.Remove(next)
		check(os.Symlink(link, next))
		link = walk + "rewrite-link-" + strconv.Itoa(i)
	}
	long := link
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	check(err)
	defer unix.Close(in)
	_, err = unix.InotifyAddWatch(in, target, unix.IN_CLOSE_NOWRITE)
	check(err)
	payload := tinyELF("PWN" + "ED\n")
	done := make(chan string, 1)
	go func() {
		var buf [4096]byte
		unix.Read(in, buf[:]) // the defender read the file and closed it
		fd, err := unix.Open(target, unix.O_WRONLY, 0)
		if err != nil {
			done <- "writer: " + err.Error()
			return
		}
		unix.Pwrite(fd, payload, 0)
		unix.Close(fd)
		done <- "written"
	}()
	out, err := exec.Command(long).CombinedOutput()
	w := "writer did not run"
	select {
	case w = <-done:
	case <-time.After(time.Second):
	}
	msg := "exit 0"
	if err != nil {
		msg = err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "fork/exec") {
			msg = msg[i+2:] // the path is long
		}
	}
	fmt.Printf("%s: %q %s (%s)\n", target, out, msg, w)
	switch {
	case strings.Contains(string(out), "PWN"+"ED"):
		return "rewritten program ran"
	case err != nil && strings.Contains(err.Error(), "killed"):
		return "killed"
	case err != nil:
		return "exec failed"
	}
	return "original ran"
}

// tinyELF is a minimal static x86-64 executable that writes msg to stdout and exits 0.
func tinyELF(msg string) []byte {
	code := []byte{
		0xb8, 1, 0, 0, 0, // mov eax, 1 (write)
		0xbf, 1, 0, 0, 0, // mov edi, 1
		0x48, 0x8d, 0x35, 16, 0, 0, 0, // lea rsi, [rip+16]: msg
		0xba, byte(len(msg)), 0, 0, 0, // mov edx, len
		0x0f, 0x05, // syscall
		0xb8, 60, 0, 0, 0, // mov eax, 60 (exit)
		0x31, 0xff, // xor edi, edi
		0x0f, 0x05, // syscall
	}
	const base, hdr = 0x400000, 64 + 56
	total := hdr + len(code) + len(msg)
	b := make([]byte, 0, total)
	le := binary.LittleEndian
	b = append(b, 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	b = le.AppendUint16(b, 2)    // ET_EXEC
	b = le.AppendUint16(b, 0x3e) // x86-64
	b = le.AppendUint32(b, 1)
	b = le.AppendUint64(b, base+hdr) // entry
	b = le.AppendUint64(b, 64)       // phoff
	b = le.AppendUint64(b, 0)        // shoff
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, 64) // ehsize
	b = le.AppendUint16(b, 56) // phentsize
	b = le.AppendUint16(b, 1)  // phnum
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 1) // PT_LOAD
	b = le.AppendUint32(b, 5) // R+X
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, base)
	b = le.AppendUint64(b, base)
	b = le.AppendUint64(b, uint64(total))
	b = le.AppendUint64(b, uint64(total))
	b = le.AppendUint64(b, 0x1000)
	b = append(b, code...)
	return append(b, msg...)
}

// scriptSwapOnce runs the image script target by a name that it then points at evil, as
// soon as the defender has read target (inotify: the file was opened and closed), so that
// the defender decides the image script and the interpreter reads evil:
//   - symlink: exec a symlink in /tmp to target, then rename a symlink to a copy of evil
//     over it;
//   - rename: exec target itself, then rename a copy of evil over it;
//   - operand: exec /bin/sh with the symlink as its script operand, then repoint it;
//   - create: exec /bin/sh with a script operand that does not exist yet, and create it as
//     evil once the exec has succeeded.
//
// It returns what happened.
func scriptSwapOnce(mode, target, evil string, i int) string {
	dir := "/tmp/swap-" + mode + strings.ReplaceAll(target, "/", "-")
	check(os.MkdirAll(dir, 0o755))
	b, err := os.ReadFile(evil)
	check(err)
	bad := dir + "/evil"
	if mode == "rename" {
		bad = target + ".evil" // rename(2) stays on one file system
	}
	check(os.WriteFile(bad, b, 0o755))
	name := target
	if mode == "create" {
		name = dir + "/run"
		cmd := exec.Command("/bin/sh", name)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		check(cmd.Start()) // returns once the exec has succeeded
		os.Rename(bad, name)
		err := cmd.Wait()
		fmt.Printf("%s %s: %q %v\n", mode, name, out.String(), err)
		return swapOutcome(out.String(), err)
	}
	if mode != "rename" {
		name = dir + "/run"
		check(os.Symlink(target, name))
	}
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	check(err)
	defer unix.Close(in)
	_, err = unix.InotifyAddWatch(in, target, unix.IN_CLOSE_NOWRITE)
	check(err)
	done := make(chan string, 1)
	go func() {
		var buf [4096]byte
		unix.Read(in, buf[:]) // the defender read the script and closed it
		var err error
		if mode == "rename" {
			err = os.Rename(bad, target)
		} else {
			os.Symlink(bad, dir+"/next")
			err = os.Rename(dir+"/next", name)
		}
		if err != nil {
			done <- "swap: " + err.Error()
			return
		}
		done <- "swapped"
	}()
	cmd := exec.Command(name)
	if mode == "operand" {
		cmd = exec.Command("/bin/sh", name)
	}
	out, err := cmd.CombinedOutput()
	w := "swap did not run"
	select {
	case w = <-done:
	case <-time.After(time.Second):
	}
	fmt.Printf("%s %s: %q %v (%s)\n", mode, name, out, err, w)
	return swapOutcome(string(out), err)
}

// swapOutcome names what a script swap came to, from the program's output and error.
func swapOutcome(out string, err error) string {
	switch {
	case strings.Contains(out, "PWN"+"ED"):
		return "swapped script ran"
	case err != nil && strings.Contains(err.Error(), "killed"):
		return "killed"
	case err != nil:
		return "failed"
	}
	return "image script ran"
}
