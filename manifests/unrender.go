package manifests

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
)

// IsProtected reports whether doc carries taskward's init container, as render made it
// (a container merely named like it is a name clash, reported by Render).
func IsProtected(doc *ojson.Value) bool {
	found := false
	eachObj(doc.Get("containerDefinitions"), func(_ int, cd *ojson.Value) {
		if cd.Get("name").StringOr("") == InitContainerName && cd.Get("dockerLabels").Get(LabelOriginal) != nil {
			found = true
		}
	})
	return found
}

// Unrender returns the plain task definition a protected one was rendered from, exactly:
// field order, absent versus null versus empty all restored from the taskward.dev/original
// labels. doc is not modified. A doc without anything taskward adds is returned as is.
func Unrender(doc *ojson.Value) (*ojson.Value, error) {
	doc = doc.Clone()
	cds := doc.Get("containerDefinitions")
	if cds == nil || cds.Kind != ojson.Array {
		return nil, fmt.Errorf("containerDefinitions: missing")
	}
	var task *original
	kept := cds.Arr[:0]
	for i, cd := range cds.Arr {
		if cd.Get("name").StringOr("") == InitContainerName {
			o, err := readOriginal(cd)
			if err != nil {
				return nil, fmt.Errorf("containerDefinitions[%d] (%s): %w", i, InitContainerName, err)
			}
			task = o
			continue
		}
		kept = append(kept, cd)
	}
	cds.Arr = kept
	if task == nil {
		for _, cd := range kept {
			if cd.Get("dockerLabels").Get(LabelOriginal) != nil {
				return nil, fmt.Errorf("containerDefinitions: container %q carries %s but the task has no %s container: it was changed after rendering", cd.Get("name").StringOr(""), LabelOriginal, InitContainerName)
			}
		}
		// Nothing taskward adds is there: a task whose every container is skipped, which
		// render leaves unchanged, or one never protected. Unrendering it is the identity,
		// so protect's output always round-trips.
		return doc, nil
	}
	for i, cd := range cds.Arr {
		if cd.Get("dockerLabels").Get(LabelOriginal) == nil {
			continue // a skipped container: render left it alone
		}
		o, err := readOriginal(cd)
		if err != nil {
			return nil, fmt.Errorf("containerDefinitions[%d]: %w", i, err)
		}
		if err := restoreContainer(cd, o); err != nil {
			return nil, fmt.Errorf("containerDefinitions[%d]: %w", i, err)
		}
	}
	removeWhere(doc.Get("volumes"), func(v *ojson.Value) bool { return v.Get("name").StringOr("") == VolumeName })
	restoreShape(doc, task)
	return doc, nil
}

func readOriginal(cd *ojson.Value) (*original, error) {
	l := cd.Get("dockerLabels").Get(LabelOriginal)
	if l == nil || l.Kind != ojson.String {
		return nil, fmt.Errorf("dockerLabels.%s: missing: the definition was edited after rendering", LabelOriginal)
	}
	var o original
	dec := json.NewDecoder(strings.NewReader(l.Str))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("dockerLabels.%s: %v", LabelOriginal, err)
	}
	return &o, nil
}

func restoreContainer(cd *ojson.Value, o *original) error {
	for _, f := range []struct {
		key  string
		orig json.RawMessage
	}{{"entryPoint", o.EntryPoint}, {"command", o.Command}} {
		if f.orig == nil {
			cd.Delete(f.key)
			continue
		}
		v, err := ojson.Parse(f.orig)
		if err != nil {
			return fmt.Errorf("dockerLabels.%s: %s: %v", LabelOriginal, f.key, err)
		}
		cd.Set(f.key, v)
	}
	for _, path := range o.Added {
		list := lookup(cd, path)
		switch path {
		case "mountPoints":
			removeLastWhere(list, func(v *ojson.Value) bool { return v.Get("sourceVolume").StringOr("") == VolumeName })
		case "dependsOn":
			removeLastWhere(list, func(v *ojson.Value) bool { return v.Get("containerName").StringOr("") == InitContainerName })
		case "environment", "secrets":
			removeWhere(list, func(v *ojson.Value) bool { return contains(ReservedEnv, v.Get("name").StringOr("")) })
		case "linuxParameters.capabilities.add":
			removeLastWhere(list, func(v *ojson.Value) bool { return v.Kind == ojson.String && v.Str == capPtrace })
		default:
			return fmt.Errorf("dockerLabels.%s: unknown added field %q", LabelOriginal, path)
		}
	}
	labels := cd.Get("dockerLabels")
	labels.Delete(LabelOriginal)
	labels.Delete(LabelPolicy)
	restoreShape(cd, o)
	return nil
}

// restoreShape puts back the absent and null fields render created, deepest first.
func restoreShape(obj *ojson.Value, o *original) {
	type op struct {
		path string
		null bool
	}
	var ops []op
	for _, p := range o.Absent {
		ops = append(ops, op{p, false})
	}
	for _, p := range o.Null {
		ops = append(ops, op{p, true})
	}
	slices.SortStableFunc(ops, func(a, b op) int { return strings.Count(b.path, ".") - strings.Count(a.path, ".") })
	for _, x := range ops {
		parentPath, key := "", x.path
		if i := strings.LastIndexByte(x.path, '.'); i >= 0 {
			parentPath, key = x.path[:i], x.path[i+1:]
		}
		parent := obj
		if parentPath != "" {
			parent = lookup(obj, parentPath)
		}
		if parent == nil || parent.Kind != ojson.Object {
			continue
		}
		if x.null {
			parent.Set(key, ojson.NewNull())
		} else {
			parent.Delete(key)
		}
	}
	// The label map itself may now be empty where render created it: restoreShape removed
	// it above when it was absent before.
}

func lookup(obj *ojson.Value, path string) *ojson.Value {
	cur := obj
	for _, k := range strings.Split(path, ".") {
		cur = cur.Get(k)
	}
	return cur
}

func removeWhere(list *ojson.Value, match func(*ojson.Value) bool) {
	if list == nil || list.Kind != ojson.Array {
		return
	}
	list.Arr = slices.DeleteFunc(list.Arr, match)
}

// removeLastWhere removes the last matching item: render appended its own item after any
// the user had, so the last one is render's.
func removeLastWhere(list *ojson.Value, match func(*ojson.Value) bool) {
	if list == nil || list.Kind != ojson.Array {
		return
	}
	for i := len(list.Arr) - 1; i >= 0; i-- {
		if match(list.Arr[i]) {
			list.Arr = slices.Delete(list.Arr, i, i+1)
			return
		}
	}
}
