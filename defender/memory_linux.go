//go:build linux

package defender

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Bounds on what is read from a tracee's memory for one exec. The kernel accepts longer
// argument lists; the policy and events only need their start, and the EXEC-time check
// compares the same bounded prefix.
const (
	maxPathLen  = unix.PathMax // the kernel refuses longer paths with ENAMETOOLONG
	maxArgs     = 256
	maxArgLen   = 4096
	maxArgvSize = 32 << 10
	pageSize    = 4096 // the smallest page size on amd64 and arm64; reads never cross one
)

var errNotTerminated = errors.New("string not terminated within bound")

// readMem reads len(buf) bytes at addr of tid, stopping early at an unmapped page. It
// returns the bytes read. The remote range is split at page boundaries into iovecs of one
// process_vm_readv call: the kernel stops at the first iovec it cannot read, so a string
// ending just before an unmapped page is still read whole, in a single system call.
func readMem(tid int, addr uint64, buf []byte) (int, error) {
	var remote [maxMemIovecs]unix.RemoteIovec
	n, off := 0, 0
	for off < len(buf) && n < len(remote) {
		a := addr + uint64(off)
		chunk := min(len(buf)-off, int(pageSize-a%pageSize))
		remote[n] = unix.RemoteIovec{Base: uintptr(a), Len: chunk}
		n++
		off += chunk
	}
	return processVMRead(tid, buf[:off], remote[:n])
}

// maxMemIovecs bounds the pages one readMem covers: every read here is at most
// maxArgLen (4096) or maxArgs*8 (2048) bytes, which spans at most two pages.
const maxMemIovecs = 4

// readString reads a NUL-terminated string of at most max bytes at addr, in one
// process_vm_readv. Precondition: max <= maxStringRead.
func readString(tid int, addr uint64, max int) (string, error) {
	if addr == 0 {
		return "", unix.EFAULT
	}
	var buf [maxStringRead]byte
	want := min(max, len(buf))
	n, err := readMem(tid, addr, buf[:want])
	if err != nil {
		return "", err
	}
	if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
		return string(buf[:i]), nil
	}
	if n < want {
		return "", unix.EFAULT // the string runs into an unmapped page
	}
	return string(buf[:n]), errNotTerminated
}

// maxStringRead is the longest string readString reads: the larger of maxPathLen and
// maxArgLen.
const maxStringRead = max(maxPathLen, maxArgLen)

// Argument strings are prefetched in one process_vm_readv: the first argPrefetch bytes of
// each (never crossing a page), for the first maxPrefetchArgs arguments. A string not
// terminated inside its prefetched bytes, or not prefetched, is read on its own.
const (
	argPrefetch      = 256
	maxPrefetchArgs  = 32
	prefetchBufBytes = argPrefetch * maxPrefetchArgs
)

// readExecArgs reads the path and argv of an exec call. The path's first bytes and the
// argv pointer array come in one process_vm_readv, the argument strings in a second;
// anything those reads leave incomplete (a long path, an array or string at the edge of
// a mapping) is read again on its own, with the bounds and errors of readString and
// readArgv. The environment is not read here: what the loader takes from it is read at
// PTRACE_EVENT_EXEC, from the copy the kernel made (loaderRule).
func readExecArgs(tid int, pathAddr, argvAddr uint64) (path string, argv []string, truncated bool, err error) {
	if pathAddr == 0 {
		return "", nil, false, unix.EFAULT
	}
	const ptrBytes = maxArgs * 8
	var buf [argPrefetch + ptrBytes]byte
	var remote [1 + maxMemIovecs]unix.RemoteIovec
	pl := min(argPrefetch, int(pageSize-pathAddr%pageSize))
	remote[0] = unix.RemoteIovec{Base: uintptr(pathAddr), Len: pl}
	n, off := 1, pl
	if argvAddr != 0 {
		for o := 0; o < ptrBytes; n++ {
			a := argvAddr + uint64(o)
			chunk := min(ptrBytes-o, int(pageSize-a%pageSize))
			remote[n] = unix.RemoteIovec{Base: uintptr(a), Len: chunk}
			o += chunk
		}
		off += ptrBytes
	}
	got, err := processVMRead(tid, buf[:off], remote[:n])
	if err != nil {
		got = 0 // the kernel stops at the first iovec it cannot read: read each again alone
	}
	if i := bytes.IndexByte(buf[:min(pl, got)], 0); i >= 0 {
		path = string(buf[:i])
	} else if path, err = readString(tid, pathAddr, maxPathLen); err != nil {
		return "", nil, false, err
	}
	if argvAddr == 0 {
		return path, nil, false, nil // execve(path, NULL, ...) is allowed by Linux: argc 0
	}
	if got == off {
		argv, truncated, err = argvFromPtrs(tid, buf[pl:off])
	} else {
		argv, truncated, err = readArgv(tid, argvAddr)
	}
	return path, argv, truncated, err
}

