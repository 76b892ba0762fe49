package gitsource

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// gitHTTPServer serves the bare repositories under root with git http-backend (the smart
// HTTP protocol, as a real Git server does) behind a basic-auth check: the password must
// be *token when token is not nil. It returns the server and a CA file trusting it.
func gitHTTPServer(t testing.TB, root string, tls bool, token *atomic.Pointer[string]) (*httptest.Server, string) {
	t.Helper()
	backend := &cgi.Handler{
		Path: gitCLI(t),
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
		// http-backend complains on stderr about a missing repository, on purpose here.
		Stderr: io.Discard,
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != nil {
			_, pass, ok := r.BasicAuth()
			if !ok || pass != *token.Load() {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		if strings.Contains(r.URL.Path, "/broken.git/") {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		backend.ServeHTTP(w, r)
	})
	if !tls {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv, ""
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

func TestHTTPSBasicAuth(t *testing.T) {
	ctx := context.Background()
	r := newRemote(t)
	first := r.commit("first", map[string]string{"tasks/web.json": "v1"})
	const good = "ghp_goodTOKEN0123456789"
	var want atomic.Pointer[string]
	want.Store(ptr(good))
	srv, ca := gitHTTPServer(t, filepath.Dir(r.bare), true, &want)
	url := srv.URL + "/repo.git"

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(Options{URL: url, Ref: "main", CAFile: ca, Auth: Auth{Username: "bot", TokenFile: tokenFile}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Fetch(ctx)
	if err != nil || c.Hash != first || readFile(t, c, "tasks/web.json") != "v1" {
		t.Fatalf("fetch with the right token: %v %v", c, err)
	}
	second := r.commit("second", map[string]string{"tasks/web.json": "v2"})
	if c, err := s.Fetch(ctx); err != nil || c.Hash != second {
		t.Fatalf("fetch after push: %v %v", c, err)
	}

	// The token is read at every fetch: rotate it on the server and in the file.
	const rotated = "ghp_rotatedTOKEN987654321"
	want.Store(ptr(rotated))
	_, err = s.Fetch(ctx)
	if !errors.Is(err, ErrAuth) || Retryable(err) {
		t.Fatalf("fetch with a stale token: %v, want ErrAuth", err)
	}
	if err := os.WriteFile(tokenFile, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Fetch(ctx); err != nil || c.Hash != second {
		t.Fatalf("fetch after rotation: %v %v", c, err)
	}

	// A wrong token: typed, and never in the error text or the log.
	const wrong = "ghp_wrongTOKENabcdef"
	if err := os.WriteFile(tokenFile, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	third := r.commit("third", nil)
	_, err = s.Fetch(ctx)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("fetch with a wrong token: %v, want ErrAuth", err)
	}
	t.Logf("wrong token: %v", err)
	if s.Last().Hash != second {
		t.Fatalf("Last = %s after an auth failure, want %s", s.Last().Hash, second)
	}
	for _, secret := range []string{good, rotated, wrong} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Fatalf("a token leaked:\nerr: %v\nlog: %s", err, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "git fetch failed") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}

	// From the environment.
	t.Setenv("TASKWARD_TEST_GIT_TOKEN", rotated)
	s2, err := New(Options{URL: url, Ref: "main", CAFile: ca, Auth: Auth{TokenEnv: "TASKWARD_TEST_GIT_TOKEN"}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s2.Fetch(ctx); err != nil || c.Hash != third {
		t.Fatalf("fetch with a token from the environment: %v %v", c, err)
	}
	// Resolve goes through the same auth (by SHA, where the server allows it).
	r.git(r.bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
	if c, err := s2.Resolve(ctx, first); err != nil || c.Hash != first {
		t.Fatalf("resolve over https: %v %v", c, err)
	}

	// No token at all.
	s3, err := New(Options{URL: url, Ref: "main", CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3.Fetch(ctx); !errors.Is(err, ErrAuth) {
		t.Fatalf("fetch without a token: %v, want ErrAuth", err)
	}
	// A missing token file, an unset variable: a setup mistake, refused at start with the
	// file or variable named, not retried forever.
	for _, a := range []Auth{{TokenFile: tokenFile + ".missing"}, {TokenEnv: "TASKWARD_TEST_UNSET"}} {
		_, err := New(Options{URL: url, Ref: "main", CAFile: ca, Auth: a})
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), a.TokenFile+a.TokenEnv) || !strings.Contains(err.Error(), "no such file or directory") && a.TokenFile != "" {
			t.Fatalf("New with %+v: %v, want ErrConfig naming it", a, err)
		}
		t.Log(err)
	}
	// A token file that disappears after start (a Secret being rotated): the fetch fails
	// with ErrAuth, and the next one reads the file again.
	moving := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(moving, []byte("whatever"), 0o600); err != nil {
		t.Fatal(err)
	}
	s4, err := New(Options{URL: url, Ref: "main", CAFile: ca, Auth: Auth{TokenFile: moving}})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(moving)
	if _, err := s4.Fetch(ctx); !errors.Is(err, ErrAuth) || err.(*Error).Kind != ErrAuth || strings.Count(err.Error(), "authentication failed") != 1 {
		t.Fatalf("fetch after the token file went away: %v, want ErrAuth", err)
	}
	// Without the CA the server is not trusted.
	s5, err := New(Options{URL: url, Ref: "main", Auth: Auth{TokenFile: tokenFile}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s5.Fetch(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("fetch from an untrusted server: %v", err)
	}
}

func TestHTTPErrors(t *testing.T) {
	ctx := context.Background()
	r := newRemote(t)
	sha := r.commit("first", nil)
	srv, _ := gitHTTPServer(t, filepath.Dir(r.bare), false, nil)

	s, err := New(Options{URL: srv.URL + "/repo.git", Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Fetch(ctx); err != nil || c.Hash != sha {
		t.Fatalf("anonymous http: %v %v", c, err)
	}

	for _, tc := range []struct {
		path string
		kind error
	}{
		{"/missing.git", ErrNotFound},
		{"/broken.git", ErrTransient},
	} {
		s, err := New(Options{URL: srv.URL + tc.path, Ref: "main"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Fetch(ctx); !errors.Is(err, tc.kind) {
			t.Fatalf("%s: %v, want %v", tc.path, err, tc.kind)
		} else {
			t.Logf("%s: %v", tc.path, err)
		}
	}

	// The server goes away: transient, and the last commit stays.
	srv.Close()
	_, err = s.Fetch(ctx)
	if !errors.Is(err, ErrTransient) || !Retryable(err) {
		t.Fatalf("server down: %v, want ErrTransient", err)
	}
	t.Logf("server down: %v", err)
	if s.Last() == nil || s.Last().Hash != sha {
		t.Fatal("Last lost after a network failure")
	}
}

func TestScrub(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:token@github.com/a/b.git":            "https://***@github.com/a/b.git",
		"fetch https://tok@host/x failed: https://h/y":     "fetch https://***@host/x failed: https://h/y",
		"ssh://git@host:22/r.git":                          "ssh://***@host:22/r.git",
		`Get "https://a:b@c/info/refs": dial tcp: refused`: `Get "https://***@c/info/refs": dial tcp: refused`,
		"no url here":                     "no url here",
		"the server said sekrit-123 back": "the server said *** back",
	} {
		if got := Scrub(in, "sekrit-123"); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
