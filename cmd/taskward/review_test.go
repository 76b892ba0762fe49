package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/taskward/taskward/internal/ecstest"
)

// gitRepoFromExample makes a Git repo holding examples/gitops: commit 1 as it is, commit 2
// with web.json made privileged and given a plain-text password. It returns the directory
// and both commit ids.
func gitRepoFromExample(t *testing.T) (dir, good, bad string) {
	t.Helper()
	dir = t.TempDir()
	src := filepath.Join("..", "..", "examples", "gitops")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	commit := func(msg string) string {
		if err := wt.AddGlob("."); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	good = commit("example")
	web := filepath.Join(dir, "tasks", "web.json")
	b, _ := os.ReadFile(web)
	s := strings.Replace(string(b), `"essential": true,`, `"essential": true, "privileged": true,`, 1)
	s = strings.Replace(s, `{ "name": "NGINX_PORT", "value": "80" }`, `{ "name": "NGINX_PORT", "value": "80" }, { "name": "DB_PASSWORD", "value": "hunter2-correct-horse" }`, 1)
	os.WriteFile(web, []byte(s), 0o644)
	bad = commit("web: privileged, with a password")
	return dir, good, bad
}

func TestReviewCommand(t *testing.T) {
	dir, good, bad := gitRepoFromExample(t)

	code, out, errOut := runCmd(t, "", "review", "--repo", dir, "--base", good, "--head", bad, "--ecs", "local", "--offline")
	if code != exitChanges {
		t.Fatalf("bad head: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"<!-- taskward-review -->", "❌ failed", "runs privileged", "DB_PASSWORD", "Changed: `tasks/web.json`", "every family is new", "| register | `web` |"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "hunter2") {
		t.Error("the report echoes the password")
	}

	if code, out, errOut := runCmd(t, "", "review", "--repo", dir, "--head", good, "--no-plan", "--offline"); code != exitOK || !strings.Contains(out, "✅ passed") {
		t.Fatalf("good head: exit %d\n%s\n%s", code, out, errOut)
	}
	// Without --head the working tree is reviewed: it holds the bad change.
	if code, _, _ := runCmd(t, "", "review", "--repo", dir, "--no-plan", "--offline"); code != exitChanges {
		t.Fatalf("working tree: exit %d", code)
	}
	if code, _, errOut := runCmd(t, "", "review", "--repo", dir, "--head", "no-such-branch", "--no-plan"); code != exitError || !strings.Contains(errOut, "no-such-branch") {
		t.Fatalf("unknown ref: exit %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "review", "--repo", dir, "--base", good, "--no-plan"); code != exitError {
		t.Fatalf("--base without --head: exit %d", code)
	}
	// An unreachable ECS endpoint is an error (2), not a pass: the report still prints.
	code, out, _ = runCmd(t, "", "review", "--repo", dir, "--head", good, "--ecs", "local", "--ecs-endpoint", "http://127.0.0.1:1", "--offline")
	if code != exitError || !strings.Contains(out, "live ECS could not be read") {
		t.Fatalf("unreachable ECS: exit %d\n%s", code, out)
	}
}

// TestReviewCommandPlansEveryCluster: with taskward.yaml listing alpha and beta, review
// plans against both (or only --cluster); a cluster the endpoint does not have is an error
// (exit 2) that still prints the other cluster's plan.
func TestReviewCommandPlansEveryCluster(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "examples", "gitops"), dir)
	cfg := filepath.Join(dir, "taskward.yaml")
	y, _ := os.ReadFile(cfg)
	if !strings.Contains(string(y), "clusters: [default]") {
		t.Fatal("examples/gitops/taskward.yaml no longer says clusters: [default]")
	}
	os.WriteFile(cfg, []byte(strings.Replace(string(y), "clusters: [default]", "clusters: [alpha, beta]", 1)), 0o644)

	code, out, errOut := runCmd(t, "", "review", "--repo", dir, "--ecs", "local", "--offline")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	a, b := strings.Index(out, "\n#### Cluster `alpha`\n\n| Action |"), strings.Index(out, "\n#### Cluster `beta`\n\n| Action |")
	if a < 0 || b < a || strings.Count(out, "every family is new") != 1 || !strings.Contains(errOut, "; plan (2 clusters): 3 register, 0 service updates, 0 prune") {
		t.Fatalf("both clusters:\n%s\n%s", out, errOut)
	}

	code, out, _ = runCmd(t, "", "review", "--repo", dir, "--ecs", "local", "--offline", "--cluster", "beta")
	if code != exitOK || !strings.Contains(out, "\n### Plan against live ECS (cluster `beta`)\n") || strings.Contains(out, "alpha") {
		t.Fatalf("--cluster beta: exit %d\n%s", code, out)
	}

	srv := ecstest.Start(t, "beta")
	code, out, errOut = runCmd(t, "", "review", "--repo", dir, "--ecs", "local", "--ecs-endpoint", srv.URL, "--offline")
	if code != exitError || !strings.Contains(out, "#### Cluster `alpha`\n\nNo plan: live ECS could not be read: ") || !strings.Contains(out, "ClusterNotFoundException") ||
		!strings.Contains(out, "#### Cluster `beta`\n\n| Action |") || !strings.Contains(errOut, "; plan (1 of 2 clusters, 1 ECS error): 3 register") {
		t.Fatalf("alpha missing: exit %d\n%s\n%s", code, out, errOut)
	}
}