// readArgv reads a NULL-terminated array of string pointers at addr, bounded by maxArgs
// entries, maxArgLen bytes each and maxArgvSize in all. truncated says a bound was hit.
func readArgv(tid int, addr uint64) (argv []string, truncated bool, err error) {
	if addr == 0 {
		return nil, false, nil // execve(path, NULL, ...) is allowed by Linux: argc 0
	}
	var ptrs [maxArgs * 8]byte
	n, err := readMem(tid, addr, ptrs[:])
	if err != nil {
		return nil, false, err
	}
	return argvFromPtrs(tid, ptrs[:n])
}

// argvFromPtrs reads the strings of an argv pointer array, of which ptrs holds the
// readable start (at most maxArgs pointers).
func argvFromPtrs(tid int, ptrs []byte) (argv []string, truncated bool, err error) {
	n := len(ptrs)
	count, terminated := 0, false
	for ; count*8+8 <= n; count++ {
		if binary.LittleEndian.Uint64(ptrs[count*8:]) == 0 {
			terminated = true
			break
		}
	}
	// Prefetch: the remote iovecs are laid out back to back in buf; ends[i] is where
	// argument i's bytes end in buf, and got is how much the kernel copied.
	var buf [prefetchBufBytes]byte
	var remote [maxPrefetchArgs]unix.RemoteIovec
	var ends [maxPrefetchArgs]int
	pre, off := min(count, maxPrefetchArgs), 0
	for i := 0; i < pre; i++ {
		p := binary.LittleEndian.Uint64(ptrs[i*8:])
		l := min(argPrefetch, int(pageSize-p%pageSize))
		remote[i] = unix.RemoteIovec{Base: uintptr(p), Len: l}
		off += l
		ends[i] = off
	}
	got := 0
	if pre > 0 {
		got, _ = processVMRead(tid, buf[:off], remote[:pre]) // an error only means fewer prefetched
	}
	argv = make([]string, 0, count)
	total := 0
	for i := 0; i < count; i++ {
		if total >= maxArgvSize {
			return argv, true, nil
		}
		limit := min(maxArgLen, maxArgvSize-total)
		var s string
		var err error
		start := 0
		if i > 0 && i < pre {
			start = ends[i-1]
		}
		if i < pre && ends[i] <= got {
			c := buf[start:ends[i]]
			if j := bytes.IndexByte(c, 0); j >= 0 && j < limit {
				s = string(c[:j])
			} else if len(c) >= limit {
				s, err = string(c[:limit]), errNotTerminated
			} else {
				s, err = readString(tid, binary.LittleEndian.Uint64(ptrs[i*8:]), limit)
			}
		} else {
			s, err = readString(tid, binary.LittleEndian.Uint64(ptrs[i*8:]), limit)
		}
		if errors.Is(err, errNotTerminated) {
			truncated = true
		} else if err != nil {
			return nil, false, err
		}
		total += len(s) + 1
		argv = append(argv, s)
	}
	if !terminated {
		truncated = true // more than maxArgs pointers, or the array ran into an unmapped page
	}
	return argv, truncated, nil
}

// loaderEnvNames are the environment variables that make the dynamic loader load code the
// program did not name: read at PTRACE_EVENT_EXEC and decided there (loaderRule).
var loaderEnvNames = []string{"LD_PRELOAD=", "LD_AUDIT=", "LD_LIBRARY_PATH="}

// loaderVarsIn reads the environment file fd (/proc/PID/environ) and returns its loader
// variables, each followed by a NUL. procfs copies the whole
// requested range in one read (fs/proc/base.c, environ_read), so an environment smaller
// than environBufSize takes a single pread into a reused buffer; only a larger one is read
// on into a buffer of its size.
func loaderVarsIn(fd int) ([]byte, error) {
	bp := environBufs.Get().(*[environBufSize]byte)
	defer environBufs.Put(bp)
	n, err := unix.Pread(fd, bp[:], 0)
	if err != nil {
		return nil, err
	}
	env := bp[:n]
	if n == len(bp) {
		env = append([]byte(nil), env...)
		for {
			m, err := unix.Pread(fd, bp[:], int64(len(env)))
			if err != nil {
				return nil, err
			}
			if m == 0 {
				break
			}
			env = append(env, bp[:m]...)
		}
	}
	return loaderVars(env), nil
}

// loaderVars returns the loader variables of env (NUL-separated strings), each followed
// by a NUL. Only strings starting with "LD_" are looked at: it searches for those
// rather than splitting every string.
func loaderVars(env []byte) []byte {
	var out []byte
	for i := 0; i < len(env); {
		if !bytes.HasPrefix(env[i:], []byte("LD_")) {
			j := bytes.Index(env[i:], []byte("\x00LD_"))
			if j < 0 {
				break
			}
			i += j + 1
		}
		kv := env[i:]
		if j := bytes.IndexByte(kv, 0); j >= 0 {
			kv = kv[:j]
		}
		if isLoaderEnv(string(kv)) {
			out = append(append(out, kv...), 0)
		}
		i += len(kv) + 1
	}
	return out
}

