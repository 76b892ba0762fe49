//go:build linux

package defender

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// maxSymlinks is the kernel's limit on symlinks followed in one path walk (MAXSYMLINKS).
const maxSymlinks = 40

// file is a program file as resolved for one tracee, from the tracee's point of view.
type file struct {
	// Path is the resolved file in the tracee's root: symlinks followed. A memfd or a file
	// reached through a descriptor is named as /proc/PID/fd/N reads ("/memfd:x (deleted)").
	Path string
	// Invoked is the lexical absolute path the caller named (before symlinks).
	Invoked    string
	Dev, Ino   uint64
	Nlink      uint64
	Mode       uint32
	Mtime      time.Time
	ev         evidence // identity and content evidence, checked again at PTRACE_EVENT_EXEC
	ViaFD      bool     // reached through a descriptor (execveat dirfd, /proc/PID/fd/N)
	setID      setID    // set-user-ID, set-group-ID, file capabilities, and the file's owner
	header     []byte   // the file's first bytes, to detect "#!" scripts; nil if unreadable
	elfInterp  string   // the ELF program interpreter (PT_INTERP) the kernel will load, or ""
	hostTarget string   // the path the defender opens the file by
	// sharedObject: an ELF shared object with no PT_INTERP and a DT_SONAME, which is what
	// the loader is (elfSoname): run as a program, it is the loader run directly, whatever
	// its name (a hard link of the image's loader is not drift).
	sharedObject bool
	// ownSearchPath: a dynamic program whose run path has a directory the caller chooses
	// ($ORIGIN, a relative entry: ownSearchPath), as LD_LIBRARY_PATH's are.
	ownSearchPath bool
}

// resolver resolves paths the way the kernel's path walk does for one tracee: relative to
// its cwd or an execveat dirfd, inside its root (/proc/PID/root), following symlinks with
// absolute targets restarting at the tracee's root, and "/proc/self" meaning the tracee, not
// the defender. Magic links (/proc/N/fd/M, exe, cwd, root, map_files) are opened, not read
// as strings, because their target may have no name (memfd, deleted file).
//
// A resolution is a prediction: the tracee may change the file system between the
// defender's walk and the kernel's. The EXEC-time check (device, inode, command line)
// catches any difference.
type resolver struct {
	pid, tid   int
	rootPrefix string // "/proc/PID/root": prefixed to tracee paths to open them
	rootView   string // the tracee's root as the defender names it ("/" unless chrooted)
	sharedRoot int    // a descriptor of the tracee's root that the defender shares, or -1
}

func newResolver(pid, tid int) *resolver {
	return &resolver{pid: pid, tid: tid, rootPrefix: "/proc/" + strconv.Itoa(pid) + "/root", sharedRoot: -1}
}

// toTracee turns a path as the defender sees it (a magic link's target) into the tracee's
// view, by removing the tracee's root when it is chrooted.
func (r *resolver) toTracee(p string) string {
	if r.rootView == "" { // read lazily: most execs name an absolute path without magic links
		r.rootView, _ = os.Readlink(r.rootPrefix)
		if r.rootView == "" {
			r.rootView = "/"
		}
	}
	if r.rootView == "/" || !strings.HasPrefix(p, "/") {
		return p
	}
	if rest, ok := strings.CutPrefix(p, r.rootView); ok && (rest == "" || rest[0] == '/') {
		if rest == "" {
			return "/"
		}
		return rest
	}
	return p
}

// execTarget resolves the program of execve(path) (dirfd == AT_FDCWD) or execveat(dirfd,
// path, ..., flags).
func (r *resolver) execTarget(dirfd int, path string, flags int) (*file, error) {
	if path == "" {
		if flags&unix.AT_EMPTY_PATH == 0 || dirfd == unix.AT_FDCWD {
			return nil, unix.ENOENT
		}
		return r.open("/proc/"+strconv.Itoa(r.pid)+"/fd/"+strconv.Itoa(dirfd), true)
	}
	if path[0] != '/' {
		base := "/proc/" + strconv.Itoa(r.pid) + "/cwd"
		if dirfd != unix.AT_FDCWD {
			base = "/proc/" + strconv.Itoa(r.pid) + "/fd/" + strconv.Itoa(dirfd)
		}
		target, err := os.Readlink(base)
		if err != nil {
			return nil, err
		}
		if path, err = r.underDir(base, target, path); err != nil {
			return nil, err
		}
	}
	if f := r.fastOpen(path); f != nil {
		return f, nil
	}
	return r.walk(path)
}

