// Command build-images builds taskward's two container images without a Docker engine,
// with go-containerregistry, as multi-architecture OCI image indexes in OCI layout
// directories:
//
//	go run ./hack/build-images -out dist/images [-version V] [-repo ghcr.io/taskward]
//	    [-platforms linux/amd64,linux/arm64] [-images controller,defender] [-bindir DIR]
//
// writes OUT/defender and OUT/controller (each an OCI layout whose index.json points at
// one image index with a manifest per platform), OUT/images.json (references, digests,
// sizes) and OUT/images.txt (NAME REF, one a line). They are the Dockerfile's two targets, rebuilt where no engine and no base image
// can be pulled (CI):
//
//   - defender: FROM scratch, /taskward-defender as ENTRYPOINT, CMD install /taskward (the
//     init container's rendered command fills the task volume; DESIGN.md decision 2).
//   - controller: what distroless/static:nonroot gives, made from this machine's files
//     (CA bundle, /etc/passwd and /etc/group with nonroot 65532, nsswitch.conf, /tmp,
//     /home/nonroot), then /taskward with ENTRYPOINT [/taskward controller], user 65532.
//     No git binary: go-git needs one only for local paths and file:// URLs, which a
//     deployed controller does not use (HTTPS and SSH are pure Go).
//
// Builds are reproducible: binaries with -trimpath and a version stamped through
// -ldflags, every file in a layer owned by root (or nonroot) with the time of
// SOURCE_DATE_EPOCH (default 0), entries sorted, gzip without names or times, config
// created at the same time. The defender is built first; the controller's default
// defender image (internal/version.DefaultDefenderImage) is stamped with the digest of the
// defender index just built, PREFIX/defender@sha256:..., so the two always travel together.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const versionPkg = "github.com/taskward/taskward/internal/version"

// Nonroot is distroless's unprivileged user (uid and gid 65532).
const nonroot = 65532

type options struct {
	out       string
	version   string
	revision  string
	repo      string
	platforms []string
	images    []string
	bindir    string
	caFile    string
	epoch     time.Time
	moduleDir string
}

// Result is what images.json records for each image.
type Result struct {
	Name      string                    `json:"name"`
	Layout    string                    `json:"layout"`
	Ref       string                    `json:"ref"` // repo@digest of the index
	Digest    string                    `json:"digest"`
	Platforms map[string]PlatformResult `json:"platforms"`
}

// PlatformResult is one architecture's image.
type PlatformResult struct {
	Digest string `json:"digest"`
	// Size is the compressed size of the layers plus config and manifest: what a pull moves.
	Size int64 `json:"size"`
}

