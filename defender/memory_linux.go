//go:build linux

package defender

import (
	"bytes"
	"encoding/binary"
	"errors"

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
// returns the bytes read. Reads are split at page boundaries so that a string ending just
// before an unmapped page is still read whole.
func readMem(tid int, addr uint64, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		a := addr + uint64(n)
		chunk := min(len(buf)-n, int(pageSize-a%pageSize))
		local := []unix.Iovec{{Base: &buf[n]}}
		local[0].SetLen(chunk)
		remote := []unix.RemoteIovec{{Base: uintptr(a), Len: chunk}}
		got, err := unix.ProcessVMReadv(tid, local, remote, 0)
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		n += got
		if got < chunk {
			break
		}
	}
	return n, nil
}

// readString reads a NUL-terminated string of at most max bytes at addr.
func readString(tid int, addr uint64, max int) (string, error) {
	if addr == 0 {
		return "", unix.EFAULT
	}
	var out []byte
	var buf [256]byte
	for len(out) < max {
		want := min(len(buf), max-len(out))
		n, err := readMem(tid, addr+uint64(len(out)), buf[:want])
		if err != nil {
			return "", err
		}
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf[:n]...)
		if n < want {
			return "", unix.EFAULT
		}
	}
	return string(out), errNotTerminated
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
	total := 0
	for i := 0; i+8 <= n; i += 8 {
		p := binary.LittleEndian.Uint64(ptrs[i:])
		if p == 0 {
			return argv, truncated, nil
		}
		if total >= maxArgvSize {
			return argv, true, nil
		}
		s, err := readString(tid, p, min(maxArgLen, maxArgvSize-total))
		if errors.Is(err, errNotTerminated) {
			truncated = true
		} else if err != nil {
			return nil, false, err
		}
		total += len(s) + 1
		argv = append(argv, s)
	}
	return argv, true, nil
}