// loaderVarsOnStack reads the loader variables of the image tid has just exec'd from its
// new stack, in one process_vm_readv, as loaderVarsIn reads them from /proc/PID/environ.
// Precondition: tid is stopped at PTRACE_EVENT_EXEC (or any stop before its first
// instruction) and traced from this thread: the stack pointer then points at argc,
// followed by the argv and envp pointers the kernel wrote (create_elf_tables), whose
// strings it copied contiguously (env_start to env_end, what environ reads). ok is false
// when that layout is not all within the first stackReadSize bytes; the caller then
// reads environ.
func loaderVarsOnStack(tid int) (vars []byte, base uint64, ok bool) {
	sp, err := stackPointer(tid)
	if err != nil || sp == 0 {
		return nil, 0, false
	}
	bp := environBufs.Get().(*[environBufSize]byte)
	defer environBufs.Put(bp)
	buf := bp[:stackReadSize]
	var remote [stackReadSize/pageSize + 1]unix.RemoteIovec
	n := 0
	for off := 0; off < len(buf); n++ {
		a := sp + uint64(off)
		chunk := min(len(buf)-off, int(pageSize-a%pageSize))
		remote[n] = unix.RemoteIovec{Base: uintptr(a), Len: chunk}
		off += chunk
	}
	got, err := processVMRead(tid, buf, remote[:n]) // stops at the stack's end
	if err != nil {
		return nil, 0, false
	}
	env, ok := envOnStack(buf[:got], sp)
	if !ok {
		return nil, 0, false
	}
	base, ok = auxvBase(buf[:got])
	if !ok {
		return nil, 0, false
	}
	return loaderVars(env), base, true
}

// auxvBase reads AT_BASE, where the kernel mapped the ELF interpreter, from the auxiliary
// vector that follows the environment pointers on a new image's stack (argc, argv, NULL,
// envp, NULL, then type-value pairs up to AT_NULL). 0 means no interpreter.
func auxvBase(stack []byte) (base uint64, ok bool) {
	le := binary.LittleEndian
	if len(stack) < 8 {
		return 0, false
	}
	i := 8 + 8*int(min(le.Uint64(stack), uint64(len(stack)))) + 8 // past argv's NULL
	for ; i+8 <= len(stack) && le.Uint64(stack[i:]) != 0; i += 8 {
	}
	for i += 8; i+16 <= len(stack); i += 16 {
		switch le.Uint64(stack[i:]) {
		case 0: // AT_NULL
			return 0, true
		case 7: // AT_BASE
			return le.Uint64(stack[i+8:]), true
		}
	}
	return 0, false
}

// stackReadSize is how much of a new image's stack loaderVarsOnStack reads: a container's
// arguments and environment take a few KiB.
const stackReadSize = 16 << 10

// envOnStack finds the environment strings in stack, the bytes at address sp of a new
// image's stack: argc, argc argv pointers and a NULL, the envp pointers and a NULL, and
// the strings they point to, which must follow one another. It returns the strings as
// /proc/PID/environ shows them (each ending in a NUL), or ok false when anything lies
// outside stack or out of order.
func envOnStack(stack []byte, sp uint64) (env []byte, ok bool) {
	le := binary.LittleEndian
	if len(stack) < 8 {
		return nil, false
	}
	argc := le.Uint64(stack)
	if argc > uint64(len(stack))/8 {
		return nil, false
	}
	i := 8 + 8*int(argc) // argv[argc]
	if i+8 > len(stack) || le.Uint64(stack[i:]) != 0 {
		return nil, false
	}
	start, end := -1, -1
	for i += 8; ; i += 8 {
		if i+8 > len(stack) {
			return nil, false
		}
		p := le.Uint64(stack[i:])
		if p == 0 {
			break
		}
		if p < sp || p-sp >= uint64(len(stack)) {
			return nil, false
		}
		at := int(p - sp)
		if start < 0 {
			start, end = at, at
		}
		if at != end {
			return nil, false
		}
		j := bytes.IndexByte(stack[at:], 0)
		if j < 0 {
			return nil, false
		}
		end = at + j + 1
	}
	if start < 0 {
		return nil, true // no environment
	}
	return stack[start:end], true
}

// environBufSize is the environment loaderVarsIn reads in one call; a container's is a
// few KiB.
const environBufSize = 64 << 10

var environBufs = sync.Pool{New: func() any { return new([environBufSize]byte) }}

func isLoaderEnv(kv string) bool {
	for _, name := range loaderEnvNames {
		if strings.HasPrefix(kv, name) {
			return true
		}
	}
	return false
}
