package gitsource

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

func readFile(t *testing.T, c *Commit, name string) string {
	t.Helper()
	b, err := fs.ReadFile(c.FS, name)
	if err != nil {
		t.Fatalf("commit %s: %v", c.Hash, err)
	}
	return string(b)
}

func TestFetchLocal(t *testing.T) {
	for _, form := range []string{"path", "file://"} {
		t.Run(form, func(t *testing.T) {
			ctx := context.Background()
			r := newRemote(t)
			first := r.commit("first\n\nbody", map[string]string{"tasks/web.json": "v1"})
			url := r.bare
			if form == "file://" {
				url = r.url()
			}
			s, err := New(Options{URL: url, Ref: "main"})
			if err != nil {
				t.Fatal(err)
			}
			if s.Last() != nil {
				t.Fatal("Last before any fetch is not nil")
			}
			c1, err := s.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c1.Hash != first || c1.Ref != "refs/heads/main" || c1.Message != "first\n\nbody\n" ||
				c1.Author != "Ann Author <ann@example.com>" || time.Since(c1.Time) > time.Hour {
				t.Fatalf("commit: %+v, want %s", c1, first)
			}
			if got := readFile(t, c1, "tasks/web.json"); got != "v1" {
				t.Fatalf("tasks/web.json = %q", got)
			}

			second := r.commit("second", map[string]string{"tasks/web.json": "v2"})
			c2, err := s.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c2.Hash != second || readFile(t, c2, "tasks/web.json") != "v2" {
				t.Fatalf("after push: %s, want %s", c2.Hash, second)
			}
			// The old commit's file system still reads the old content.
			if got := readFile(t, c1, "tasks/web.json"); got != "v1" {
				t.Fatalf("old commit now reads %q", got)
			}
			// Steady state.
			if c3, err := s.Fetch(ctx); err != nil || c3.Hash != second {
				t.Fatalf("steady fetch: %v %v", c3, err)
			}

			// Break the remote: the fetch fails with a typed error, the last good commit stays.
			moved := r.bare + ".moved"
			if err := os.Rename(r.bare, moved); err != nil {
				t.Fatal(err)
			}
			c, err := s.Fetch(ctx)
			if err == nil || c != nil {
				t.Fatalf("fetch of a moved remote: %v, %v", c, err)
			}
			var ge *Error
			if !errors.As(err, &ge) || !errors.Is(err, ErrNotFound) {
				t.Fatalf("fetch of a moved remote: %T %v, want *Error of kind ErrNotFound", err, err)
			}
			t.Logf("moved remote: %v", err)
			if last := s.Last(); last == nil || last.Hash != second {
				t.Fatalf("Last after a failed fetch = %v, want %s", last, second)
			}
			if err := os.Rename(moved, r.bare); err != nil {
				t.Fatal(err)
			}
			if c, err := s.Fetch(ctx); err != nil || c.Hash != second {
				t.Fatalf("fetch after the remote came back: %v %v", c, err)
			}
		})
	}
}