func main() {
	var o options
	var platforms, images string
	flag.StringVar(&o.out, "out", "dist/images", "output `DIR` for the OCI layouts and images.json")
	flag.StringVar(&o.version, "version", "dev", "version stamped into the binaries and labels")
	flag.StringVar(&o.revision, "revision", "", "VCS revision for the labels (default: git rev-parse HEAD)")
	flag.StringVar(&o.repo, "repo", "ghcr.io/taskward", "`PREFIX` of the image repositories: PREFIX/defender and PREFIX/controller; the controller's default defender image is PREFIX/defender@DIGEST")
	flag.StringVar(&platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated platforms")
	flag.StringVar(&images, "images", "defender,controller", "which images to build")
	flag.StringVar(&o.bindir, "bindir", "", "also keep the binaries in `DIR`/OS_ARCH/ (make release ships them)")
	flag.StringVar(&o.caFile, "ca-file", "/etc/ssl/certs/ca-certificates.crt", "CA bundle copied into the controller image")
	flag.StringVar(&o.moduleDir, "C", ".", "module root `DIR`")
	flag.Parse()
	o.platforms = split(platforms)
	o.images = split(images)
	o.epoch = time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fatalf("SOURCE_DATE_EPOCH=%q: %v", s, err)
		}
		o.epoch = time.Unix(n, 0).UTC()
	}
	if o.revision == "" {
		if out, err := exec.Command("git", "-C", o.moduleDir, "rev-parse", "HEAD").Output(); err == nil {
			o.revision = strings.TrimSpace(string(out))
		}
	}
	results, err := build(&o)
	if err != nil {
		fatalf("%v", err)
	}
	for _, r := range results {
		fmt.Printf("%-10s %s\n", r.Name, r.Ref)
		for _, p := range sortedKeys(r.Platforms) {
			fmt.Printf("           %-12s %s  %.2f MiB\n", p, r.Platforms[p].Digest, float64(r.Platforms[p].Size)/(1<<20))
		}
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "build-images: "+format+"\n", args...)
	os.Exit(1)
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func want(list []string, name string) bool {
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

// build builds the requested images, the defender first, and writes images.json.
func build(o *options) ([]Result, error) {
	for _, n := range o.images {
		if n != "defender" && n != "controller" {
			return nil, fmt.Errorf("unknown image %q: defender or controller", n)
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}
	var results []Result
	defenderImage := ""
	if want(o.images, "defender") {
		r, err := buildImage(o, "defender", nil)
		if err != nil {
			return nil, fmt.Errorf("defender: %w", err)
		}
		results = append(results, r)
		defenderImage = r.Ref
	}
	if want(o.images, "controller") {
		var ldflags []string
		if defenderImage != "" {
			ldflags = append(ldflags, "-X", versionPkg+".DefaultDefenderImage="+defenderImage)
		}
		r, err := buildImage(o, "controller", ldflags)
		if err != nil {
			return nil, fmt.Errorf("controller: %w", err)
		}
		results = append(results, r)
	}
	b, _ := json.MarshalIndent(results, "", "  ")
	if err := os.WriteFile(filepath.Join(o.out, "images.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	var txt strings.Builder
	for _, r := range results {
		fmt.Fprintf(&txt, "%s %s\n", r.Name, r.Ref)
	}
	if err := os.WriteFile(filepath.Join(o.out, "images.txt"), []byte(txt.String()), 0o644); err != nil {
		return nil, err
	}
	return results, nil
}

// buildImage builds one image for every platform and writes its OCI layout.
func buildImage(o *options, name string, extraLdflags []string) (Result, error) {
	res := Result{Name: name, Layout: filepath.Join(o.out, name), Platforms: map[string]PlatformResult{}}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var adds []mutate.IndexAddendum
	for _, p := range o.platforms {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			return res, err
		}
		if plat.OS != "linux" {
			return res, fmt.Errorf("platform %s: only linux", p)
		}
		var img v1.Image
		switch name {
		case "defender":
			bin, err := goBuild(o, "taskward-defender", plat.Architecture, extraLdflags)
			if err != nil {
				return res, err
			}
			img, err = defenderImage(o, plat, bin)
			if err != nil {
				return res, err
			}
		case "controller":
			bin, err := goBuild(o, "taskward", plat.Architecture, extraLdflags)
			if err != nil {
				return res, err
			}
			img, err = controllerImage(o, plat, bin)
			if err != nil {
				return res, err
			}
		}
		d, err := img.Digest()
		if err != nil {
			return res, err
		}
		size, err := pullSize(img)
		if err != nil {
			return res, err
		}
		res.Platforms[p] = PlatformResult{Digest: d.String(), Size: size}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	idx = mutate.AppendManifests(idx, adds...)
	idx = mutate.Annotations(idx, labels(o, name)).(v1.ImageIndex)
	d, err := idx.Digest()
	if err != nil {
		return res, err
	}
	res.Digest = d.String()
	res.Ref = strings.TrimSuffix(o.repo, "/") + "/" + name + "@" + d.String()
	if err := os.RemoveAll(res.Layout); err != nil {
		return res, err
	}
	lp, err := layout.Write(res.Layout, empty.Index)
	if err != nil {
		return res, err
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": o.version})); err != nil {
		return res, err
	}
	return res, nil
}

// pullSize is the bytes a pull of img moves: manifest, config and compressed layers.
func pullSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}

// goBuild cross-compiles ./cmd/NAME for linux/ARCH, static, and returns the binary's path.
func goBuild(o *options, name, arch string, extraLdflags []string) (string, error) {
	dir := o.bindir
	if dir == "" {
		dir = filepath.Join(o.out, ".bin")
	}
	dir = filepath.Join(dir, "linux_"+arch)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	ldflags := strings.Join(append([]string{"-s", "-w", "-X", versionPkg + ".Version=" + o.version}, quoteAll(extraLdflags)...), " ")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./cmd/"+name)
	cmd.Dir = o.moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/%s (linux/%s): %v\n%s", name, arch, err, out)
	}
	return bin, nil
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return out
}

// labels are the OCI annotations of an image: on the index, and as config labels.
func labels(o *options, name string) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":   "taskward-" + name,
		"org.opencontainers.image.version": o.version,
		"org.opencontainers.image.source":  "https://github.com/taskward/taskward",
		"org.opencontainers.image.created": o.epoch.Format(time.RFC3339),
	}
	if o.revision != "" {
		l["org.opencontainers.image.revision"] = o.revision
	}
	return l
}

