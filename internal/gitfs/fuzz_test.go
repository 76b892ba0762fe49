package gitfs_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/taskward/taskward/internal/gitfs"
	"github.com/taskward/taskward/manifests"
)

// FuzzHostileTree builds a commit tree from the fuzzer's bytes (entry names, modes,
// nesting, blob sizes, entries pointing back at their parents) and walks it with
// fs.WalkDir and manifests.Load. Neither may crash, loop or read more than the bounds
// allow; every path returned must be valid.
//
// The input is a program: each 3-byte op is (kind, name byte, arg). Names come from a
// small alphabet that includes "..", ".", "", "/x", ".git" and NUL so that hostile
// entries are common.
func FuzzHostileTree(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 1, 0, 2, 2, 0})
	f.Add([]byte{1, 3, 0, 2, 4, 0, 0, 5, 3})
	f.Add([]byte{1, 1, 0, 1, 1, 0, 1, 1, 0, 3, 2, 0, 4, 6, 0})
	names := []string{"tasks", "policies", "web.json", "..", ".", "", "a/b", ".git", "p.yaml", "taskward.yaml", "x\x00y", "d"}
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 3*200 {
			return
		}
		h := newHostile(t)
		// A stack of open directories; ops add entries to the top one.
		type dir struct {
			name string
			es   []object.TreeEntry
		}
		stack := []*dir{{name: "root"}}
		var last plumbing.Hash
		for i := 0; i+2 < len(prog); i += 3 {
			kind, name, arg := prog[i]%7, names[int(prog[i+1])%len(names)], prog[i+2]
			top := stack[len(stack)-1]
			switch kind {
			case 0: // file of arg KiB (up to 1 MiB + a bit)
				size := int(arg) * 4100
				top.es = append(top.es, fileE(name, h.blob(string(make([]byte, size)))))
			case 1: // open a directory
				stack = append(stack, &dir{name: name})
			case 2: // close a directory
				if len(stack) > 1 {
					stack = stack[:len(stack)-1]
					last = h.tree(top.es...)
					stack[len(stack)-1].es = append(stack[len(stack)-1].es, dirE(top.name, last))
				}
			case 3: // an entry pointing at the last closed tree (a parent, a sibling: loops)
				if !last.IsZero() {
					top.es = append(top.es, dirE(name, last))
				}
			case 4: // symlink
				top.es = append(top.es, object.TreeEntry{Name: name, Mode: filemode.Symlink, Hash: h.blob("../../etc/passwd")})
			case 5: // submodule
				top.es = append(top.es, object.TreeEntry{Name: name, Mode: filemode.Submodule, Hash: plumbing.NewHash("0123456789012345678901234567890123456789")})
			case 6: // 20 nested levels at once
				for range 20 {
					stack = append(stack, &dir{name: "d"})
				}
				_ = arg
			}
		}
		for len(stack) > 1 {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			stack[len(stack)-1].es = append(stack[len(stack)-1].es, dirE(top.name, h.tree(top.es...)))
		}
		fsys, err := h.fs(h.tree(stack[0].es...))
		if err != nil {
			if !errors.Is(err, gitfs.ErrHostileTree) {
				t.Fatalf("New: %v", err)
			}
			return
		}
		visited := 0
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if !fs.ValidPath(p) {
				t.Fatalf("WalkDir gave invalid path %q", p)
			}
			if visited++; visited > 100_000 {
				t.Fatalf("WalkDir visited more than 100,000 entries: a loop")
			}
			if err == nil && d.Type().IsRegular() {
				if b, err := fs.ReadFile(fsys, p); err == nil && len(b) > gitfs.MaxFileSize {
					t.Fatalf("%s: read %d bytes", p, len(b))
				}
			}
			return nil
		})
		_, _ = manifests.Load(fsys)
	})
}
