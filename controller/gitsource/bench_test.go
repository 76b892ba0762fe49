package gitsource

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// BenchmarkSteadyFetch measures a poll that finds nothing new: one ref listing, no pack.
//
//	go test -run '^$' -bench SteadyFetch -benchtime 200x ./controller/gitsource/
func BenchmarkSteadyFetch(b *testing.B) {
	r := newRemote(b)
	files := map[string]string{}
	for i := range 30 { // about the size of the example repo, a little more
		files[filepath.Join("tasks", string(rune('a'+i%26))+string(rune('a'+i/26))+".json")] = `{"family":"x"}`
	}
	r.commit("first", files)

	run := func(b *testing.B, opts Options) {
		s, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if _, err := s.Fetch(ctx); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := s.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("file", func(b *testing.B) { run(b, Options{URL: r.url(), Ref: "main"}) })
	b.Run("file-ondisk", func(b *testing.B) {
		run(b, Options{URL: r.url(), Ref: "main", Dir: filepath.Join(b.TempDir(), "c")})
	})
	b.Run("http-backend", func(b *testing.B) {
		srv, _ := gitHTTPServer(b, filepath.Dir(r.bare), false, nil)
		run(b, Options{URL: srv.URL + "/repo.git", Ref: "main"})
	})
	b.Run("https-backend-token", func(b *testing.B) {
		var tok atomic.Pointer[string]
		tok.Store(ptr("bench-token-123"))
		srv, ca := gitHTTPServer(b, filepath.Dir(r.bare), true, &tok)
		tf := filepath.Join(b.TempDir(), "token")
		if err := os.WriteFile(tf, []byte("bench-token-123"), 0o600); err != nil {
			b.Fatal(err)
		}
		run(b, Options{URL: srv.URL + "/repo.git", Ref: "main", CAFile: ca, Auth: Auth{TokenFile: tf}})
	})
}
