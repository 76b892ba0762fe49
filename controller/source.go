package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	"github.com/taskward/taskward/manifests"
)

// Snapshot is one version of the repo: a commit, or a directory's content.
type Snapshot struct {
	// ID is the commit hash, or "dir:" and a content hash for a plain directory.
	ID      string
	Message string
	FS      fs.FS
}

// Source yields the repo's current snapshot.
type Source interface {
	// Fetch returns the current snapshot. On error the caller keeps its last good one.
	Fetch(ctx context.Context) (*Snapshot, error)
	// String names the source for status and logs, without credentials.
	String() string
}

// DirSource reads a plain directory (no Git), for trying taskward on a local repo and for
// the demo. Its snapshot ID is a hash of the files taskward reads, so a reconcile notices
// an edit the way it notices a new commit.
type DirSource struct{ Dir string }

// Fetch implements Source.
func (d *DirSource) Fetch(ctx context.Context) (*Snapshot, error) {
	st, err := os.Stat(d.Dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("repo directory %s: not readable", d.Dir)
	}
	fsys, err := manifests.DirFS(d.Dir)
	if err != nil {
		return nil, fmt.Errorf("repo directory %s: %w", d.Dir, err)
	}
	h := sha256.New()
	var files []string
	for _, root := range []string{manifests.ConfigFile, manifests.TasksDir, manifests.PoliciesDir} {
		_ = fs.WalkDir(fsys, root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() { // links and FIFOs are Load's to refuse, never opened here
				files = append(files, p)
			}
			return nil
		})
	}
	sort.Strings(files)
	for _, p := range files {
		f, err := fsys.Open(p)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00", p)
		_, err = io.Copy(h, io.LimitReader(f, manifests.MaxTaskFileBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return &Snapshot{ID: "dir:" + hex.EncodeToString(h.Sum(nil))[:12], Message: "directory " + d.Dir, FS: fsys}, nil
}

func (d *DirSource) String() string { return d.Dir }
