package gitsource

import (
	"io"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/taskward/taskward/internal/gitfs"
)

// lockedObjects serializes object reads with the fetches that write the store: neither
// go-git's memory store (plain maps) nor its filesystem store (lazily filled pack index
// maps) may be used concurrently. Objects are copied into memory under the lock, so that
// nothing read later (an object's Reader) touches the store unlocked.
type lockedObjects struct {
	mu *sync.Mutex
	s  storer.EncodedObjectStorer
}

var _ gitfs.Objects = lockedObjects{}

func (l lockedObjects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, err := l.s.EncodedObject(t, h)
	if err != nil {
		return nil, err
	}
	if _, ok := o.(*plumbing.MemoryObject); ok {
		return o, nil // memory store: immutable once stored
	}
	r, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m := &plumbing.MemoryObject{}
	m.SetType(o.Type())
	if _, err := io.Copy(m, r); err != nil {
		return nil, err
	}
	return m, nil
}

func (l lockedObjects) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.EncodedObjectSize(h)
}
