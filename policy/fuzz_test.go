package policy

import (
	"strings"
	"testing"
)

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

// FuzzOperand feeds argument vectors, which the program controls, to the readers of
// interpreters', the loader's and package managers' command lines: they must not panic,
// and an operand's index must name an argument.
func FuzzOperand(f *testing.F) {
	f.Add("/bin/busybox", "busybox\x00sh\x00-eo\x00x\x00/tmp/a", false)
	f.Add("/usr/bin/python3", "python3\x00-Imdnf\x00install", false)
	f.Add("/usr/bin/perl", "perl\x00-l0e\x00x", true)
	f.Add("/lib64/ld-linux-x86-64.so.2", "ld\x00--library-path", true)
	f.Add("/usr/bin/dpkg", "dpkg\x00--compare-versions\x001\x00lt", false)
	f.Fuzz(func(t *testing.T, path, args string, truncated bool) {
		var argv []string
		if args != "" {
			argv = strings.Split(args, "\x00")
		}
		e := &Exec{Path: path, Argv: argv, Truncated: truncated}
		p := Default().Resolved()
		p.Decide(e)
		if op, ok := e.Operand(); ok && op.Index >= 0 {
			n := len(e.Command())
			if op.Role == RoleLoaded {
				n = len(e.Argv)
			}
			if op.Index >= n {
				t.Fatalf("operand %+v past argv %q", op, argv)
			}
		}
	})
}
