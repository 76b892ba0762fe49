package policy

import "testing"

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(Default().Encode()))
	f.Add([]byte(`{"name":"x","processes":{"allow":["/usr/**"],"deny":["nc"]},"trustedImages":{"rules":[{"registry":"docker.io"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseJSON(b)
		if err != nil {
			return
		}
		// A policy that parses must encode and parse back to itself.
		enc := p.Encode()
		q, err := ParseJSON([]byte(enc))
		if err != nil {
			t.Fatalf("re-parse of %s: %v", enc, err)
		}
		if q.Encode() != enc {
			t.Fatalf("unstable encoding: %s vs %s", enc, q.Encode())
		}
		p.Decide(&Exec{Path: "/bin/sh", Argv: []string{"sh"}, StdinSocket: true})
	})
}

func FuzzParseImageRef(f *testing.F) {
	for _, s := range []string{"alpine", "a/b:c@sha256:d", "localhost:5000/x", "host.com/a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseImageRef(s)
		if err != nil {
			return
		}
		// The normalized form must parse to the same reference.
		r2, err := ParseImageRef(r.String())
		if err != nil || r2 != r {
			t.Fatalf("%q -> %s -> %+v, %v", s, r, r2, err)
		}
	})
}

func BenchmarkDecide(b *testing.B) {
	p := Default().Resolved()
	p.Processes.Deny = []string{"nc", "wget", "/tmp/**"}
	e := &Exec{Path: "/usr/bin/python3.12", Invoked: "/usr/bin/python3", Argv: []string{"python3", "-c", "x"}}
	for b.Loop() {
		p.Decide(e)
	}
}
