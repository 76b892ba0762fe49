package controller

import (
	"context"
	"testing"
)

// TestGitSourcePath: the GitOps repo may live in a directory of the Git repository.
func TestGitSourcePath(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	files := map[string]string{"README.md": "monorepo\n"}
	for p, c := range exampleFiles(t) {
		files["deploy/ecs/"+p] = c
	}
	remote.push("initial", files)
	src := gitSource(t, "file://"+remote.bare).(*GitSource)
	src.Path = "deploy/ecs"
	c := New(src, env.ecs)
	c.Reconcile(context.Background(), "test")
	if st := c.Status(); st.Result != "applied" || len(st.Families) != 3 {
		t.Fatalf("with --path: %+v", st)
	}
	src.Path = "nowhere"
	if _, err := src.Fetch(context.Background()); err == nil {
		t.Fatal("a --path that does not exist must be an error, not an empty repo")
	}
}
