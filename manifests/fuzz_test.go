package manifests

import (
	"context"
	"testing"
)

func FuzzParseTaskDef(f *testing.F) {
	for _, b := range readCorpus(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"family":"a","containerDefinitions":[{"name":"x","image":"y","entryPoint":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		td, probs := ParseTaskDef("f.json", b)
		if td == nil {
			if probs.Err() == nil {
				t.Fatal("refused without an error")
			}
			return
		}
		// Whatever loads must render (with overrides), and round-trip.
		r := NewRenderer(corpusConfig(td.Doc), nil)
		rd, _ := r.Render(context.Background(), td)
		if rd == nil {
			return
		}
		back, err := Unrender(rd.Doc)
		if err != nil {
			t.Fatalf("unrender: %v", err)
		}
		if string(back.Marshal()) != string(td.Doc.Marshal()) {
			t.Fatalf("round trip changed the definition")
		}
	})
}

func FuzzParsePolicies(f *testing.F) {
	f.Add([]byte("name: a\nprocesses:\n  deny: [nc]\n---\nname: b\nmatch: {families: [web]}\n"))
	f.Add([]byte("name: x\ntrustedImages:\n  rules:\n    - registry: docker.io\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, probs := ParsePolicies("p.yaml", b)
		for _, p := range ps {
			if probs.Err() == nil && p.Validate() != nil {
				t.Fatal("returned an invalid policy without an error")
			}
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("region: us-east-1\nclusters: [a]\nimages:\n  a: {cmd: [x]}\nskip:\n  - containers: [x]\n    reason: y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, probs := ParseConfig("taskward.yaml", b)
		if cfg == nil && probs.Err() == nil {
			t.Fatal("no config and no error")
		}
	})
}
