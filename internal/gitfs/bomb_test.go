package gitfs_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/taskward/taskward/manifests"
)

// TestTreeBombBounded: 9,000 task files that are one 1 MiB blob (a few KiB of Git objects,
// 9 GiB to read) stop at manifests.MaxRepoBytes with that reason; allocation stays a small
// multiple of the bound (it once reached 1.1 GiB).
func TestTreeBombBounded(t *testing.T) {
	h := newHostile(t)
	big := h.blob(`{"family":"x","containerDefinitions":[]}` + strings.Repeat(" ", (1<<20)-64))
	var es []object.TreeEntry
	for i := range 9000 {
		es = append(es, fileE(fmt.Sprintf("t%05d.json", i), big))
	}
	fsys, err := h.fs(h.tree(dirE("tasks", h.tree(es...))))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, probs := manifests.Load(fsys)
	runtime.ReadMemStats(&after)
	if !strings.Contains(probs.String(), "more than 64 MiB") {
		t.Fatalf("no read bound reported: %d problems", len(probs))
	}
	alloc := (after.TotalAlloc - before.TotalAlloc) >> 20
	t.Logf("Load of a 9 GiB tree bomb: %d MiB allocated, %d problems", alloc, len(probs))
	if alloc > 1024 { // cumulative: each 1 MiB file parsed is garbage before the next
		t.Errorf("Load allocated %d MiB", alloc)
	}
}
