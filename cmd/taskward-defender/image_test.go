//go:build linux

package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// defenderImage is the defender as a task gets it: the image hack/build-images makes
// (what `make images` and `make release` publish), pushed to a registry and pulled back
// for this machine's platform, its file system extracted into rootfs. It returns the argv
// the init container runs: the image's ENTRYPOINT followed by the command taskward
// renders into the task definition, `install /taskward` (DESIGN.md decision 2).
func defenderImage(dir, rootfs string) ([]string, error) {
	out := filepath.Join(dir, "images")
	cmd := exec.Command("go", "run", "./hack/build-images", "-out", out, "-images", "defender",
		"-platforms", "linux/"+runtime.GOARCH, "-version", "lab", "-repo", "lab.invalid/taskward")
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("hack/build-images: %v\n%s", err, b)
	}
	lp, err := layout.FromPath(filepath.Join(out, "defender"))
	if err != nil {
		return nil, err
	}
	top, err := lp.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(im.Manifests) != 1 {
		return nil, fmt.Errorf("defender layout: want one index, got %d", len(im.Manifests))
	}
	idx, err := top.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		return nil, err
	}

	// A loopback registry, in process: push the index, pull the platform's image back.
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tag, err := name.ParseReference(host + "/taskward/defender:lab")
	if err != nil {
		return nil, err
	}
	if err := remote.WriteIndex(tag, idx); err != nil {
		return nil, fmt.Errorf("push %s: %w", tag, err)
	}
	want, _ := idx.Digest()
	byDigest, err := name.ParseReference(host + "/taskward/defender@" + want.String())
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(byDigest, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", byDigest, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if cf.Architecture != runtime.GOARCH {
		return nil, fmt.Errorf("pulled %s for %s", cf.Architecture, runtime.GOARCH)
	}
	if !reflect.DeepEqual(cf.Config.Entrypoint, []string{"/taskward-defender"}) {
		return nil, fmt.Errorf("defender image entrypoint %q, want [/taskward-defender]", cf.Config.Entrypoint)
	}
	if err := extract(img, rootfs); err != nil {
		return nil, fmt.Errorf("extracting the defender image: %w", err)
	}
	return append(append([]string(nil), cf.Config.Entrypoint...), "install", "/taskward"), nil
}

// extract writes img's flattened file system into dir: directories and regular files, the
// only kinds a defender image has (anything else is an error).
func extract(img v1.Image, dir string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("%s: outside the root file system", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, os.FileMode(h.Mode).Perm()); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm())
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unexpected entry type %q in the defender image", h.Name, h.Typeflag)
		}
	}
}
