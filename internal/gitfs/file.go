package gitfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// file is an open regular file, its content already read.
type file struct {
	info *fileInfo
	data []byte
	r    *bytes.Reader
}

var (
	_ io.ReaderAt = (*file)(nil)
	_ io.Seeker   = (*file)(nil)
)

func (f *file) reader() *bytes.Reader {
	if f.r == nil {
		f.r = bytes.NewReader(f.data)
	}
	return f.r
}

func (f *file) Stat() (fs.FileInfo, error)                { return f.info, nil }
func (f *file) Read(p []byte) (int, error)                { return f.reader().Read(p) }
func (f *file) ReadAt(p []byte, off int64) (int, error)   { return f.reader().ReadAt(p, off) }
func (f *file) Seek(off int64, whence int) (int64, error) { return f.reader().Seek(off, whence) }
func (f *file) Close() error                              { return nil }

// dir is an open directory.
type dir struct {
	fs      *FS
	info    *fileInfo
	entries []object.TreeEntry
	list    []fs.DirEntry // sorted, built on the first ReadDir
	off     int
}

var _ fs.ReadDirFile = (*dir)(nil)

func (d *dir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dir) Close() error               { return nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

// ReadDir follows fs.ReadDirFile: n > 0 reads at most n entries and returns io.EOF at
// the end; n <= 0 reads the rest.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.list == nil {
		d.list = d.fs.dirEntries(d.entries)
	}
	rest := d.list[d.off:]
	if n <= 0 {
		d.off = len(d.list)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return slices.Clone(rest[:n]), nil
}

// dirEntries lists tree entries sorted by name, as io/fs requires. Git orders a tree as
// if directory names ended in "/", so "a-b" comes before directory "a" there.
func (f *FS) dirEntries(es []object.TreeEntry) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(es))
	for _, e := range es {
		out = append(out, &dirEntry{fs: f, e: entry{name: e.Name, mode: e.Mode, hash: e.Hash}})
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

type dirEntry struct {
	fs *FS
	e  entry
}

func (d *dirEntry) Name() string      { return d.e.name }
func (d *dirEntry) IsDir() bool       { return d.e.mode == filemode.Dir }
func (d *dirEntry) Type() fs.FileMode { return goMode(d.e.mode).Type() }
func (d *dirEntry) String() string    { return fs.FormatDirEntry(d) }

// Info reads the blob size from the store (a tree entry does not carry it).
func (d *dirEntry) Info() (fs.FileInfo, error) {
	size, err := d.fs.size(d.e)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: d.e.name, Err: err}
	}
	return d.fs.info(d.e, size), nil
}

type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() fs.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return i.modTime }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }
func (i *fileInfo) String() string     { return fs.FormatFileInfo(i) }
