package reconcile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
)

// Op is what a [Change] does to go from live to desired (RFC 6902 vocabulary).
type Op string

const (
	OpAdd     Op = "add"     // only in desired
	OpRemove  Op = "remove"  // only in live
	OpReplace Op = "replace" // in both, different
)

// Change is one field-level difference between the reduced desired and live definitions.
// Path names list elements by their key where the list has one ("containerDefinitions[name=web].image"),
// by index otherwise ("...portMappings[0].containerPort").
type Change struct {
	Path    string       `json:"path"`
	Op      Op           `json:"op"`
	Desired *ojson.Value `json:"desired"` // null for remove
	Live    *ojson.Value `json:"live"`    // null for add
}

// FieldDiff is the result of [Diff]: the reduced definitions and the changes between them.
type FieldDiff struct {
	Desired *ojson.Value // reduced desired definition
	Live    *ojson.Value // reduced live definition, members ordered like Desired; nil when absent
	Changes []Change
}

// Diff reduces both task definitions with [Reduce] and compares them field by field.
// live nil means the family has no live revision: everything is an addition. Diff is pure.
func Diff(desired, live *ojson.Value) *FieldDiff {
	return diffReduced(Reduce(desired), Reduce(live))
}

// diffReduced compares two already reduced definitions (the reconciler caches reduced live
// revisions by ARN, so steady state does not reduce them again). It does not modify its
// inputs.
func diffReduced(d, l *ojson.Value) *FieldDiff {
	fd := &FieldDiff{Desired: d}
	if l != nil {
		fd.Live = align(l, d)
	}
	compare(&fd.Changes, "", d, fd.Live)
	return fd
}

// Empty reports whether there is no difference.
func (d *FieldDiff) Empty() bool { return d == nil || len(d.Changes) == 0 }

func compare(out *[]Change, path string, d, l *ojson.Value) {
	switch {
	case d == nil && l == nil:
		return
	case d == nil:
		*out = append(*out, Change{Path: path, Op: OpRemove, Live: l})
		return
	case l == nil:
		*out = append(*out, Change{Path: path, Op: OpAdd, Desired: d})
		return
	case d.Kind != l.Kind:
		*out = append(*out, Change{Path: path, Op: OpReplace, Desired: d, Live: l})
		return
	}
	switch d.Kind {
	case ojson.Object:
		for _, m := range d.Obj {
			compare(out, joinKey(path, m.Key), m.Value, l.Get(m.Key))
		}
		for _, m := range l.Obj {
			if !d.Has(m.Key) {
				compare(out, joinKey(path, m.Key), nil, m.Value)
			}
		}
	case ojson.Array:
		if key := commonListKey(d, l); key != "" {
			for _, e := range d.Arr {
				id := e.Get(key).Str
				compare(out, joinElem(path, key, id), e, findByKey(l, key, id))
			}
			for _, e := range l.Arr {
				id := e.Get(key).Str
				if findByKey(d, key, id) == nil {
					compare(out, joinElem(path, key, id), nil, e)
				}
			}
			return
		}
		for i := range max(len(d.Arr), len(l.Arr)) {
			var de, le *ojson.Value
			if i < len(d.Arr) {
				de = d.Arr[i]
			}
			if i < len(l.Arr) {
				le = l.Arr[i]
			}
			compare(out, path+"["+strconv.Itoa(i)+"]", de, le)
		}
	default:
		if !scalarEqual(d, l) {
			*out = append(*out, Change{Path: path, Op: OpReplace, Desired: d, Live: l})
		}
	}
}

func scalarEqual(a, b *ojson.Value) bool {
	switch a.Kind {
	case ojson.Null:
		return true
	case ojson.Bool:
		return a.Bool == b.Bool
	case ojson.Number:
		return sameNumber(a, b)
	}
	return a.Str == b.Str
}

// listKeys are the members that identify list elements: containers, volumes, environment,
// secrets, ulimits, ... by "name"; tags by "key". A list is matched by key only when every
// element on both sides has the key as a string and no value repeats; the order of such
// lists is not significant to ECS.
var listKeys = []string{"name", "key"}

func commonListKey(d, l *ojson.Value) string {
	for _, k := range listKeys {
		if keyedBy(d, k) && keyedBy(l, k) {
			return k
		}
	}
	return ""
}

func keyedBy(arr *ojson.Value, key string) bool {
	if len(arr.Arr) == 0 {
		return false
	}
	seen := make(map[string]bool, len(arr.Arr))
	for _, e := range arr.Arr {
		v := e.Get(key)
		if v == nil || v.Kind != ojson.String || seen[v.Str] {
			return false
		}
		seen[v.Str] = true
	}
	return true
}

func findByKey(arr *ojson.Value, key, id string) *ojson.Value {
	for _, e := range arr.Arr {
		if v := e.Get(key); v != nil && v.Kind == ojson.String && v.Str == id {
			return e
		}
	}
	return nil
}

func joinKey(path, key string) string {
	if !isIdent(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinElem(path, key, id string) string {
	if !isIdent(strings.NewReplacer("-", "", ".", "", "/", "", ":", "").Replace(id)) {
		id = strconv.Quote(id)
	}
	return fmt.Sprintf("%s[%s=%s]", path, key, id)
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// align returns a copy of l whose object members come in d's order (members only l has
// follow, in l's order), recursively, and whose keyed lists follow d's element order, so
// that the unified text diff shows what differs rather than how ECS orders its output.
func align(l, d *ojson.Value) *ojson.Value {
	if l == nil || d == nil || l.Kind != d.Kind {
		return l
	}
	switch l.Kind {
	case ojson.Object:
		out := &ojson.Value{Kind: ojson.Object, Obj: make([]ojson.Member, 0, len(l.Obj)), Offset: l.Offset}
		for _, m := range d.Obj {
			if lv := l.Get(m.Key); lv != nil || l.Has(m.Key) {
				out.Obj = append(out.Obj, ojson.Member{Key: m.Key, Value: align(lv, m.Value)})
			}
		}
		for _, m := range l.Obj {
			if !d.Has(m.Key) {
				out.Obj = append(out.Obj, m)
			}
		}
		return out
	case ojson.Array:
		out := &ojson.Value{Kind: ojson.Array, Arr: make([]*ojson.Value, 0, len(l.Arr)), Offset: l.Offset}
		if key := commonListKey(d, l); key != "" {
			used := make(map[*ojson.Value]bool, len(l.Arr))
			for _, de := range d.Arr {
				if le := findByKey(l, key, de.Get(key).Str); le != nil {
					used[le] = true
					out.Arr = append(out.Arr, align(le, de))
				}
			}
			for _, le := range l.Arr {
				if !used[le] {
					out.Arr = append(out.Arr, le)
				}
			}
			return out
		}
		for i, le := range l.Arr {
			if i < len(d.Arr) {
				le = align(le, d.Arr[i])
			}
			out.Arr = append(out.Arr, le)
		}
		return out
	}
	return l
}
