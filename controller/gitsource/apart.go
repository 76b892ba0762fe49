package gitsource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// ErrFetchTooLarge is returned by ResolveApart when the fetched objects pass its bound.
var ErrFetchTooLarge = errors.New("the commit's objects are larger than a review fetches")

// ResolveApart fetches commit sha (40 hex digits) into a store of its own, in memory,
// holding at most maxBytes of objects, and returns it. Nothing of it enters the source's
// store: a pull request's objects go when the returned Commit does (memory is returned
// after each review), a huge commit fails with ErrFetchTooLarge instead of growing the
// controller, and the fetch takes no lock the followed ref's Fetch needs (a slow pull
// request never delays the reconcile). The source's credentials are used: the URL is the
// operator's.
func (s *Source) ResolveApart(ctx context.Context, sha string, maxBytes int64) (*Commit, error) {
	sha = strings.ToLower(strings.TrimSpace(sha))
	if !fullSHA.MatchString(sha) {
		return nil, s.newError("resolve", sha, ErrConfig, errors.New("a review resolves a full 40-hex commit id"))
	}
	st := &budgetStorage{Storage: memory.NewStorage(), left: maxBytes}
	repo, err := git.Init(st, nil)
	if err != nil {
		return nil, s.newError("resolve", sha, nil, err)
	}
	rem, err := repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{s.opts.URL}})
	if err != nil {
		return nil, s.newError("resolve", sha, nil, err)
	}
	auth, secret, err := s.authMethod()
	if err != nil {
		return nil, s.newError("resolve", sha, nil, err)
	}
	fetch := func(specs ...config.RefSpec) error {
		err := rem.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: specs, Depth: 1, Tags: git.NoTags, Force: true, Auth: auth, CABundle: s.caBundle})
		if errors.Is(err, git.NoErrAlreadyUpToDate) {
			return nil
		}
		return err
	}
	err = fetch(config.RefSpec(sha + ":refs/taskward/sha/" + sha))
	if err != nil && !st.isOver() && classify(err) != ErrAuth && ctx.Err() == nil {
		// As Resolve: a server that does not serve a SHA directly has it at a tip.
		err = fetch("+refs/heads/*:refs/taskward/tips/heads/*",
			"+refs/pull/*/head:refs/taskward/tips/pull/*",
			"+refs/merge-requests/*/head:refs/taskward/tips/merge-requests/*")
	}
	if st.isOver() {
		return nil, s.newError("resolve", sha, ErrConfig, fmt.Errorf("%w (%d MiB)", ErrFetchTooLarge, maxBytes>>20), secret)
	}
	if err != nil {
		return nil, s.newError("resolve", sha, nil, err, secret)
	}
	c, err := commitFrom(&sync.Mutex{}, st, plumbing.NewHash(sha), "")
	if err != nil {
		return nil, s.newError("resolve", sha, ErrNotFound, fmt.Errorf("commit %s is not on the remote (or not at the tip of a branch or pull request)", sha), secret)
	}
	return c, nil
}

// budgetStorage is a memory store that drops objects past a byte budget. It drops rather
// than fails: go-git's local transport, told to stop mid-pack, waits for a git-upload-pack
// that waits for its reader (a hang no context ends), so the pack is read to its end
// (within the review's time bound) and nothing more is kept.
type budgetStorage struct {
	*memory.Storage
	mu   sync.Mutex
	left int64
	over bool
}

func (b *budgetStorage) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	b.mu.Lock()
	b.left -= o.Size()
	if b.left < 0 {
		b.over = true
	}
	over := b.over
	b.mu.Unlock()
	if over {
		return o.Hash(), nil
	}
	return b.Storage.SetEncodedObject(o)
}

func (b *budgetStorage) isOver() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.over
}
