//go:build linux

package defender

import (
	"bytes"
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"
)

// elfInterp returns the PT_INTERP path of the 64-bit little-endian ELF file fd, whose
// first bytes are header, or "" for anything else (a static program, a script). Like the
// kernel (fs/binfmt_elf.c), it reads the program headers from e_phoff and the path from
// the PT_INTERP segment, which must end in a NUL.
func elfInterp(fd int, header []byte) string {
	phs, ok := programHeaders(fd, header)
	if !ok {
		return ""
	}
	le := binary.LittleEndian
	const phent = 56
	phnum := len(phs) / phent
	for i := 0; i < phnum; i++ {
		ph := phs[i*phent:]
		if le.Uint32(ph) != 3 { // PT_INTERP
			continue
		}
		off, size := le.Uint64(ph[8:]), le.Uint64(ph[32:])
		if size < 2 || size > unix.PathMax || off > 1<<30 {
			return ""
		}
		if end := off + size; end <= uint64(len(header)) {
			if header[end-1] != 0 {
				return ""
			}
			return string(header[off : end-1])
		}
		buf := make([]byte, size)
		if n, err := unix.Pread(fd, buf, int64(off)); err != nil || n != len(buf) || buf[size-1] != 0 {
			return ""
		}
		return string(buf[:size-1])
	}
	return ""
}

// programHeaders returns the program headers of the 64-bit little-endian ELF file fd,
// whose first bytes are header, read from e_phoff as the kernel reads them; ok is false
// for anything else.
func programHeaders(fd int, header []byte) (phs []byte, ok bool) {
	const ehdr, phent = 64, 56
	if len(header) < ehdr || !bytes.HasPrefix(header, []byte("\x7fELF\x02\x01")) {
		return nil, false
	}
	le := binary.LittleEndian
	phoff := le.Uint64(header[32:])
	phentsize, phnum := le.Uint16(header[54:]), le.Uint16(header[56:])
	if phentsize != phent || phnum == 0 || phnum > 64 || phoff > 1<<20 {
		return nil, false
	}
	phs = make([]byte, int(phnum)*phent)
	if end := phoff + uint64(len(phs)); end <= uint64(len(header)) {
		copy(phs, header[phoff:end])
	} else if n, err := unix.Pread(fd, phs, int64(phoff)); err != nil || n != len(phs) {
		return nil, false
	}
	return phs, true
}

// elfSoname returns the DT_SONAME of the ELF shared object (ET_DYN) fd, whose first bytes
// are header, or "" when it has none or is anything else. A program with no PT_INTERP
// and a DT_SONAME is a library run as a program, as glibc's ld.so is
// ("ld-linux-x86-64.so.2"); a static-pie program has no DT_SONAME, and neither has musl's
// libc.so (its loader, known by its name only: policy.IsLoader).
func elfSoname(fd int, header []byte) string {
	if len(header) < 18 || binary.LittleEndian.Uint16(header[16:]) != 3 { // ET_DYN
		return ""
	}
	return elfDynString(fd, header, 14) // DT_SONAME
}

// elfRunPath returns the library search path the ELF program fd names itself, whose first
// bytes are header: DT_RUNPATH, else DT_RPATH; "" for none.
func elfRunPath(fd int, header []byte) string {
	if p := elfDynString(fd, header, 29); p != "" { // DT_RUNPATH
		return p
	}
	return elfDynString(fd, header, 15) // DT_RPATH
}

