// Package gitfs is a read-only io/fs view of one Git tree, read straight from a go-git
// object store: no worktree checkout, nothing written to disk. It lets
// manifests.Load(fsys) read a commit as it is in the repository.
//
// What it does, and why:
//   - Paths follow io/fs rules (slash-separated, no "..", "." is the root).
//   - Regular and executable blobs are files (mode 0444 or 0555); trees are directories
//     (0555). A blob larger than MaxFileSize is refused with ErrTooLarge before it is
//     read, so a hostile commit cannot make the controller allocate an arbitrary amount
//     (manifests bounds task files at 1 MiB as well).
//   - Symbolic links are never followed: a symlink in a Git tree is a blob holding a
//     target path, which may point anywhere, including out of the tree. Stat and
//     ReadDir report it with fs.ModeSymlink and Open refuses it with ErrNotRegular.
//     Submodules (gitlinks) are reported as fs.ModeIrregular and refused the same way:
//     their commit is not in this repository.
//   - The tree is data written by whoever made the commit, not by a Git client: a tree
//     entry Git itself refuses (".", "..", "", ".git" in any case, a name holding "/" or
//     NUL, a name listed twice, an unknown mode) makes its directory unreadable with
//     ErrHostileTree. A "tasks/.." entry pointing back at the root once sent fs.WalkDir
//     round until the stack overflowed. Trees deeper than MaxDepth, wider than
//     MaxTreeEntries or larger than MaxTreeBytes are refused too, before they are read.
//   - Every object read goes through the Objects interface. The store may be shared
//     with a writer (a fetch running while a commit is read): the caller supplies an
//     implementation that serializes access; gitfs itself keeps no reference to
//     store-owned memory after a call returns.
//
// The FS is safe for concurrent use when its Objects is.
package gitfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Bounds on what one FS reads: a commit is an attacker's input when it is a pull request.
const (
	// MaxFileSize is the largest blob Open and ReadFile return.
	MaxFileSize = 1 << 20
	// MaxDepth is how many directories deep a path may go below the root.
	MaxDepth = 32
	// MaxTreeEntries is the most entries one directory may have.
	MaxTreeEntries = 10000
	// MaxTreeBytes is the largest tree object read (10,000 entries of 100-byte names).
	MaxTreeBytes = 1200 << 10
	// MaxTrees is how many directories one FS (and its Subs) reads in all.
	MaxTrees = 20000
)

var (
	// ErrTooLarge is returned (wrapped in a *fs.PathError) for a blob over MaxFileSize.
	ErrTooLarge = errors.New("file too large")
	// ErrNotRegular is returned (wrapped in a *fs.PathError) when opening a symbolic link
	// or a submodule: they are listed but never followed.
	ErrNotRegular = errors.New("not a regular file or directory (symlinks and submodules are not followed)")
	// ErrHostileTree is returned (wrapped in a *fs.PathError naming the directory) for a
	// tree entry no Git client writes.
	ErrHostileTree = errors.New("hostile tree entry")
	// ErrTooDeep is returned for a path deeper than MaxDepth.
	ErrTooDeep = fmt.Errorf("deeper than %d directories", MaxDepth)
)

// Objects is the part of a go-git object store that gitfs reads
// (storer.EncodedObjectStorer has both methods).
type Objects interface {
	EncodedObject(plumbing.ObjectType, plumbing.Hash) (plumbing.EncodedObject, error)
	EncodedObjectSize(plumbing.Hash) (int64, error)
}

// FS is a read-only file system over one Git tree.
type FS struct {
	objs    Objects
	root    plumbing.Hash
	modTime time.Time
	depth   int // of root below the commit's root (Sub)
	*cache      // shared with Subs
}

// cache holds the trees read, and bounds how many.
type cache struct {
	mu    sync.Mutex
	trees map[plumbing.Hash][]object.TreeEntry // trees are immutable by hash: cache them
	read  int
}

