package gitsource

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskward/taskward/internal/testtool"
)

// remote is a bare repository made with the git CLI, plus a working clone to commit from.
type remote struct {
	t    testing.TB
	bare string // the bare repository
	work string
	env  []string
}

func gitCLI(t testing.TB) string {
	t.Helper()
	return testtool.Need(t, "git", "the git CLI")
}

func newRemote(t testing.TB) *remote {
	t.Helper()
	gitCLI(t)
	root := t.TempDir()
	r := &remote{t: t, bare: filepath.Join(root, "repo.git"), work: filepath.Join(root, "work")}
	r.env = append(os.Environ(), "GIT_AUTHOR_NAME=Ann Author", "GIT_AUTHOR_EMAIL=ann@example.com",
		"GIT_COMMITTER_NAME=Ann Author", "GIT_COMMITTER_EMAIL=ann@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+root)
	r.git(root, "init", "-q", "--bare", "-b", "main", r.bare)
	r.git(root, "init", "-q", "-b", "main", r.work)
	r.git(r.work, "remote", "add", "origin", r.bare)
	return r
}

func (r *remote) git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = r.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (path -> content) in the work tree, commits them on the current
// branch and pushes that branch; it returns the commit SHA.
func (r *remote) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git(r.work, "add", "-A")
	r.git(r.work, "commit", "-q", "--allow-empty", "-m", msg)
	r.git(r.work, "push", "-q", "origin", "HEAD")
	return r.git(r.work, "rev-parse", "HEAD")
}

func (r *remote) url() string { return "file://" + r.bare }
