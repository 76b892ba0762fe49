package gitfs_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/taskward/taskward/internal/gitfs"
	"github.com/taskward/taskward/manifests"
)

// hostile builds trees with go-git's object API, so that it can write what no Git
// client would commit: ".." entries, absolute names, duplicates, deep nesting, odd modes.
type hostile struct {
	t  testing.TB
	st *memory.Storage
}

func newHostile(t testing.TB) *hostile { return &hostile{t: t, st: memory.NewStorage()} }

func (h *hostile) blob(data string) plumbing.Hash {
	o := h.st.NewEncodedObject()
	o.SetType(plumbing.BlobObject)
	w, _ := o.Writer()
	_, _ = w.Write([]byte(data))
	_ = w.Close()
	id, err := h.st.SetEncodedObject(o)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *hostile) tree(es ...object.TreeEntry) plumbing.Hash {
	// Written by hand: object.Tree.Encode refuses unsorted entries, and an attacker's
	// client need not.
	o := h.st.NewEncodedObject()
	o.SetType(plumbing.TreeObject)
	w, _ := o.Writer()
	for _, e := range es {
		fmt.Fprintf(w, "%o %s\x00", uint32(e.Mode), e.Name)
		_, _ = w.Write(e.Hash[:])
	}
	_ = w.Close()
	id, err := h.st.SetEncodedObject(o)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *hostile) fs(root plumbing.Hash) (*gitfs.FS, error) {
	return gitfs.New(h.st, root, time.Unix(0, 0))
}

func dirE(name string, h plumbing.Hash) object.TreeEntry {
	return object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
}
func fileE(name string, h plumbing.Hash) object.TreeEntry {
	return object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h}
}

const webTask = `{"family":"web","containerDefinitions":[{"name":"web","image":"busybox","entryPoint":["sh"]}]}`