var (
	_ fs.FS         = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.SubFS      = (*FS)(nil)
)

// New returns the file system of the tree with hash root in objs. modTime is what
// ModTime reports for every entry (Git stores no per-file times; callers pass the
// commit time). The root tree is read at once so that a missing tree is an error here.
func New(objs Objects, root plumbing.Hash, modTime time.Time) (*FS, error) {
	f := &FS{objs: objs, root: root, modTime: modTime, cache: &cache{trees: map[plumbing.Hash][]object.TreeEntry{}}}
	if _, err := f.tree(root); err != nil {
		return nil, fmt.Errorf("tree %s: %w", root, err)
	}
	return f, nil
}

// FromCommit returns the file system of a commit's tree; ModTime is the committer time.
func FromCommit(objs Objects, c *object.Commit) (*FS, error) {
	return New(objs, c.TreeHash, c.Committer.When)
}

// entry is one resolved path.
type entry struct {
	name string // base name; "." for the root
	mode filemode.FileMode
	hash plumbing.Hash
}

func (f *FS) tree(h plumbing.Hash) ([]object.TreeEntry, error) {
	f.mu.Lock()
	es, ok := f.trees[h]
	f.mu.Unlock()
	if ok {
		return es, nil
	}
	f.mu.Lock()
	f.read++
	n := f.read
	f.mu.Unlock()
	if n > MaxTrees {
		return nil, fmt.Errorf("%w: more than %d directories read", ErrTooLarge, MaxTrees)
	}
	size, err := f.objs.EncodedObjectSize(h)
	if err != nil {
		return nil, err
	}
	if size > MaxTreeBytes {
		return nil, fmt.Errorf("%w: a directory listing of %d bytes, the limit is %d", ErrTooLarge, size, MaxTreeBytes)
	}
	o, err := f.objs.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, err
	}
	var t object.Tree
	if err := t.Decode(o); err != nil {
		// go-git refuses an empty name or a mode it cannot parse (an odd mode it makes a
		// submodule, as Git does, which Load refuses).
		return nil, fmt.Errorf("%w: %w; the commit is refused", ErrHostileTree, err)
	}
	if len(t.Entries) > MaxTreeEntries {
		return nil, fmt.Errorf("%w: %d entries in one directory, the limit is %d", ErrTooLarge, len(t.Entries), MaxTreeEntries)
	}
	if err := checkEntries(t.Entries); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.trees[h] = t.Entries
	f.mu.Unlock()
	return t.Entries, nil
}

// checkEntries refuses what git fsck refuses in a tree (and what would let a path leave
// its directory): see the package doc.
func checkEntries(es []object.TreeEntry) error {
	seen := make(map[string]bool, len(es))
	for _, e := range es {
		switch {
		case e.Name == "" || e.Name == "." || e.Name == ".." || strings.EqualFold(e.Name, ".git"):
			return fmt.Errorf("%w %q: not a file name a Git client writes; the commit is refused", ErrHostileTree, e.Name)
		case strings.ContainsAny(e.Name, "/\x00"):
			return fmt.Errorf("%w %q: a name holding / or NUL; the commit is refused", ErrHostileTree, e.Name)
		case seen[e.Name]:
			return fmt.Errorf("%w: %q twice in one directory; the commit is refused", ErrHostileTree, e.Name)
		}
		switch e.Mode {
		case filemode.Dir, filemode.Regular, filemode.Executable, filemode.Deprecated, filemode.Symlink, filemode.Submodule:
		default:
			return fmt.Errorf("%w %q: unknown mode %o; the commit is refused", ErrHostileTree, e.Name, uint32(e.Mode))
		}
		seen[e.Name] = true
	}
	return nil
}

