package manifests

import (
	"context"
	"flag"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/taskward/taskward/internal/ojson"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testRegistry is go-containerregistry's in-process registry on loopback, with images
// pushed by the test and a count of manifest requests.
type testRegistry struct {
	host      string
	manifests atomic.Int64
}

func newTestRegistry(t testing.TB) *testRegistry {
	t.Helper()
	tr := &testRegistry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			tr.manifests.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tr.host = strings.TrimPrefix(srv.URL, "http://")
	return tr
}

// push stores an image whose config has the given ENTRYPOINT and CMD.
func (tr *testRegistry) push(t testing.TB, repoTag string, entrypoint, cmd []string) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	cfg.Entrypoint, cfg.Cmd = entrypoint, cmd
	img, err = mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, withConfig(cf, cfg))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(tr.host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return tr.host + "/" + repoTag
}

func withConfig(cf *v1.ConfigFile, c v1.Config) *v1.ConfigFile {
	cf = cf.DeepCopy()
	cf.Config = c
	return cf
}

// TestGolden renders testdata/render/<case>/input.json with the case's taskward.yaml and
// policies.yaml (both optional) and compares with expected.json, or expected.err for a
// refusal. REGISTRY in a case's files stands for the test registry's host:port. Run with
// -update to rewrite the expectations.
func TestGolden(t *testing.T) {
	reg := newTestRegistry(t)
	reg.push(t, "app:entrypoint-and-cmd", []string{"/usr/bin/app-entry"}, []string{"--serve", "--port=80"})
	reg.push(t, "app:cmd-only", nil, []string{"/usr/sbin/httpd", "-f"})
	reg.push(t, "app:nothing", nil, nil)

	cases, _ := filepath.Glob("testdata/render/*")
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					return nil
				}
				return []byte(strings.ReplaceAll(string(b), "REGISTRY", reg.host))
			}
			cfg := DefaultConfig()
			var probs Problems
			if b := read("taskward.yaml"); b != nil {
				cfg, probs = ParseConfig("taskward.yaml", b)
				if probs.Err() != nil {
					t.Fatal(probs)
				}
			}
			r := NewRenderer(cfg, nil, WithImageSource(NewRegistrySource()))
			if b := read("policies.yaml"); b != nil {
				ps, pp := ParsePolicies("policies.yaml", b)
				if pp.Err() != nil {
					t.Fatal(pp)
				}
				r = NewRenderer(cfg, ps, WithImageSource(NewRegistrySource()))
			}
			var got string
			td, lp := ParseTaskDef("input.json", read("input.json"))
			probs = append(probs, lp...)
			if td != nil {
				rd, rp := r.Render(context.Background(), td)
				probs = append(probs, rp...)
				if rd != nil {
					got = string(rd.Doc.MarshalIndent("  "))
					if back, err := Unrender(rd.Doc); err != nil || !ojson.Equal(back, td.Doc) {
						t.Errorf("unrender does not restore the input (err %v)", err)
					}
				}
			}
			want := "expected.json"
			if got == "" {
				want = "expected.err"
				got = probs.Error() + "\n"
			} else if w := probs.Warnings(); len(w) > 0 {
				var lines []string
				for _, p := range w {
					lines = append(lines, p.Error())
				}
				got += "// warnings:\n// " + strings.Join(lines, "\n// ") + "\n"
			}
			got = strings.ReplaceAll(got, reg.host, "REGISTRY")
			path := filepath.Join(dir, want)
			if *update {
				os.Remove(filepath.Join(dir, "expected.json"))
				os.Remove(filepath.Join(dir, "expected.err"))
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%s: %v (got:\n%s)", path, err, got)
			}
			if string(exp) != got {
				t.Fatalf("%s differs; got:\n%s", path, got)
			}
		})
	}
}
