package controller

import (
	"context"
	"os"
	"testing"
)

// TestFetchFailureKeepsLastGoodCommit: when the repo cannot be fetched, the last good
// commit stays in force (nothing is pruned or treated as empty) and the status says why.
func TestFetchFailureKeepsLastGoodCommit(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	first := remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithPrune(true))
	ctx := context.Background()
	c.Reconcile(ctx, "test")
	moved := remote.bare + ".away"
	if err := os.Rename(remote.bare, moved); err != nil {
		t.Fatal(err)
	}
	c.Reconcile(ctx, "test")
	st := c.Status()
	if st.SourceError == "" || st.Commit != first || len(st.Families) != 3 {
		t.Fatalf("after a failed fetch: %+v", st)
	}
	if n := len(env.revisions(t, "web")); n != 1 {
		t.Fatalf("web has %d revisions: a failed fetch changed ECS", n)
	}
	os.Rename(moved, remote.bare)
	c.Reconcile(ctx, "test")
	if st := c.Status(); st.SourceError != "" {
		t.Fatalf("recovered source still reports %q", st.SourceError)
	}
}
