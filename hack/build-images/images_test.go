package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The images are checked as CI builds them: both architectures, read back from the OCI
// layout on disk, never from the builder's memory.

// Size budgets: what a pull moves (compressed layers, config, manifest). The defender is
// pulled by every protected task, so its budget is tight.
const (
	defenderBudget   = 4 << 20
	controllerBudget = 24 << 20
)

var platforms = []string{"linux/amd64", "linux/arm64"}

var built struct {
	dir     string
	builder string
	results []Result
	err     error
}

// runBuilder builds both images for both platforms into out with the builder as CI runs
// it: a separate process, not instrumented by -race (gzip of the controller under the race
// detector takes minutes).
func runBuilder(t *testing.T, out string) ([]Result, error) {
	t.Helper()
	if built.builder == "" {
		built.builder = filepath.Join(built.dir, "build-images")
		if b, err := exec.Command("go", "build", "-o", built.builder, ".").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build: %v\n%s", err, b)
		}
	}
	cmd := exec.Command(built.builder, "-C", "../..", "-out", out, "-version", "v0.0.0-test",
		"-revision", "0123456789abcdef0123456789abcdef01234567", "-repo", "registry.test/taskward",
		"-platforms", strings.Join(platforms, ","), "-images", "defender,controller")
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build-images: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(filepath.Join(out, "images.json"))
	if err != nil {
		return nil, err
	}
	var rs []Result
	return rs, json.Unmarshal(raw, &rs)
}

// buildOnce builds both images for both platforms once per test binary.
func buildOnce(t *testing.T) (string, []Result) {
	t.Helper()
	if testing.Short() {
		t.Skip("image build: skipped with -short")
	}
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err != nil {
		t.Skip("no CA bundle on this machine (apt-get install ca-certificates)")
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "build-images-")
		if err != nil {
			t.Fatal(err)
		}
		built.dir = dir
		built.results, built.err = runBuilder(t, filepath.Join(dir, "out"))
	}
	if built.err != nil {
		t.Fatal(built.err)
	}
	return filepath.Join(built.dir, "out"), built.results
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// index reads the one image index of an OCI layout directory.
func index(t *testing.T, dir string) v1.ImageIndex {
	t.Helper()
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].MediaType != types.OCIImageIndex {
		t.Fatalf("%s/index.json: want one image index, got %+v", dir, im.Manifests)
	}
	idx, err := top.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// entry is one file of an image's flattened file system.
type entry struct {
	Path     string
	Type     byte
	Mode     int64
	UID, GID int
}

func (e entry) String() string {
	return fmt.Sprintf("%c %s %04o %d:%d", e.Type, e.Path, e.Mode, e.UID, e.GID)
}

// files lists img's file system and returns the content of the files named in read.
func files(t *testing.T, img v1.Image, read ...string) ([]string, map[string][]byte) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var list []string
	data := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := "/" + strings.TrimSuffix(h.Name, "/")
		list = append(list, entry{p, h.Typeflag, h.Mode, h.Uid, h.Gid}.String())
		for _, r := range read {
			if r == p {
				b, _ := io.ReadAll(tr)
				data[p] = b
			}
		}
	}
	sort.Strings(list)
	return list, data
}

// checkStatic checks that b is a static ELF executable for arch.
func checkStatic(t *testing.T, name string, b []byte, arch string) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != machine {
		t.Errorf("%s: ELF machine %v, want %v", name, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: not static (has %v)", name, p.Type)
		}
	}
}