// file is one entry of a layer.
type file struct {
	path     string // absolute, in the image
	mode     int64  // permission bits; a directory when dir
	dir      bool
	uid, gid int
	data     []byte
}

// layer makes a reproducible gzip'd tar layer of files, parents first.
func layer(files []file, epoch time.Time) (v1.Layer, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, f := range files {
		h := &tar.Header{
			Name:    strings.TrimPrefix(f.path, "/"),
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.gid,
			ModTime: epoch,
			Format:  tar.FormatPAX,
		}
		if f.dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !f.dir {
			if _, err := tw.Write(f.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(zw, &tb); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// image makes an OCI image for plat from layers and cfg.
func image(o *options, plat *v1.Platform, cfg v1.Config, history []string, layers ...v1.Layer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	var adds []mutate.Addendum
	for i, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: l, MediaType: types.OCILayer,
			History: v1.History{Created: v1.Time{Time: o.epoch}, CreatedBy: history[i], Comment: "hack/build-images"}})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture = plat.Architecture
	cf.Variant = plat.Variant
	cf.OS = plat.OS
	cf.Created = v1.Time{Time: o.epoch}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}

// defenderImage is the Dockerfile's defender target: the binary alone, FROM scratch.
func defenderImage(o *options, plat *v1.Platform, bin string) (v1.Image, error) {
	b, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	l, err := layer([]file{{path: "/taskward-defender", mode: 0o755, data: b}}, o.epoch)
	if err != nil {
		return nil, err
	}
	return image(o, plat, v1.Config{
		Entrypoint: []string{"/taskward-defender"},
		Cmd:        []string{"install", "/taskward"},
		Labels:     labels(o, "defender"),
	}, []string{"COPY taskward-defender /taskward-defender"}, l)
}

// baseFiles reproduce gcr.io/distroless/static:nonroot's files that a Go program uses:
// users and groups (root, nobody, nonroot 65532), nsswitch.conf (so that Go's resolver
// reads /etc/hosts first), the CA bundle, a sticky /tmp and nonroot's home.
func baseFiles(o *options) ([]file, error) {
	ca, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, fmt.Errorf("CA bundle for the controller image: %w (apt-get install ca-certificates)", err)
	}
	dir := func(p string, mode int64, id int) file { return file{path: p, mode: mode, dir: true, uid: id, gid: id} }
	return []file{
		dir("/etc", 0o755, 0),
		dir("/etc/ssl", 0o755, 0),
		dir("/etc/ssl/certs", 0o755, 0),
		{path: "/etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{path: "/etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{path: "/etc/group", mode: 0o644, data: []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")},
		{path: "/etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		dir("/home", 0o755, 0),
		dir("/home/nonroot", 0o700, nonroot),
		dir("/root", 0o700, 0),
		dir("/tmp", 0o1777, 0),
	}, nil
}

// controllerImage is the Dockerfile's controller target.
func controllerImage(o *options, plat *v1.Platform, bin string) (v1.Image, error) {
	files, err := baseFiles(o)
	if err != nil {
		return nil, err
	}
	base, err := layer(files, o.epoch)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	app, err := layer([]file{{path: "/taskward", mode: 0o755, data: b}}, o.epoch)
	if err != nil {
		return nil, err
	}
	return image(o, plat, v1.Config{
		Entrypoint: []string{"/taskward", "controller"},
		User:       strconv.Itoa(nonroot) + ":" + strconv.Itoa(nonroot),
		WorkingDir: "/home/nonroot",
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels:       labels(o, "controller"),
	}, []string{"distroless/static:nonroot files (passwd, group, nsswitch.conf, CA bundle, /tmp, /home/nonroot)", "COPY taskward /taskward"}, base, app)
}