// underDir joins a relative path to the directory the magic link base (the tracee's cwd or
// an execveat dirfd) names as target. A removed directory reads as "DIR (deleted)": the
// kernel then finds no name in it (ENOENT) but ".." still leads to its parent, so leading
// ".." components climb from DIR, which readlink names without symlinks.
func (r *resolver) underDir(base, target, rel string) (string, error) {
	dir, deleted := strings.CutSuffix(target, " (deleted)")
	var st unix.Stat_t
	if !deleted || unix.Stat(base, &st) != nil || st.Nlink != 0 {
		return r.toTracee(target) + "/" + rel, nil // a live directory, maybe named "x (deleted)"
	}
	p, ok := climb(r.toTracee(dir), rel)
	if !ok {
		return "", unix.ENOENT
	}
	return p, nil
}

// climb resolves rel against dir, a removed directory named as the tracee sees it (its
// root is "/"), as the kernel's walk would: leading "." and ".." components are taken
// from dir (".." stops at the root), and the first name after them must be looked up in
// a live directory, so ok is false when none leads out of dir.
func climb(dir, rel string) (p string, ok bool) {
	comps := strings.Split(rel, "/")
	up := 0
	for len(comps) > 0 && (comps[0] == "." || comps[0] == ".." || comps[0] == "") {
		if comps[0] == ".." {
			up++
		}
		comps = comps[1:]
	}
	if up == 0 {
		return "", false
	}
	for ; up > 0 && dir != "/"; up-- {
		if i := strings.LastIndexByte(dir, '/'); i > 0 {
			dir = dir[:i]
		} else {
			dir = "/"
		}
	}
	return strings.TrimSuffix(dir, "/") + "/" + strings.Join(comps, "/"), true
}

// fastOpen resolves an absolute tracee path with a single openat2 relative to the
// tracee's root (fastResolve) and describes the file, or returns nil when walk must
// decide instead.
func (r *resolver) fastOpen(path string) *file {
	// O_NONBLOCK: opening a FIFO named as a program must not hang the tracer.
	fd, p, ok := r.fastResolve(path, unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK)
	if !ok {
		return nil
	}
	defer unix.Close(fd)
	f, err := describe(fd, p, false, true)
	if err != nil {
		return nil
	}
	f.Invoked, f.hostTarget = cleanAbs(path), r.rootPrefix+p
	return f
}

// locate resolves a file that the loader will map or search (an ELF interpreter, a
// preloaded library, a library directory) into a file with its name and stat only: the
// loader inputs need no header and no set-ID bits, so an O_PATH descriptor is enough,
// and the name of a file found before under the defender's root comes from loaderNames
// instead of a readlink (the stat is always fresh: a replaced or rewritten file is seen).
// Paths fastResolve declines take execTarget's way, with the same result as before.
func (r *resolver) locate(path string) (*file, error) {
	f, fd, err := r.locateFD(path)
	if fd >= 0 {
		unix.Close(fd)
	}
	return f, err
}

// locateFD is locate, with the O_PATH descriptor of the file it found kept open for the
// caller (-1 when it took execTarget's way).
func (r *resolver) locateFD(path string) (*file, int, error) {
	slow := func() (*file, int, error) {
		f, err := r.execTarget(unix.AT_FDCWD, path, 0)
		return f, -1, err
	}
	if !strings.HasPrefix(path, "/") {
		return slow()
	}
	fd, ok := r.openInRoot(path, unix.O_PATH)
	if !ok {
		return slow()
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return slow()
	}
	shared := r.sharedRoot >= 0
	p, ok := "", false
	if shared {
		p, ok = loaderNames.get(path, st.Dev, st.Ino)
	}
	if !ok {
		if p, ok = r.nameOf(fd); !ok {
			unix.Close(fd)
			return slow()
		}
		if shared {
			loaderNames.put(path, st.Dev, st.Ino, p)
		}
	}
	f := statFile(&st, p, false)
	f.Invoked, f.hostTarget = cleanAbs(path), r.rootPrefix+p
	return f, fd, nil
}

// locateInterp is locate for a program's ELF interpreter (PT_INTERP), which nearly every
// exec names, and always the same few: under the defender's root (the one every tracee
// shares until a root change) the file a path led to is kept open (interpFiles) and stat'ed
// through that descriptor at the next exec call, with no walk of the path. Whether the path
// still leads there is the EXEC-time check's concern: it stats the path and finds the file
// the kernel mapped, and drops the entry when either has moved on (checkExec).
//
// held says the file came from the cache: a caller that finds fault with it resolves the
// path afresh (drop, then locateInterp again) before it decides anything.
func (r *resolver) locateInterp(path string) (f *file, held bool, err error) {
	if r.sharedRoot < 0 || !strings.HasPrefix(path, "/") {
		f, err = r.locate(path)
		return f, false, err
	}
	if f, ok := interpFiles.stat(path, r.rootPrefix); ok {
		return f, true, nil
	}
	f, fd, err := r.locateFD(path)
	if err == nil && fd >= 0 {
		interpFiles.put(path, fd, f.Path)
	} else if fd >= 0 {
		unix.Close(fd)
	}
	return f, false, err
}

