package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestReviewCommandPath: `taskward review --path deploy/ecs` reviews what the controller
// with the same --path applies, in a commit and in a working tree; a commit without the
// directory is an error that says so.
func TestReviewCommandPath(t *testing.T) {
	dir := t.TempDir()
	write := func(p, c string) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("deploy/ecs/taskward.yaml", "clusters: [default]\n")
	write("deploy/ecs/tasks/web.json", `{"family":"web","containerDefinitions":[{"name":"app","image":"busybox:1.36","entryPoint":["/app"],"privileged":true,"memory":128}]}`)
	write("taskward.yaml", "clusters: [default]\n")
	write("tasks/decoy.json", `{"family":"decoy","containerDefinitions":[{"name":"app","image":"busybox:1.36","entryPoint":["/app"],"memory":128}]}`)
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	commit := func(msg string) string {
		if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	head := commit("privileged under deploy/ecs")
	for _, args := range [][]string{
		{"review", "--repo", dir, "--path", "deploy/ecs", "--no-plan", "--offline", "--head", head},
		{"review", "--repo", dir, "--path", "deploy/ecs", "--no-plan", "--offline"},
	} {
		code, out, errOut := runCmd(t, "", args...)
		if code != exitChanges || !strings.Contains(out, "privileged") || strings.Contains(out, "decoy") {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, "deploy")); err != nil {
		t.Fatal(err)
	}
	moved := commit("remove deploy/ecs")
	code, _, errOut := runCmd(t, "", "review", "--repo", dir, "--path", "deploy/ecs", "--no-plan", "--offline", "--head", moved)
	if code != exitError || !strings.Contains(errOut, `--path "deploy/ecs": no such directory`) {
		t.Fatalf("removed directory: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "", "review", "--repo", dir, "--path", "../etc", "--no-plan", "--offline"); code != exitError || !strings.Contains(errOut, "without ..") {
		t.Fatalf("--path ../etc: exit %d: %s", code, errOut)
	}
}
