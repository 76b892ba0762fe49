package controller

import (
	"context"

	"github.com/taskward/taskward/controller/gitsource"
)

// GitSource adapts a gitsource.Source: the fetched commit's tree is read in place, with
// no checkout.
type GitSource struct {
	Src  *gitsource.Source
	Name string // the URL without credentials
}

var _ Source = (*GitSource)(nil)

// Fetch implements Source.
func (g *GitSource) Fetch(ctx context.Context) (*Snapshot, error) {
	c, err := g.Src.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	return &Snapshot{ID: c.Hash, Message: c.Message, FS: c.FS}, nil
}

func (g *GitSource) String() string { return g.Name }