// interpFiles is locateInterp's cache of open interpreters.
var interpFiles = &heldFiles{m: map[string]heldFile{}}

// maxHeldFiles bounds interpFiles: a program's PT_INTERP is its own choice. Past it the
// cache starts over.
const maxHeldFiles = 8

type heldFiles struct {
	mu sync.Mutex
	m  map[string]heldFile
}

type heldFile struct {
	fd   int // O_PATH
	name string
}

// stat is the file held for path, stat'ed now, named as when it was found (rootPrefix as
// the resolver's). A file with no name left is dropped: the path leads elsewhere now.
func (c *heldFiles) stat(path, rootPrefix string) (*file, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[path]
	if !ok {
		return nil, false
	}
	var st unix.Stat_t
	if unix.Fstat(h.fd, &st) != nil || st.Nlink == 0 {
		unix.Close(h.fd)
		delete(c.m, path)
		return nil, false
	}
	f := statFile(&st, h.name, false)
	f.Invoked, f.hostTarget = cleanAbs(path), rootPrefix+h.name
	return f, true
}

// put holds fd, the O_PATH descriptor of the file path led to, named name.
func (c *heldFiles) put(path string, fd int, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.m[path]; ok {
		unix.Close(h.fd)
	} else if len(c.m) >= maxHeldFiles {
		for _, h := range c.m {
			unix.Close(h.fd)
		}
		clear(c.m)
	}
	c.m[path] = heldFile{fd: fd, name: name}
}

// drop forgets path: the next exec call resolves it afresh.
func (c *heldFiles) drop(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.m[path]; ok {
		unix.Close(h.fd)
		delete(c.m, path)
	}
}

// loaderNames remembers, for paths that locate resolved under the defender's root (the
// one every tracee shares until a root change), which file they led to and its resolved
// name. A path that leads to the same device and inode again has the same name, but for
// a hard link of it swapped into the path, which names the same content.
var loaderNames = &nameCache{m: map[string]cachedName{}}

// maxCachedNames bounds loaderNames: a program's PT_INTERP and LD_* paths are its own
// choice. Past it the cache starts over.
const maxCachedNames = 64

type nameCache struct {
	mu sync.Mutex
	m  map[string]cachedName
}

type cachedName struct {
	dev, ino uint64
	name     string
}

func (c *nameCache) get(path string, dev, ino uint64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.m[path]
	if !ok || n.dev != dev || n.ino != ino {
		return "", false
	}
	return n.name, true
}

func (c *nameCache) put(path string, dev, ino uint64, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedNames {
		clear(c.m)
	}
	c.m[path] = cachedName{dev: dev, ino: ino, name: name}
}

// fastResolve opens an absolute tracee path with openInRoot and names the file with
// nameOf. flags are the open flags. It returns ok false whenever walk must decide instead.
func (r *resolver) fastResolve(path string, flags int) (fd int, name string, ok bool) {
	if fd, ok = r.openInRoot(path, flags); !ok {
		return -1, "", false
	}
	if name, ok = r.nameOf(fd); !ok {
		unix.Close(fd)
		return -1, "", false
	}
	return fd, name, true
}

// openInRoot opens an absolute tracee path with a single openat2 relative to the
// tracee's root, with RESOLVE_IN_ROOT: ".." stops at that root and absolute symlinks
// restart there, as in the kernel's walk for the tracee. flags are the open flags
// (O_CLOEXEC is added). ok is false, and walk must decide, for:
//
//   - a path that names /proc: procfs resolves "self" and "thread-self" for the process
//     that opens (the defender), not for the tracee;
//   - a path through a magic link (RESOLVE_NO_MAGICLINKS makes those fail with ELOOP):
//     walk opens them as the tracee's descriptors, memfds and deleted files included;
//   - any error (missing file, EAGAIN from a concurrent rename, permissions): walk
//     returns the error the kernel would, or succeeds by another way (O_PATH).
func (r *resolver) openInRoot(path string, flags int) (int, bool) {
	if strings.Contains(path, "/proc") {
		return -1, false
	}
	fd, err := r.openInRootErr(path, flags)
	return fd, err == nil
}