// TestHostileTreeEntries: a tree entry Git itself would refuse makes the whole directory
// unreadable with an error that names the entry, and manifests.Load reports it instead of
// recursing ("tasks/.." pointing back at the root sent fs.WalkDir round forever).
func TestHostileTreeEntries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		entry func(h *hostile, root func() plumbing.Hash) object.TreeEntry
		want  string
	}{
		{"dot-dot to the root", func(h *hostile, _ func() plumbing.Hash) object.TreeEntry {
			return dirE("..", h.tree(dirE("tasks", h.tree(fileE("web.json", h.blob(webTask))))))
		}, `".."`},
		{"dot", func(h *hostile, _ func() plumbing.Hash) object.TreeEntry {
			return dirE(".", h.tree(fileE("web.json", h.blob(webTask))))
		}, `"."`},
		{"absolute name", func(h *hostile, _ func() plumbing.Hash) object.TreeEntry {
			return fileE("/etc/passwd", h.blob("x"))
		}, `"/etc/passwd"`},
		{"slash inside", func(h *hostile, _ func() plumbing.Hash) object.TreeEntry {
			return fileE("a/../../b.json", h.blob("x"))
		}, `"a/../../b.json"`},
		{"empty name", func(h *hostile, _ func() plumbing.Hash) object.TreeEntry {
			return fileE("", h.blob("x"))
		}, `empty filename`},
		{"NUL", func(h *hostile, _ func() plumbing.Hash) object.TreeEntry {
			return fileE("a\x00b.json", h.blob("x"))
		}, `malformed`},
		{"dot git", func(h *hostile, _ func() plumbing.Hash) object.TreeEntry {
			return dirE(".GIT", h.tree(fileE("config", h.blob("x"))))
		}, `".GIT"`},
		{"duplicate", func(h *hostile, _ func() plumbing.Hash) object.TreeEntry {
			return fileE("web.json", h.blob(`{"family":"other"}`))
		}, `"web.json" twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHostile(t)
			bad := tc.entry(h, nil)
			tasks := h.tree(fileE("web.json", h.blob(webTask)), bad)
			root := h.tree(dirE("tasks", tasks))
			fsys, err := h.fs(root)
			if err != nil {
				t.Fatal(err)
			}
			_, err = fs.ReadDir(fsys, "tasks")
			if !errors.Is(err, gitfs.ErrHostileTree) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "tasks") {
				t.Fatalf("readdir tasks: %v; want ErrHostileTree naming tasks and %s", err, tc.want)
			}
			if _, err := fs.ReadFile(fsys, "tasks/web.json"); !errors.Is(err, gitfs.ErrHostileTree) {
				t.Fatalf("a file beside the hostile entry: %v, want ErrHostileTree (the commit is refused, not half-read)", err)
			}
			repo, probs := manifests.Load(fsys)
			if repo != nil || !strings.Contains(probs.String(), "tasks") || !strings.Contains(probs.String(), "hostile") {
				t.Fatalf("manifests.Load: repo %v, problems %v; want an error naming tasks", repo != nil, probs)
			}
		})
	}
}

// TestHostileRootEntry: a bad entry in the root tree is refused by New.
func TestHostileRootEntry(t *testing.T) {
	h := newHostile(t)
	root := h.tree(dirE("..", h.tree()), fileE("taskward.yaml", h.blob("")))
	if _, err := h.fs(root); !errors.Is(err, gitfs.ErrHostileTree) {
		t.Fatalf("New over a root with \"..\": %v, want ErrHostileTree", err)
	}
}

// TestDeepTree: directories nested deeper than MaxDepth are refused, and
// manifests.Load reports it rather than recursing 100,000 levels.
func TestDeepTree(t *testing.T) {
	h := newHostile(t)
	cur := h.tree(fileE("web.json", h.blob(webTask)))
	for range 100_000 {
		cur = h.tree(dirE("d", cur))
	}
	root := h.tree(dirE("tasks", cur))
	fsys, err := h.fs(root)
	if err != nil {
		t.Fatal(err)
	}
	repo, probs := manifests.Load(fsys)
	if repo != nil || !strings.Contains(probs.String(), "deeper than") {
		t.Fatalf("manifests.Load: repo %v, problems %v; want a depth error", repo != nil, probs)
	}
	if n := len(probs); n > 5 {
		t.Errorf("%d problems, want one per cause", n)
	}
}

// TestWideTree: a tree with more entries than MaxTreeEntries is refused before it is
// decoded into memory.
func TestWideTree(t *testing.T) {
	h := newHostile(t)
	b := h.blob(webTask)
	var es []object.TreeEntry
	for i := range gitfs.MaxTreeEntries + 1 {
		es = append(es, fileE(strings.Repeat("x", 5)+itoa(i)+".json", b))
	}
	root := h.tree(dirE("tasks", h.tree(es...)))
	fsys, err := h.fs(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadDir(fsys, "tasks"); !errors.Is(err, gitfs.ErrTooLarge) {
		t.Fatalf("readdir of a %d-entry tree: %v, want ErrTooLarge", len(es), err)
	}
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		if i /= 10; i == 0 {
			return string(b)
		}
	}
}

// TestSubmoduleAndSymlinkRefusedByLoad: a gitlink or a symlink where a task or policy file
// is expected is an error naming the file, not skipped silently and never followed.
func TestSubmoduleAndSymlinkRefusedByLoad(t *testing.T) {
	h := newHostile(t)
	tasks := h.tree(fileE("web.json", h.blob(webTask)),
		object.TreeEntry{Name: "evil.json", Mode: filemode.Symlink, Hash: h.blob("/etc/passwd")},
		object.TreeEntry{Name: "sub", Mode: filemode.Submodule, Hash: plumbing.NewHash("0123456789012345678901234567890123456789")},
		// A FIFO's mode: Git (and go-git) read any mode they do not know as a gitlink.
		object.TreeEntry{Name: "fifo.json", Mode: filemode.FileMode(0o010644), Hash: h.blob("x")})
	fsys, err := h.fs(h.tree(dirE("tasks", tasks)))
	if err != nil {
		t.Fatal(err)
	}
	repo, probs := manifests.Load(fsys)
	s := probs.String()
	if repo != nil || !strings.Contains(s, "tasks/evil.json: a symbolic link") || !strings.Contains(s, "tasks/sub: a Git submodule or special file") ||
		!strings.Contains(s, "tasks/fifo.json: a Git submodule or special file") {
		t.Fatalf("manifests.Load: repo %v, problems:\n%s", repo != nil, s)
	}
}
