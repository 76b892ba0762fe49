package manifests_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskward/taskward/manifests"
)

// TestWorkingTreeIsData: a checkout (what `taskward validate` and `review` read in CI) can
// hold what a commit can: symlinks to the runner's files, and more (FIFOs). None is read.
func TestWorkingTreeIsData(t *testing.T) {
	outside := t.TempDir()
	dockerConfig := filepath.Join(outside, "config.json")
	if err := os.WriteFile(dockerConfig, []byte("auths:\n  registry.secret.example:\n    auth: c2VjcmV0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	mk := func(p, content string) {
		full := filepath.Join(repo, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(repo, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	mk("tasks/web.json", `{"family":"web","containerDefinitions":[{"name":"web","image":"busybox","entryPoint":["sh"]}]}`)
	for link, target := range map[string]string{
		"policies/leak.yaml": dockerConfig, // absolute, outside
		"policies/rel.yaml":  "../../" + filepath.Base(outside) + "/config.json",
		"tasks/inside.json":  "web.json", // inside: refused as well, like the commit reader
		"tasks/linkdir":      outside,    // a directory link
		"taskward.yaml":      dockerConfig,
	} {
		if err := os.Symlink(target, filepath.Join(repo, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(repo, "tasks", "pipe.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var probs manifests.Problems
	var loaded *manifests.Repo
	go func() { loaded, probs = manifests.LoadDir(repo); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("LoadDir blocked (opening a FIFO?)")
	}
	s := probs.String()
	if loaded != nil {
		t.Fatalf("LoadDir loaded a repo with symlinks and a FIFO; problems:\n%s", s)
	}
	for _, want := range []string{
		"policies/leak.yaml: a symbolic link", "policies/rel.yaml: a symbolic link", "tasks/inside.json: a symbolic link",
		"tasks/linkdir: a symbolic link", "taskward.yaml: a symbolic link", "tasks/pipe.json: a Git submodule or special file",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("problems do not say %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "secret.example") || strings.Contains(s, "auths") {
		t.Errorf("the problems show the content of a file outside the repo:\n%s", s)
	}
}

// TestWorkingTreeRootLink: the tasks directory itself a symlink out of the repo.
func TestWorkingTreeRootLink(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "x.json"), []byte(`{"family":"stolen"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(repo, "tasks")); err != nil {
		t.Fatal(err)
	}
	loaded, probs := manifests.LoadDir(repo)
	if loaded != nil || !strings.Contains(probs.String(), "tasks: a symbolic link") {
		t.Fatalf("tasks -> outside: loaded %v, problems %v", loaded != nil, probs)
	}
}
