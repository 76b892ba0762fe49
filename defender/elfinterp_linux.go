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
	const ehdr, phent = 64, 56
	if len(header) < ehdr || !bytes.HasPrefix(header, []byte("\x7fELF\x02\x01")) {
		return ""
	}
	le := binary.LittleEndian
	phoff := le.Uint64(header[32:])
	phentsize, phnum := le.Uint16(header[54:]), le.Uint16(header[56:])
	if phentsize != phent || phnum == 0 || phnum > 64 || phoff > 1<<20 {
		return ""
	}
	phs := make([]byte, int(phnum)*phent)
	if end := phoff + uint64(len(phs)); end <= uint64(len(header)) {
		copy(phs, header[phoff:end])
	} else if n, err := unix.Pread(fd, phs, int64(phoff)); err != nil || n != len(phs) {
		return ""
	}
	for i := 0; i < int(phnum); i++ {
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
