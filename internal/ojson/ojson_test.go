package ojson

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func corpus(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob("../../../shared/corpus/ecs-task-definitions/*.json")
	if len(files) == 0 {
		t.Skip("corpus not found beside the checkout (../shared/corpus)")
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestCorpusRoundTrip(t *testing.T) {
	for name, src := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			v, err := Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			// Same data as encoding/json sees it.
			var want, got any
			if err := json.Unmarshal(src, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(v.Marshal(), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatal("compact encoding changed the data")
			}
			// Key order kept: the encoded keys appear in the source order.
			again, err := Parse(v.MarshalIndent("  "))
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(v, again) {
				t.Fatal("indent round trip changed the tree")
			}
			if got, want := v.Keys(), topKeysInSourceOrder(t, src); !reflect.DeepEqual(got, want) {
				t.Fatalf("keys %v, source order %v", got, want)
			}
		})
	}
}

func topKeysInSourceOrder(t *testing.T, src []byte) []string {
	dec := json.NewDecoder(strings.NewReader(string(src)))
	var keys []string
	depth := 0
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		switch tok {
		case json.Delim('{'):
			depth++
			expectKey = depth == 1
			continue
		case json.Delim('['):
			depth++
			continue
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 1 {
			if expectKey {
				keys = append(keys, tok.(string))
				expectKey = false
				// skip its value
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					t.Fatal(err)
				}
				expectKey = true
			}
		}
	}
}

func TestNumbersKeepText(t *testing.T) {
	v, err := Parse([]byte(`{"a": 1.50, "b": 1e3, "c": -0}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(v.Marshal()); got != `{"a":1.50,"b":1e3,"c":-0}` {
		t.Fatalf("got %s", got)
	}
}

func TestNoHTMLEscape(t *testing.T) {
	v := NewString("<IMAGE1_NAME> && a")
	if got := string(v.Marshal()); got != `"<IMAGE1_NAME> && a"` {
		t.Fatalf("got %s", got)
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"{\n  \"a\": 1,\n  \"b\": ]\n}", "3:8:"},
		{"{\"a\": 1,}", "1:9:"},
		{"{\"a\": 1, \"a\": 2}", `1:10: duplicate key "a"`},
		{"{\"a\": 1", "unexpected end of JSON input"},
		{"{} []", "unexpected data after the top-level value"},
		{strings.Repeat("[", MaxDepth+2), "nesting deeper than"},
	} {
		_, err := Parse([]byte(tc.in))
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want a SyntaxError containing %q", tc.in, err, tc.want)
		}
	}
}

func TestEditKeepsOrder(t *testing.T) {
	v, _ := Parse([]byte(`{"z":1,"a":2,"m":3}`))
	v.Set("a", NewString("x"))
	v.Set("new", NewBool(true))
	v.Delete("z")
	if got := string(v.Marshal()); got != `{"a":"x","m":3,"new":true}` {
		t.Fatalf("got %s", got)
	}
	c := v.Clone()
	c.Set("m", NewNull())
	if Equal(c, v) {
		t.Fatal("clone shares storage")
	}
}

func FuzzParse(f *testing.F) {
	for _, b := range corpus(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"a":[1,2,{"b":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Parse(b)
		var std any
		stdErr := json.Unmarshal(b, &std)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("non-syntax error %T: %v", err, err)
			}
			return
		}
		if stdErr != nil {
			t.Fatalf("ojson accepted what encoding/json refuses: %v", stdErr)
		}
		again, err := Parse(v.Marshal())
		if err != nil || !Equal(v, again) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestOutOfRangeNumber: a number no float64 holds is refused where it is, as encoding/json
// (and the AWS SDK after it) would refuse it, instead of passing through as text. Found by
// FuzzParse (testdata/fuzz/FuzzParse/f1332562a435cf85).
func TestOutOfRangeNumber(t *testing.T) {
	for _, in := range []string{"{\n  \"cpu\": 1e400\n}", `[-2e308]`} {
		_, err := Parse([]byte(in))
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Msg, "out of range") {
			t.Fatalf("%s: %v", in, err)
		}
		if in[0] == '{' && (se.Line != 2 || se.Column != 10) {
			t.Fatalf("%s: at %d:%d, want 2:10", in, se.Line, se.Column)
		}
	}
	if _, err := Parse([]byte(`[1e-400, 1.7976931348623157e308]`)); err != nil {
		t.Fatalf("numbers a float64 holds (underflow rounds to 0): %v", err)
	}
}
