package controller

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/taskward/taskward/controller/gitsource"
)

// GitSource adapts a gitsource.Source: the fetched commit's tree is read in place, with
// no checkout.
type GitSource struct {
	Src  *gitsource.Source
	Name string // the URL without credentials
	// Path is the GitOps repo's directory inside the Git repository ("" for its top),
	// as Argo CD's and Flux's path settings.
	Path string
}

var _ Source = (*GitSource)(nil)

// Fetch implements Source.
func (g *GitSource) Fetch(ctx context.Context) (*Snapshot, error) {
	c, err := g.Src.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	fsys, err := g.dir(c)
	if err != nil {
		return nil, err
	}
	return &Snapshot{ID: c.Hash, Message: c.Message, FS: fsys}, nil
}

// dir returns the GitOps directory (Path) of commit c: what the controller applies, and
// what a review of c reads.
func (g *GitSource) dir(c *gitsource.Commit) (fs.FS, error) {
	if g.Path == "" || g.Path == "." {
		return c.FS, nil
	}
	sub, err := fs.Sub(c.FS, g.Path)
	if err != nil {
		return nil, fmt.Errorf("--path %q: %w", g.Path, err)
	}
	if st, err := fs.Stat(sub, "."); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--path %q: no such directory in commit %s", g.Path, c.Hash)
	}
	return sub, nil
}

func (g *GitSource) String() string { return g.Name }
