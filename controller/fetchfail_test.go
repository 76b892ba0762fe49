package controller

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
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

// TestFetchFailureBeforeAnyCommit: a repo that cannot be fetched from the start has no
// last good commit to keep, and neither the log nor the status page may claim one.
func TestFetchFailureBeforeAnyCommit(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	src := gitSource(t, "file://"+remote.bare)
	var logs bytes.Buffer
	c := New(src, env.ecs, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err := os.Rename(remote.bare, remote.bare+".away"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Reconcile(ctx, "test")
	if strings.Contains(logs.String(), "last good commit") || !strings.Contains(logs.String(), "no commit was fetched yet") {
		t.Errorf("log:\n%s", logs.String())
	}
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if page := rec.Body.String(); strings.Contains(page, "last good commit") || !strings.Contains(page, "no commit was fetched yet") {
		t.Errorf("status page:\n%s", page)
	}
	os.Rename(remote.bare+".away", remote.bare)
	logs.Reset()
	c.Reconcile(ctx, "test")
	os.Rename(remote.bare, remote.bare+".away")
	c.Reconcile(ctx, "test")
	if !strings.Contains(logs.String(), "keeping the last good commit") {
		t.Errorf("after a good commit, log:\n%s", logs.String())
	}
}