func TestImages(t *testing.T) {
	dir, results := buildOnce(t)
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	defenderRef := byName["defender"].Ref
	if !strings.HasPrefix(defenderRef, "registry.test/taskward/defender@sha256:") {
		t.Fatalf("defender ref %q", defenderRef)
	}

	cases := []struct {
		name       string
		entrypoint []string
		cmd        []string
		user       string
		files      []string
		binary     string
		budget     int64
	}{
		{
			name: "defender", entrypoint: []string{"/taskward-defender"}, cmd: []string{"install", "/taskward"}, user: "",
			files:  []string{"0 /taskward-defender 0755 0:0"},
			binary: "/taskward-defender", budget: defenderBudget,
		},
		{
			name: "controller", entrypoint: []string{"/taskward", "controller"}, user: "65532:65532",
			files: []string{
				"0 /etc/group 0644 0:0", "0 /etc/nsswitch.conf 0644 0:0", "0 /etc/passwd 0644 0:0",
				"0 /etc/ssl/certs/ca-certificates.crt 0644 0:0", "0 /taskward 0755 0:0",
				"5 /etc 0755 0:0", "5 /etc/ssl 0755 0:0", "5 /etc/ssl/certs 0755 0:0",
				"5 /home 0755 0:0", "5 /home/nonroot 0700 65532:65532", "5 /root 0700 0:0", "5 /tmp 1777 0:0",
			},
			binary: "/taskward", budget: controllerBudget,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idx := index(t, filepath.Join(dir, tc.name))
			d, _ := idx.Digest()
			if d.String() != byName[tc.name].Digest {
				t.Errorf("layout index %s, images.json says %s", d, byName[tc.name].Digest)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if im.Annotations["org.opencontainers.image.version"] != "v0.0.0-test" || im.Annotations["org.opencontainers.image.revision"] == "" {
				t.Errorf("index annotations %v", im.Annotations)
			}
			var got []string
			for _, desc := range im.Manifests {
				p := desc.Platform.OS + "/" + desc.Platform.Architecture
				got = append(got, p)
				t.Run(desc.Platform.Architecture, func(t *testing.T) {
					img, err := idx.Image(desc.Digest)
					if err != nil {
						t.Fatal(err)
					}
					verifyBlobs(t, img)
					cf, err := img.ConfigFile()
					if err != nil {
						t.Fatal(err)
					}
					if cf.OS != "linux" || cf.Architecture != desc.Platform.Architecture {
						t.Errorf("config platform %s/%s, index says %s", cf.OS, cf.Architecture, p)
					}
					if !reflect.DeepEqual(cf.Config.Entrypoint, tc.entrypoint) || !reflect.DeepEqual(cf.Config.Cmd, tc.cmd) {
						t.Errorf("entrypoint %q cmd %q; want %q %q", cf.Config.Entrypoint, cf.Config.Cmd, tc.entrypoint, tc.cmd)
					}
					if cf.Config.User != tc.user {
						t.Errorf("user %q, want %q", cf.Config.User, tc.user)
					}
					if !cf.Created.Time.Equal(time.Unix(0, 0)) {
						t.Errorf("created %v: want SOURCE_DATE_EPOCH (0)", cf.Created)
					}
					if cf.Config.Labels["org.opencontainers.image.title"] != "taskward-"+tc.name {
						t.Errorf("labels %v", cf.Config.Labels)
					}
					list, data := files(t, img, tc.binary, "/etc/passwd")
					if !reflect.DeepEqual(list, tc.files) {
						t.Errorf("files:\n  %s\nwant:\n  %s", strings.Join(list, "\n  "), strings.Join(tc.files, "\n  "))
					}
					checkStatic(t, tc.binary, data[tc.binary], desc.Platform.Architecture)
					if tc.name == "controller" && !strings.Contains(string(data["/etc/passwd"]), "nonroot:x:65532:65532:") {
						t.Errorf("/etc/passwd has no nonroot 65532:\n%s", data["/etc/passwd"])
					}
					size, err := pullSize(img)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("%s %s: %.2f MiB to pull", tc.name, p, float64(size)/(1<<20))
					if size > tc.budget {
						t.Errorf("%s %s: %d bytes to pull, budget %d", tc.name, p, size, tc.budget)
					}
					if desc.Platform.Architecture == runtime.GOARCH {
						checkVersion(t, tc.name, data[tc.binary], defenderRef)
					}
				})
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, platforms) {
				t.Errorf("platforms %v, want %v", got, platforms)
			}
		})
	}
}

// verifyBlobs re-hashes the config and every compressed layer read from the layout and
// compares them with the manifest (what a registry checks on push).
func verifyBlobs(t *testing.T, img v1.Image) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if h, n, _ := v1.SHA256(bytes.NewReader(raw)); h != m.Config.Digest || n != m.Config.Size {
		t.Errorf("config: %s (%d bytes), manifest says %s (%d)", h, n, m.Config.Digest, m.Config.Size)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %s / %s: want OCI", m.MediaType, m.Config.MediaType)
	}
	for _, desc := range m.Layers {
		l, err := img.LayerByDigest(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		h, n, err := v1.SHA256(rc)
		rc.Close()
		if err != nil || h != desc.Digest || n != desc.Size {
			t.Errorf("layer %s: read %s (%d bytes, %v), manifest says %d bytes", desc.Digest, h, n, err, desc.Size)
		}
		if desc.MediaType != types.OCILayer {
			t.Errorf("layer %s: media type %s", desc.Digest, desc.MediaType)
		}
	}
}

// checkVersion runs the image's binary (this machine's architecture) and checks the
// stamped version, and for the controller the default defender image: the defender index
// built in the same run, by digest.
func checkVersion(t *testing.T, name string, bin []byte, defenderRef string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", name, err, out)
	}
	if !strings.Contains(string(out), "v0.0.0-test") {
		t.Errorf("%s version: %q does not name v0.0.0-test", name, out)
	}
	if name == "controller" && !strings.Contains(string(out), "default defender image: "+defenderRef+"\n") {
		t.Errorf("taskward version: %q; want the default defender image %s", out, defenderRef)
	}
}

// TestReproducible builds again into another directory: every digest must be the same.
func TestReproducible(t *testing.T) {
	_, first := buildOnce(t)
	again, err := runBuilder(t, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripLayout(first), stripLayout(again)) {
		t.Errorf("second build differs:\n%+v\n%+v", first, again)
	}
}

func stripLayout(rs []Result) []Result {
	out := append([]Result(nil), rs...)
	for i := range out {
		out[i].Layout = ""
	}
	return out
}
