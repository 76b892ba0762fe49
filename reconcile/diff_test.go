package reconcile

import (
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskward/taskward/internal/ojson"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestDiffGolden runs every testdata/diff/<case>: desired.json and live.json (absent: the
// family has no live revision) give expected.txt (the unified diff, empty for none) and
// expected.json (the field changes). Cases named same-* must have no diff; the others must
// have one.
func TestDiffGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/diff/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			desired := readJSON(t, filepath.Join(dir, "desired.json"))
			live := readJSON(t, filepath.Join(dir, "live.json"))
			d := Diff(desired, live)
			text := d.Unified("live", "desired", false)
			changes, err := json.MarshalIndent(d.Changes, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if d.Changes == nil {
				changes = []byte("[]")
			}
			changes = append(changes, '\n')
			golden(t, filepath.Join(dir, "expected.txt"), []byte(text))
			golden(t, filepath.Join(dir, "expected.json"), changes)

			same := strings.HasPrefix(filepath.Base(dir), "same-")
			if same != d.Empty() {
				t.Errorf("same-* case must have no diff and others one; got %d changes:\n%s", len(d.Changes), text)
			}
			if (text == "") != d.Empty() {
				t.Errorf("text and field diff disagree")
			}
			if live != nil && d.Empty() != (ContentHash(desired) == ContentHash(live)) && same {
				t.Errorf("no diff but content hashes differ")
			}
		})
	}
}

func readJSON(t *testing.T, path string) *ojson.Value {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	v, err := ojson.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestUnifiedColour(t *testing.T) {
	d := Diff(mustParse(t, `{"family":"a","cpu":"512"}`), mustParse(t, `{"family":"a","cpu":"256"}`))
	plain, col := d.Unified("l", "d", false), d.Unified("l", "d", true)
	if strings.Contains(plain, "\x1b[") {
		t.Errorf("plain output has escapes: %q", plain)
	}
	if !strings.Contains(col, ansiRed+`-  "cpu": "256"`+ansiReset) || !strings.Contains(col, ansiGreen+`+  "cpu": "512"`+ansiReset) {
		t.Errorf("colour output lacks coloured lines: %q", col)
	}
}

func TestLineDiffRoundTrip(t *testing.T) {
	cases := [][2]string{
		{"", "a"}, {"a", ""}, {"a b c", "a b c"}, {"a b c d e f g", "a c d x e f g y"},
		{"x y z", "a b c"}, {"a a a b", "b a a a"}, {"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", "1 2 3 X 5 6 7 8 9 10 11 12 13 Y 15"},
	}
	for _, c := range cases {
		a, b := strings.Fields(c[0]), strings.Fields(c[1])
		var gotA, gotB []string
		for _, op := range lineDiff(a, b) {
			if op.kind != '+' {
				gotA = append(gotA, op.text)
			}
			if op.kind != '-' {
				gotB = append(gotB, op.text)
			}
		}
		if strings.Join(gotA, " ") != c[0] || strings.Join(gotB, " ") != c[1] {
			t.Errorf("lineDiff(%q, %q) does not reproduce its inputs: %q %q", c[0], c[1], gotA, gotB)
		}
	}
}