// elfDynString returns the string the dynamic section of the ELF file fd (whose first
// bytes are header) gives for tag, an offset in its string table; "" for none.
func elfDynString(fd int, header []byte, tag uint64) string {
	phs, ok := programHeaders(fd, header)
	if !ok {
		return ""
	}
	le := binary.LittleEndian
	const phent = 56
	var dynOff, dynSize uint64
	var loads [][3]uint64 // vaddr, filesz, offset of each PT_LOAD
	for i := 0; i+phent <= len(phs); i += phent {
		ph := phs[i:]
		switch le.Uint32(ph) {
		case 1: // PT_LOAD
			loads = append(loads, [3]uint64{le.Uint64(ph[16:]), le.Uint64(ph[32:]), le.Uint64(ph[8:])})
		case 2: // PT_DYNAMIC
			dynOff, dynSize = le.Uint64(ph[8:]), le.Uint64(ph[32:])
		}
	}
	if dynSize < 16 || dynSize > 64<<10 || dynOff > 1<<30 {
		return ""
	}
	dyn := make([]byte, dynSize)
	if n, err := unix.Pread(fd, dyn, int64(dynOff)); err != nil || n != len(dyn) {
		return ""
	}
	var strtab, val uint64
	have := false
	for i := 0; i+16 <= len(dyn); i += 16 {
		switch t := le.Uint64(dyn[i:]); {
		case t == 0: // DT_NULL
			i = len(dyn)
		case t == 5: // DT_STRTAB (an address)
			strtab = le.Uint64(dyn[i+8:])
		case t == tag:
			val, have = le.Uint64(dyn[i+8:]), true
		}
	}
	if !have {
		return ""
	}
	for _, l := range loads {
		if strtab < l[0] || strtab-l[0] >= l[1] {
			continue
		}
		off := strtab - l[0] + l[2] + val
		if off > 1<<30 {
			return ""
		}
		var buf [4096]byte
		n, err := unix.Pread(fd, buf[:], int64(off))
		if err != nil {
			return ""
		}
		if i := bytes.IndexByte(buf[:n], 0); i > 0 {
			return string(buf[:i])
		}
		return ""
	}
	return ""
}

// ownSearchPath reports whether run path p (elfRunPath) has a directory the caller
// chooses: one relative to the program's name ($ORIGIN, which a hard link or a rename
// moves), or to the working directory (a relative or empty entry).
func ownSearchPath(p string) bool {
	if p == "" {
		return false
	}
	for _, d := range strings.Split(p, ":") {
		if !strings.HasPrefix(d, "/") || strings.Contains(d, "$ORIGIN") || strings.Contains(d, "${ORIGIN}") {
			return true
		}
	}
	return false
}

// loaderInput is a file the dynamic loader will load into a program because the
// environment says so: a library it preloads, an auditor, or a directory it searches first.
type loaderInput struct {
	what  string // for events: "LD_PRELOAD /tmp/x.so"
	file  *file
	audit bool // an LD_AUDIT library: its callbacks run while the loader loads
}

// libDirs are searched for a preloaded library named without a slash, after
// LD_LIBRARY_PATH (ld.so(8); the cache and RUNPATH are not read).
var libDirs = []string{"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"}

// systemPreload is the file glibc's loader reads libraries to preload from, in every
// program (elf/rtld.c): its entries are taken as LD_PRELOAD's (loaderRule.systemPreload).
const systemPreload = "/etc/ld.so.preload"

// loaderInputs resolves every file the loader variables env (loaderEnvAt) make the loader
// take into a dynamic program; an entry "/etc/ld.so.preload=LIST" is that file's list.
// Missing files are left out: the loader skips them too.
func loaderInputs(r *resolver, env []string) []loaderInput {
	var out []loaderInput
	var searchDirs []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "LD_LIBRARY_PATH="); ok {
			for _, d := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ';' }) {
				searchDirs = append(searchDirs, d)
				if f, err := r.locate(d); err == nil {
					out = append(out, loaderInput{what: "LD_LIBRARY_PATH directory " + d, file: f})
				}
			}
		}
	}
	for _, kv := range env {
		name, v, _ := strings.Cut(kv, "=")
		if name != "LD_PRELOAD" && name != "LD_AUDIT" && name != systemPreload {
			continue
		}
		for _, lib := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ' ' || r == '\t' }) {
			cands := []string{lib}
			if !strings.Contains(lib, "/") {
				cands = nil
				for _, d := range append(append([]string(nil), searchDirs...), libDirs...) {
					cands = append(cands, d+"/"+lib)
				}
			}
			for _, c := range cands {
				if f, err := r.locate(c); err == nil {
					out = append(out, loaderInput{what: name + " " + c, file: f, audit: name == "LD_AUDIT"})
					break
				}
			}
		}
	}
	return out
}
