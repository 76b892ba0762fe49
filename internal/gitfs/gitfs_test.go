package gitfs_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	git "github.com/go-git/go-git/v5"

	"github.com/taskward/taskward/internal/gitfs"
	"github.com/taskward/taskward/internal/testtool"
	"github.com/taskward/taskward/manifests"
)

// commitTree commits the files (path -> content; content "->target" makes a symlink) with
// the git CLI into a new repository and returns the gitfs of HEAD, read with go-git.
func commitTree(t *testing.T, files map[string]string, copyDir string) *gitfs.FS {
	t.Helper()
	testtool.Need(t, "git", "the git CLI")
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("init", "-q", "-b", "main")
	if copyDir != "" {
		if err := os.CopyFS(dir, os.DirFS(copyDir)); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	run("add", "-A")
	run("commit", "-q", "-m", "test")
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(head.Hash())
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := gitfs.FromCommit(repo.Storer, c)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestFSConformance(t *testing.T) {
	// No symlinks here: fstest.TestFS expects Open to follow them, and gitfs never does
	// (TestSymlinksAreNotFollowed covers them).
	fsys := commitTree(t, map[string]string{
		"README.md":          "hello\n",
		"a-b":                "sorts before directory a in Git's tree order\n",
		"a/b/c.txt":          "deep\n",
		"a/x.json":           `{"x":1}`,
		"bin/run.sh":         "#!/bin/sh\necho hi\n",
		"empty":              "",
		"tasks/web.json":     `{"family":"web"}`,
		"policies/p.yaml":    "name: p\n",
		"weird name (1).txt": "spaces\n",
	}, "")
	if err := fstest.TestFS(fsys, "README.md", "a-b", "a/b/c.txt", "a/x.json", "bin/run.sh", "empty",
		"tasks/web.json", "policies/p.yaml", "weird name (1).txt"); err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(fsys, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(sub, "b/c.txt", "x.json"); err != nil {
		t.Fatal(err)
	}
	st, err := fs.Stat(fsys, "bin/run.sh")
	if err != nil || st.Mode() != 0o555 {
		t.Fatalf("bin/run.sh: mode %v, err %v; want 0555 (executable blob)", st.Mode(), err)
	}
	if _, err := fsys.Open("../etc/passwd"); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("open ../etc/passwd: %v, want fs.ErrInvalid", err)
	}
}

func TestSymlinksAreNotFollowed(t *testing.T) {
	fsys := commitTree(t, map[string]string{
		"tasks/web.json":  `{"family":"web"}`,
		"tasks/evil.json": "->/etc/passwd",
		"escape":          "->../..",
		"inside":          "->tasks",
	}, "")
	for _, name := range []string{"tasks/evil.json", "escape", "inside"} {
		st, err := fsys.Stat(name)
		if err != nil {
			t.Fatalf("stat %s: %v", name, err)
		}
		if st.Mode().Type() != fs.ModeSymlink || st.Mode().IsRegular() {
			t.Errorf("stat %s: mode %v, want a symlink", name, st.Mode())
		}
		if _, err := fsys.Open(name); !errors.Is(err, gitfs.ErrNotRegular) {
			t.Errorf("open %s: %v, want ErrNotRegular", name, err)
		}
		if _, err := fs.ReadFile(fsys, name); !errors.Is(err, gitfs.ErrNotRegular) {
			t.Errorf("readfile %s: %v, want ErrNotRegular", name, err)
		}
	}
	// A path through a symlinked directory does not resolve.
	for _, name := range []string{"inside/web.json", "escape/etc/passwd"} {
		if _, err := fsys.Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("open %s: %v, want fs.ErrNotExist", name, err)
		}
	}
	// The loader sees the symlink as a file it cannot read: an error, not /etc/passwd.
	_, probs := manifests.Load(fsys)
	if probs.Err() == nil || !strings.Contains(probs.String(), "tasks/evil.json") {
		t.Fatalf("manifests.Load over a symlinked task file: want an error naming it, got %v", probs)
	}
}

func TestLargeBlobRefused(t *testing.T) {
	big := strings.Repeat("x", gitfs.MaxFileSize+1)
	fsys := commitTree(t, map[string]string{"big.json": big, "ok.json": strings.Repeat("y", gitfs.MaxFileSize)}, "")
	_, err := fs.ReadFile(fsys, "big.json")
	if !errors.Is(err, gitfs.ErrTooLarge) {
		t.Fatalf("readfile big.json: %v, want ErrTooLarge", err)
	}
	if want := "big.json: file too large: 1048577 bytes, the limit is 1048576"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if _, err := fsys.Open("big.json"); !errors.Is(err, gitfs.ErrTooLarge) {
		t.Fatalf("open big.json: %v, want ErrTooLarge", err)
	}
	if st, err := fsys.Stat("big.json"); err != nil || st.Size() != gitfs.MaxFileSize+1 {
		t.Fatalf("stat big.json: %v %v", st, err)
	}
	if b, err := fs.ReadFile(fsys, "ok.json"); err != nil || len(b) != gitfs.MaxFileSize {
		t.Fatalf("readfile ok.json (exactly the limit): %d bytes, %v", len(b), err)
	}
}

func TestManifestsLoadExampleRepo(t *testing.T) {
	src := filepath.Join("..", "..", "examples", "gitops")
	fsys := commitTree(t, nil, src)
	fromGit, probs := manifests.Load(fsys)
	if probs.Err() != nil {
		t.Fatalf("load from git tree: %v", probs)
	}
	fromDisk, probs2 := manifests.LoadDir(src)
	if probs2.Err() != nil {
		t.Fatalf("load from disk: %v", probs2)
	}
	if len(fromGit.Tasks) == 0 || len(fromGit.Tasks) != len(fromDisk.Tasks) || len(fromGit.Policies) != len(fromDisk.Policies) {
		t.Fatalf("git tree: %d tasks %d policies; disk: %d tasks %d policies",
			len(fromGit.Tasks), len(fromGit.Policies), len(fromDisk.Tasks), len(fromDisk.Policies))
	}
	if probs.String() != probs2.String() {
		t.Errorf("warnings differ:\ngit:  %s\ndisk: %s", probs, probs2)
	}
	for i := range fromGit.Tasks {
		g, d := fromGit.Tasks[i], fromDisk.Tasks[i]
		if g.Path != d.Path || g.Family != d.Family {
			t.Errorf("task %d: git %s (%s), disk %s (%s)", i, g.Path, g.Family, d.Path, d.Family)
		}
	}
	// Every file reads back byte for byte.
	err := fs.WalkDir(os.DirFS(src), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, _ := os.ReadFile(filepath.Join(src, p))
		got, err := fs.ReadFile(fsys, p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes from git, %d on disk, err %v", p, len(got), len(want), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