func TestFetchCorruptRemoteKeepsLast(t *testing.T) {
	ctx := context.Background()
	r := newRemote(t)
	r.commit("first", map[string]string{"a": "1"})
	s, err := New(Options{URL: r.url(), Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	c1, err := s.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A new commit whose objects are then deleted from the remote: the advertisement
	// moves, the pack cannot be made.
	r.commit("second", map[string]string{"a": "2"})
	if err := os.RemoveAll(filepath.Join(r.bare, "objects")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(ctx); err == nil {
		t.Fatal("fetch from a remote without objects succeeded")
	} else if !errors.As(err, new(*Error)) {
		t.Fatalf("untyped error %T %v", err, err)
	} else {
		t.Logf("corrupt remote: %v", err)
	}
	if s.Last().Hash != c1.Hash {
		t.Fatalf("Last = %s, want %s", s.Last().Hash, c1.Hash)
	}
}

func TestRefNotFound(t *testing.T) {
	r := newRemote(t)
	r.commit("first", nil)
	s, err := New(Options{URL: r.url(), Ref: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Fetch(context.Background())
	if !errors.Is(err, ErrNotFound) || Retryable(err) {
		t.Fatalf("fetch of a missing ref: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "nope") {
		t.Errorf("error does not name the ref: %v", err)
	}
	if s.Last() != nil {
		t.Fatal("Last after a failed first fetch is not nil")
	}
}

func TestEmptyRemoteIsNotAnEmptyRepo(t *testing.T) {
	r := newRemote(t) // no commit pushed
	s, err := New(Options{URL: r.url()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Fetch(context.Background())
	if err == nil || c != nil {
		t.Fatalf("fetch of an empty remote: %v %v, want an error", c, err)
	}
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("fetch of an empty remote: %v, want ErrNotFound", err)
	}
}

func TestDefaultHEAD(t *testing.T) {
	r := newRemote(t)
	sha := r.commit("first", nil)
	s, err := New(Options{URL: r.url()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Fetch(context.Background())
	if err != nil || c.Hash != sha || c.Ref != "refs/heads/main" {
		t.Fatalf("fetch of HEAD: %+v %v, want %s on refs/heads/main", c, err, sha)
	}
}

func TestOnDiskClone(t *testing.T) {
	ctx := context.Background()
	r := newRemote(t)
	sha := r.commit("first", map[string]string{"tasks/web.json": "v1"})
	dir := filepath.Join(t.TempDir(), "cache")
	s, err := New(Options{URL: r.url(), Ref: "main", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Fetch(ctx); err != nil || c.Hash != sha {
		t.Fatalf("%v %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		t.Fatalf("no bare repository in Dir: %v", err)
	}
	// A restart reuses the clone: the commit is found locally.
	s2, err := New(Options{URL: r.url(), Ref: "main", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s2.hasCommit(sha); !ok {
		t.Fatal("the reopened clone lacks the fetched commit")
	}
	c, err := s2.Fetch(ctx)
	if err != nil || c.Hash != sha || readFile(t, c, "tasks/web.json") != "v1" {
		t.Fatalf("%v %v", c, err)
	}
	sha2 := r.commit("second", map[string]string{"tasks/web.json": "v2"})
	if c, err := s2.Fetch(ctx); err != nil || c.Hash != sha2 || readFile(t, c, "tasks/web.json") != "v2" {
		t.Fatalf("%v %v", c, err)
	}
}

func (s *Source) hasCommit(sha string) (bool, error) {
	s.objMu.Lock()
	defer s.objMu.Unlock()
	_, err := s.repo.Storer.EncodedObject(plumbing.CommitObject, plumbing.NewHash(sha))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return false, nil
	}
	return err == nil, err
}

func TestTagsAndShallow(t *testing.T) {
	ctx := context.Background()
	r := newRemote(t)
	r.commit("zero", map[string]string{"f": "0"}) // so that every tag below has a parent
	c1 := r.commit("one", map[string]string{"f": "1"})
	r.git(r.work, "tag", "v1") // lightweight
	c2 := r.commit("two", map[string]string{"f": "2"})
	r.git(r.work, "tag", "-a", "-m", "release 2", "v2") // annotated
	r.git(r.work, "tag", "-a", "-m", "same name as a branch", "both")
	r.git(r.work, "branch", "both", c1)
	r.git(r.work, "push", "-q", "origin", "--tags", "refs/heads/both")
	c3 := r.commit("three", map[string]string{"f": "3"})

	for _, tc := range []struct{ ref, want, fullRef, content string }{
		{"v1", c1, "refs/tags/v1", "1"},
		{"refs/tags/v1", c1, "refs/tags/v1", "1"},
		{"v2", c2, "refs/tags/v2", "2"},
		{"refs/tags/v2", c2, "refs/tags/v2", "2"},
		{"both", c1, "refs/heads/both", "1"}, // a branch wins over a tag, as with git clone --branch
		{"refs/tags/both", c2, "refs/tags/both", "2"},
		{"refs/heads/main", c3, "refs/heads/main", "3"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			s, err := New(Options{URL: r.url(), Ref: tc.ref})
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c.Hash != tc.want || c.Ref != tc.fullRef || readFile(t, c, "f") != tc.content {
				t.Fatalf("got %s (%s), want %s (%s)", c.Hash, c.Ref, tc.want, tc.fullRef)
			}
			// Shallow: the commit is here, its parent is not.
			parent := r.git(r.work, "rev-parse", tc.want+"^")
			if ok, err := s.hasCommit(parent); ok || err != nil {
				t.Fatalf("parent %s fetched too (err %v): the fetch was not shallow", parent, err)
			}
		})
	}

	// A moved tag is followed (the refspec forces).
	s, err := New(Options{URL: r.url(), Ref: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Fetch(ctx); err != nil || c.Hash != c1 {
		t.Fatalf("%v %v", c, err)
	}
	r.git(r.work, "tag", "-f", "v1", c3)
	r.git(r.work, "push", "-q", "-f", "origin", "v1")
	if c, err := s.Fetch(ctx); err != nil || c.Hash != c3 {
		t.Fatalf("after moving v1: %v %v, want %s", c, err, c3)
	}
	// Shallow over several updates: each new tip arrives, history does not.
	s, err = New(Options{URL: r.url(), Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		want := r.commit("more", map[string]string{"f": strings.Repeat("x", i)})
		c, err := s.Fetch(ctx)
		if err != nil || c.Hash != want {
			t.Fatalf("update %d: %v %v, want %s", i, c, err, want)
		}
	}
	if ok, _ := s.hasCommit(c1); ok {
		t.Fatal("old history was fetched")
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	r := newRemote(t)
	base := r.commit("base", map[string]string{"f": "base"})
	r.git(r.work, "checkout", "-q", "-b", "pr-1")
	pr := r.commit("pr head", map[string]string{"f": "pr"})
	// A pull-request ref as GitHub keeps it, outside refs/heads.
	r.git(r.work, "push", "-q", "origin", "HEAD:refs/pull/1/head")
	r.git(r.work, "checkout", "-q", "main")
	mainHead := r.commit("main moves on", map[string]string{"f": "main"})

	s, err := New(Options{URL: r.url(), Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	// The server does not allow fetching by SHA (git's default): Resolve falls back to
	// fetching branch and pull-request tips.
	c, err := s.Resolve(ctx, pr)
	if err != nil || c.Hash != pr || readFile(t, c, "f") != "pr" {
		t.Fatalf("resolve PR head %s: %v %v", pr, c, err)
	}
	if s.Last().Hash != mainHead {
		t.Fatalf("Resolve moved Last to %s", s.Last().Hash)
	}
	// An old commit that is no tip cannot be found that way.
	if _, err := s.Resolve(ctx, base); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resolve non-tip %s without SHA fetch: %v, want ErrNotFound", base, err)
	} else {
		t.Logf("non-tip: %v", err)
	}
	// With uploadpack.allowReachableSHA1InWant (GitHub, GitLab), any reachable SHA works.
	r.git(r.bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
	c, err = s.Resolve(ctx, strings.ToUpper(base))
	if err != nil || c.Hash != base || readFile(t, c, "f") != "base" {
		t.Fatalf("resolve %s by SHA: %v %v", base, c, err)
	}
	// Names resolve like Options.Ref.
	if c, err := s.Resolve(ctx, "pr-1"); err != nil || c.Hash != pr || c.Ref != "refs/heads/pr-1" {
		t.Fatalf("resolve pr-1: %v %v", c, err)
	}
	if c, err := s.Resolve(ctx, "refs/pull/1/head"); err != nil || c.Hash != pr {
		t.Fatalf("resolve refs/pull/1/head: %v %v", c, err)
	}
	if _, err := s.Resolve(ctx, strings.Repeat("ab", 20)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resolve an unknown SHA: %v, want ErrNotFound", err)
	}
	if _, err := s.Resolve(ctx, "no-such-branch"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resolve an unknown name: %v, want ErrNotFound", err)
	}
	if _, err := s.Resolve(ctx, "bad..name"); !errors.Is(err, ErrConfig) {
		t.Fatalf("resolve an invalid name: %v, want ErrConfig", err)
	}
}

// Commit file systems are read while fetches write the store (run with -race).
func TestConcurrentReadsAndFetches(t *testing.T) {
	ctx := context.Background()
	r := newRemote(t)
	r.commit("0", map[string]string{"tasks/a.json": "0", "policies/p.yaml": "p"})
	for _, dir := range []string{"", filepath.Join(t.TempDir(), "cache")} {
		s, err := New(Options{URL: r.url(), Ref: "main", Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		first, err := s.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					c := s.Last()
					if err := fs.WalkDir(c.FS, ".", func(p string, d fs.DirEntry, err error) error {
						if err == nil && !d.IsDir() {
							_, err = fs.ReadFile(c.FS, p)
						}
						return err
					}); err != nil {
						t.Error(err)
						return
					}
					_ = readFile(t, first, "tasks/a.json")
				}
			})
		}
		for i := range 5 {
			r.commit("n", map[string]string{"tasks/a.json": strings.Repeat("n", i+1)})
			if _, err := s.Fetch(ctx); err != nil {
				t.Error(err)
			}
			if _, err := s.Resolve(ctx, "main"); err != nil {
				t.Error(err)
			}
		}
		close(stop)
		wg.Wait()
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	key := filepath.Join(dir, "id")
	for _, f := range []string{kh, key} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no URL", Options{}, "no URL"},
		{"credentials in URL", Options{URL: "https://user:s3cr3t-token@example.com/r.git"}, "carries credentials"},
		{"token in URL", Options{URL: "https://s3cr3t-token@example.com/r.git"}, "carries credentials"},
		{"token in the query string", Options{URL: "https://gitlab.example.com/g/r.git?private_token=s3cr3t-token"}, "query string"},
		{"bare token in the query string", Options{URL: "https://gitlab.example.com/g/r.git?s3cr3t-token"}, "query string"},
		{"token in an ssh query", Options{URL: "ssh://git@example.com/r.git?access_token=s3cr3t-token", Auth: Auth{SSHKeyFile: key, KnownHostsFile: kh}}, "query string"},
		{"token over http", Options{URL: "http://example.com/r.git", Auth: Auth{TokenEnv: "X"}}, "plain http"},
		{"token file and env", Options{URL: "https://example.com/r.git", Auth: Auth{TokenEnv: "X", TokenFile: "y"}}, "not both"},
		{"ssh without known_hosts", Options{URL: "ssh://git@example.com/r.git", Auth: Auth{SSHKeyFile: key}}, "KnownHostsFile"},
		{"scp-like ssh without known_hosts", Options{URL: "git@example.com:r.git", Auth: Auth{SSHKeyFile: key}}, "always checks host keys"},
		{"ssh with a missing known_hosts", Options{URL: "ssh://git@example.com/r.git", Auth: Auth{SSHKeyFile: key, KnownHostsFile: kh + ".missing"}}, "known_hosts: stat"},
		{"ssh without key", Options{URL: "ssh://git@example.com/r.git", Auth: Auth{KnownHostsFile: kh}}, "SSHKeyFile"},
		{"ssh key on https", Options{URL: "https://example.com/r.git", Auth: Auth{SSHKeyFile: key, KnownHostsFile: kh}}, "ssh://"},
		{"local with a token", Options{URL: dir, Auth: Auth{TokenEnv: "X"}}, "no credentials"},
		{"bad ref", Options{URL: dir, Ref: "a..b"}, "ref"},
		{"unknown scheme", Options{URL: "ftp://example.com/r.git"}, "unsupported protocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want ErrConfig saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("the error shows the secret: %v", err)
			}
			t.Log(err)
		})
	}
}
