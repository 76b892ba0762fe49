package textsafe

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestControls(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttext\n":            "plain\ttext\n",
		"red \x1b[31mALERT\x1b[0m": `red \x1b[31mALERT\x1b[0m`,
		"over\rwrite":              `over\rwrite`,
		"title \x1b]0;pwned\x07":   `title \x1b]0;pwned\x07`,
		"c1 \u009b31m":             `c1 \u009b31m`,
		"bidi \u202eevil\u202c":    `bidi \u202eevil\u202c`,
		"bad \xff utf8":            `bad \xff utf8`,
		"unicode é ✅ kept":         "unicode é ✅ kept",
	} {
		if got := Controls(in); got != want {
			t.Errorf("Controls(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := Writer(&b)
	n, err := w.Write([]byte("tasks/\x1b[2Jweb.json: bad\n"))
	if err != nil || n != len("tasks/\x1b[2Jweb.json: bad\n") {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if strings.ContainsRune(b.String(), 0x1b) || !strings.Contains(b.String(), `\x1b[2J`) {
		t.Fatalf("wrote %q", b.String())
	}
}

func FuzzControls(f *testing.F) {
	f.Add("a\x1b[31mb\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Controls(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if needs(out) {
			t.Fatalf("Controls(%q) = %q still has a control character", s, out)
		}
	})
}