// openInRootErr is openInRoot's openat2, with its error.
func (r *resolver) openInRootErr(path string, flags int) (int, error) {
	root := r.sharedRoot
	if root < 0 {
		var err error
		if root, err = unix.Open(r.rootPrefix, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return -1, err
		}
		defer unix.Close(root)
	}
	return unix.Openat2(root, path, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// nameOf names the file of our descriptor fd, opened by openInRoot, by reading its link:
// the resolved path with every symlink followed, as walk computes it, in the tracee's
// view. ok is false, and walk must decide, for a name under /proc (a symlink that led
// there) or of a deleted file.
func (r *resolver) nameOf(fd int) (string, bool) {
	var lbuf [unix.PathMax]byte
	n, err := fdLink(fd, lbuf[:])
	if err != nil || n == 0 || n == len(lbuf) {
		return "", false
	}
	p := r.toTracee(string(lbuf[:n]))
	if !strings.HasPrefix(p, "/") || p == "/proc" || strings.HasPrefix(p, "/proc/") || strings.HasSuffix(p, " (deleted)") {
		return "", false
	}
	return p, true
}

// selfFDs is an O_PATH descriptor of /proc/self/fd, or -1: reading our descriptors'
// links relative to it skips walking /proc/self/fd each time.
var selfFDs = sync.OnceValue(func() int {
	fd, err := unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
})

// fdLink reads the link of our descriptor fd (/proc/self/fd/FD) into buf.
func fdLink(fd int, buf []byte) (int, error) {
	if dir := selfFDs(); dir >= 0 {
		return unix.Readlinkat(dir, strconv.Itoa(fd), buf)
	}
	return unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf)
}

// walk resolves an absolute tracee path component by component.
func (r *resolver) walk(path string) (*file, error) {
	invoked := cleanAbs(path)
	comps := splitPath(path)
	cur := "" // the tracee path resolved so far; "" is the root
	links := 0
	for len(comps) > 0 {
		c := comps[0]
		comps = comps[1:]
		if dotStep(c, &cur) {
			continue
		}
		if cur == "/proc" {
			switch c {
			case "self":
				c = strconv.Itoa(r.pid)
			case "thread-self":
				c = strconv.Itoa(r.pid)
				comps = append([]string{"task", strconv.Itoa(r.tid)}, comps...)
			}
		}
		next := cur + "/" + c
		if isMagicLink(next) {
			if len(comps) == 0 {
				f, err := r.open(next, true)
				if f != nil {
					f.Invoked = invoked
				}
				return f, err
			}
			target, err := os.Readlink(r.rootPrefix + next)
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(target, "/") {
				return nil, unix.ENOTDIR // socket:[..], pipe:[..], anon_inode: not a directory
			}
			cur, comps = "", append(splitPath(r.toTracee(target)), comps...)
			continue
		}
		var st unix.Stat_t
		if err := unix.Lstat(r.rootPrefix+next, &st); err != nil {
			return nil, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			links++
			if links > maxSymlinks {
				return nil, unix.ELOOP
			}
			target, err := os.Readlink(r.rootPrefix + next)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(target, "/") {
				cur = ""
			}
			comps = append(splitPath(target), comps...)
			continue
		case unix.S_IFDIR:
		default:
			if len(comps) > 0 {
				return nil, unix.ENOTDIR
			}
		}
		cur = next
	}
	if cur == "" {
		cur = "/"
	}
	f, err := r.open(cur, false)
	if f != nil {
		f.Invoked = invoked
	}
	return f, err
}

// dotStep takes a path component that names no new file: "" and "." stay in cur, ".."
// climbs to cur's parent (the root's parent is the root). It reports whether c was one of
// them; any other name is the caller's to look up.
func dotStep(c string, cur *string) bool {
	switch c {
	case "", ".":
		return true
	case "..":
		if i := strings.LastIndexByte(*cur, '/'); i >= 0 {
			*cur = (*cur)[:i]
		}
		return true
	}
	return false
}

// open opens the resolved tracee path p and describes the file. viaLink says p is a magic
// link whose target is named by reading our descriptor's link.
func (r *resolver) open(p string, viaLink bool) (*file, error) {
	host := r.rootPrefix + p
	// O_NONBLOCK: opening a FIFO named as a program must not hang the tracer.
	fd, err := unix.Open(host, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	readable := err == nil
	if err != nil {
		// An execute-only file (mode 0111) is still a program; describe it without reading.
		if fd, err = unix.Open(host, unix.O_PATH|unix.O_CLOEXEC, 0); err != nil {
			return nil, err
		}
	}
	defer unix.Close(fd)
	name := p
	if viaLink {
		if t, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil {
			name = r.toTracee(t)
		}
	}
	f, err := describe(fd, name, viaLink, readable)
	if err != nil {
		return nil, err
	}
	f.Invoked, f.hostTarget = p, host
	return f, nil
}

// describe stats the open file fd, named p in the tracee, and reads its first bytes when
// it is a readable regular file (to detect "#!" scripts).
func describe(fd int, p string, viaFD, readable bool) (*file, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	f := statFile(&st, p, viaFD)
	if st.Mode&unix.S_IFMT == unix.S_IFREG {
		f.setID = setID{suid: st.Mode&unix.S_ISUID != 0, sgid: st.Mode&unix.S_ISGID != 0, uid: st.Uid, gid: st.Gid}
		f.setID.caps = hasFileCaps(fd)
	}
	if readable && st.Mode&unix.S_IFMT == unix.S_IFREG {
		// 1 KiB: the "#!" line, and for an ELF program its headers and PT_INTERP path
		// (at 0x318 in a typical x86-64 program), so that elfInterp reads nothing more.
		// Only the kernel's BINPRM_BUF_SIZE (256 bytes) is kept: all a "#!" line can use.
		var buf [1024]byte
		if n, err := unix.Pread(fd, buf[:], 0); err == nil && n >= 2 {
			f.elfInterp = elfInterp(fd, buf[:n])
			f.sharedObject = f.elfInterp == "" && elfSoname(fd, buf[:n]) != ""
			f.ownSearchPath = f.elfInterp != "" && runPaths.own(fd, buf[:n], &st)
			f.header = append([]byte(nil), buf[:min(n, binprmBufSize)]...)
		}
	}
	return f, nil
}

// runPaths remembers, per program file (device, inode, mtime: its content), whether its
// run path is the caller's (ownSearchPath): read once per program, not at every exec.
var runPaths = &runPathCache{m: map[[4]int64]bool{}}

// maxRunPaths bounds runPaths; past it the cache starts over.
const maxRunPaths = 256

type runPathCache struct {
	mu sync.Mutex
	m  map[[4]int64]bool
}

// own is ownSearchPath of the run path of the ELF program fd (header, st: its first bytes
// and its stat).
func (c *runPathCache) own(fd int, header []byte, st *unix.Stat_t) bool {
	k := [4]int64{int64(st.Dev), int64(st.Ino), st.Mtim.Sec, st.Mtim.Nsec}
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = ownSearchPath(elfRunPath(fd, header))
	c.mu.Lock()
	if len(c.m) >= maxRunPaths {
		clear(c.m)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}

// statFile is the file named p (in the tracee) that st describes.
func statFile(st *unix.Stat_t, p string, viaFD bool) *file {
	return &file{
		Path: p, Invoked: p, Dev: st.Dev, Ino: st.Ino, Nlink: uint64(st.Nlink), Mode: st.Mode,
		Mtime: time.Unix(st.Mtim.Unix()), ev: evidenceOf(st), ViaFD: viaFD,
	}
}

// binprmBufSize is how much of a program the kernel reads to recognize it
// (include/uapi/linux/binfmts.h, BINPRM_BUF_SIZE): a "#!" line longer than that fails.
const binprmBufSize = 256

// hasFileCaps reports whether the open file fd carries file capabilities
// (security.capability), which exec would grant without no_new_privs. fd may be O_PATH,
// for which fgetxattr fails: such a file is execute-only, and counted as without them.
func hasFileCaps(fd int) bool {
	_, err := unix.Fgetxattr(fd, "security.capability", nil)
	return err == nil
}

// isMagicLink reports whether p (a resolved tracee path) is one of procfs's links that the
// kernel follows to the object itself rather than by name.
func isMagicLink(p string) bool {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return false
	}
	pid, rest, ok := strings.Cut(rest, "/")
	if !ok || !isDigits(pid) {
		return false
	}
	if t, ok := strings.CutPrefix(rest, "task/"); ok {
		tid, r2, ok := strings.Cut(t, "/")
		if !ok || !isDigits(tid) {
			return false
		}
		rest = r2
	}
	switch rest {
	case "exe", "cwd", "root":
		return true
	}
	if n, ok := strings.CutPrefix(rest, "fd/"); ok {
		return isDigits(n)
	}
	if n, ok := strings.CutPrefix(rest, "map_files/"); ok {
		return n != "" && !strings.Contains(n, "/")
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func splitPath(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
}

// cleanAbs returns p with "." and ".." resolved lexically, as a name for events and for
// the policy's invoked-name checks.
func cleanAbs(p string) string {
	var out []string
	for _, c := range splitPath(p) {
		switch c {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	return "/" + strings.Join(out, "/")
}
