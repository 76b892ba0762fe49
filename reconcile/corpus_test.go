package reconcile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskward/taskward/internal/ojson"
)

// corpusDir holds real-world task definitions from public repositories (see its SOURCES.md).
const corpusDir = "/work/shared/corpus/ecs-task-definitions"

// TestCorpusNoPerpetualDiff is the no-perpetual-diff property on real data: each corpus
// definition is registered in ecslocal exactly as written (a describe wrapper and server
// fields removed, as ECS requires), described back through the SDK, and the reduced diff
// against the file must be empty. Files ecslocal rightly rejects are skipped with the reason.
func TestCorpusNoPerpetualDiff(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if len(files) == 0 {
		t.Skip("corpus not present at " + corpusDir)
	}
	e := newEnv(t)
	r := e.reconciler()
	registered := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := ojson.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			body, in, err := registerInput(file, nil)
			if err != nil {
				t.Skipf("does not fit the SDK's input shape: %v", err)
			}
			var raw rawCapture
			if _, err := e.client.RegisterTaskDefinition(t.Context(), in, sendBody(body), captureBody(&raw)); err != nil {
				t.Skipf("ecslocal rejects it: %v", err)
			}
			reg, err := revisionFromBody(raw.body)
			if err != nil {
				t.Fatal(err)
			}
			registered++
			live, err := r.describe(t.Context(), reg.ARN)
			if err != nil {
				t.Fatal(err)
			}
			d := Diff(file, live.Definition)
			if reason, ok := droppedByECS[filepath.Base(f)]; ok {
				// ECS drops members its model lacks; the diff must show exactly those.
				for _, c := range d.Changes {
					if c.Op != OpAdd || !strings.HasSuffix(c.Path, ".valueFrom") {
						t.Errorf("unexpected change %s %s", c.Op, c.Path)
					}
				}
				if d.Empty() {
					t.Errorf("expected the dropped members to show in the diff")
				}
				t.Skipf("%s (%d changes shown, as expected)", reason, len(d.Changes))
			}
			if !d.Empty() {
				t.Errorf("perpetual diff:\n%s", d.Unified(live.ARN, filepath.Base(f), false))
			}
			if ContentHash(file) != live.hash {
				t.Errorf("content hash of the file differs from the described revision's")
			}
		})
	}
	t.Logf("%d of %d corpus files registered and compared", registered, len(files))
	if registered < len(files)/2 {
		t.Errorf("only %d of %d corpus files could be registered", registered, len(files))
	}
}

// droppedByECS lists corpus files holding members the ECS model does not have: ECS (and
// ecslocal) drop them on registration, so the live revision really differs from the file.
// manifests rejects such files at load time with a hint; were one to reach apply anyway,
// the content-hash tag stops it from being registered again on every reconcile.
var droppedByECS = map[string]string{
	"11-cdk-export-valuefrom-in-environment.json": "environment entries with valueFrom (an authoring error: they belong under secrets)",
}
