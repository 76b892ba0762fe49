package reconcile

import (
	"testing"

	"github.com/taskward/taskward/internal/ojson"
)

// FuzzReduceDiff feeds arbitrary JSON (task definitions come from Git and from ECS) through
// the normalizer and differ: no panic, Reduce idempotent, a definition has no diff with
// itself, and equal content hashes for x and Reduce(x).
func FuzzReduceDiff(f *testing.F) {
	for _, s := range []string{
		`{"family":"a","containerDefinitions":[{"name":"b","essential":true,"cpu":0}]}`,
		`{"taskDefinition":{"family":"a","revision":1},"tags":[{"key":"k"}]}`,
		`{"networkMode":"awsvpc","containerDefinitions":[{"portMappings":[{"containerPort":1,"hostPort":1.0}]}]}`,
		`{"cpu":".25 vcpu","memory":1,"containerDefinitions":[{"healthCheck":{"interval":3e1}}]}`,
		`{"containerDefinitions":[null,1,{"environment":[{"name":1},{"name":"a"},null]}]}`,
		`[]`, `null`, `{"tags":[{"key":"taskward.dev/x"},{"key":"a"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ojson.Parse(b)
		if err != nil {
			return
		}
		r := Reduce(v)
		if r2 := Reduce(r); !ojson.Equal(r, r2) {
			t.Fatalf("Reduce not idempotent:\n%s\n%s", r.Marshal(), r2.Marshal())
		}
		if d := Diff(v, v.Clone()); !d.Empty() {
			t.Fatalf("diff with itself: %+v", d.Changes)
		}
		if ContentHash(v) != ContentHash(r) {
			t.Fatalf("hash changes under reduction")
		}
		_ = Diff(v, ojson.NewObject()).Unified("a", "b", true)
	})
}

func FuzzParseTaskDefinitionARN(f *testing.F) {
	for _, s := range []string{"arn:aws:ecs:us-east-1:1:task-definition/web:3", "arn:aws:ecs:r:a:task-definition/a:b:1", "arn:x:task-definition/:1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fam, rev, err := ParseTaskDefinitionARN(s)
		if err == nil && (fam == "" || rev <= 0) {
			t.Fatalf("ParseTaskDefinitionARN(%q) = %q, %d, nil", s, fam, rev)
		}
	})
}
