package reconcile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/taskward/taskward/internal/ojson"
)

// ContentHash is the identity of a task definition's content: "sha256:" and the hex
// SHA-256 of its canonical reduced form ([Reduce], then object members sorted by key,
// compact). Two definitions with no [Diff] between them have the same hash unless they only
// differ in the order of a keyed list that no rule sorts (Diff ignores that order; the hash
// does not). Apply records it in the taskward.dev/content-hash tag.
func ContentHash(td *ojson.Value) string { return hashReduced(Reduce(td)) }

func hashReduced(r *ojson.Value) string {
	sum := sha256.Sum256(canonical(r).Marshal())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// canonical returns a copy of v with every object's members sorted by key.
func canonical(v *ojson.Value) *ojson.Value {
	if v == nil {
		return ojson.NewNull()
	}
	switch v.Kind {
	case ojson.Object:
		c := &ojson.Value{Kind: ojson.Object, Obj: make([]ojson.Member, len(v.Obj)), Offset: -1}
		for i, m := range v.Obj {
			c.Obj[i] = ojson.Member{Key: m.Key, Value: canonical(m.Value)}
		}
		slices.SortFunc(c.Obj, func(a, b ojson.Member) int { return cmp.Compare(a.Key, b.Key) })
		return c
	case ojson.Array:
		c := &ojson.Value{Kind: ojson.Array, Arr: make([]*ojson.Value, len(v.Arr)), Offset: -1}
		for i, e := range v.Arr {
			c.Arr[i] = canonical(e)
		}
		return c
	}
	return v
}