// lookup resolves name without following symlinks. op names the fs operation for errors.
func (f *FS) lookup(op, name string) (entry, error) {
	if !fs.ValidPath(name) {
		return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	cur := entry{name: ".", mode: filemode.Dir, hash: f.root}
	if name == "." {
		return cur, nil
	}
	parts := strings.Split(name, "/")
	if f.depth+len(parts) > MaxDepth+1 {
		return entry{}, &fs.PathError{Op: op, Path: name, Err: ErrTooDeep}
	}
	for i, part := range parts {
		if cur.mode != filemode.Dir {
			// A path through a file or a symlink: not found, as on a real file system
			// with no symlink following.
			return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		es, err := f.tree(cur.hash)
		if err != nil {
			// Name the directory whose tree is refused, not the file looked up in it.
			return entry{}, &fs.PathError{Op: op, Path: dirName(parts[:i]), Err: err}
		}
		found := false
		for _, e := range es {
			if e.Name == part {
				cur, found = entry{name: part, mode: e.Mode, hash: e.Hash}, true
				break
			}
		}
		if !found {
			return entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
	}
	return cur, nil
}

// Open opens the named file or directory. Files are read whole into memory at Open
// (at most MaxFileSize bytes), so a file stays readable whatever happens to the store.
func (f *FS) Open(name string) (fs.File, error) {
	e, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	switch {
	case e.mode == filemode.Dir:
		es, err := f.tree(e.hash)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dir{fs: f, info: f.info(e, 0), entries: es}, nil
	case isRegular(e.mode):
		b, err := f.readBlob(e.hash)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &file{info: f.info(e, int64(len(b))), data: b}, nil
	default:
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
}

// ReadFile reads the named regular file (at most MaxFileSize bytes).
func (f *FS) ReadFile(name string) ([]byte, error) {
	e, err := f.lookup("readfile", name)
	if err != nil {
		return nil, err
	}
	if e.mode == filemode.Dir {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: errors.New("is a directory")}
	}
	if !isRegular(e.mode) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: ErrNotRegular}
	}
	b, err := f.readBlob(e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: err}
	}
	return b, nil
}

// ReadDir reads the named directory, entries sorted by name (Git's tree order is by
// name too, except that it compares directories as if they ended in "/").
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if e.mode != filemode.Dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	es, err := f.tree(e.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return f.dirEntries(es), nil
}

// Stat describes the named entry without following a symlink (it is Lstat: a symlink
// is reported as one, with the size of its target path).
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	size, err := f.size(e)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return f.info(e, size), nil
}

// Sub returns the file system rooted at dir.
func (f *FS) Sub(dir string) (fs.FS, error) {
	e, err := f.lookup("sub", dir)
	if err != nil {
		return nil, err
	}
	if e.mode != filemode.Dir {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: errors.New("not a directory")}
	}
	return &FS{objs: f.objs, root: e.hash, modTime: f.modTime, depth: f.depth + strings.Count(dir, "/") + 1, cache: f.cache}, nil
}

func dirName(parts []string) string {
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

func (f *FS) readBlob(h plumbing.Hash) ([]byte, error) {
	n, err := f.objs.EncodedObjectSize(h)
	if err != nil {
		return nil, err
	}
	if n > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, n, MaxFileSize)
	}
	o, err := f.objs.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, err
	}
	if o.Size() > MaxFileSize { // the store disagreeing with itself: still bound the read
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, o.Size(), MaxFileSize)
	}
	r, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxFileSize)
	}
	return b, nil
}

func (f *FS) size(e entry) (int64, error) {
	switch e.mode {
	case filemode.Dir, filemode.Submodule:
		return 0, nil
	}
	return f.objs.EncodedObjectSize(e.hash)
}

func isRegular(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
}

func (f *FS) info(e entry, size int64) *fileInfo {
	return &fileInfo{name: e.name, size: size, mode: goMode(e.mode), modTime: f.modTime}
}

func goMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o555
	case filemode.Executable:
		return 0o555
	case filemode.Regular, filemode.Deprecated:
		return 0o444
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	default: // submodule and anything newer
		return fs.ModeIrregular
	}
}
