// Package textsafe makes text from outside (a repository, a pull request, a defender
// event) safe to show where it goes: on a terminal, control characters become visible
// escapes instead of moving the cursor, recolouring or hiding text. The Markdown and Slack
// encoders (webhook, controller) start from Controls and add their own rules.
package textsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Controls returns s with every control character except tab and newline written as a
// visible escape (\x1b, \r, \u202e): C0 and DEL, C1, and the bidirectional overrides and
// isolates that reorder what a reader sees ("Trojan Source"). Invalid UTF-8 bytes become
// \xNN as well.
func Controls(s string) string {
	if !needs(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 && r != '\t' && r != '\n', r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case isInvisible(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needs(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f || isInvisible(r) {
			return true
		}
		i += n
	}
	return false
}

// isInvisible: C1 controls and the Unicode bidirectional formatting characters.
func isInvisible(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// Writer returns a writer that passes everything written through Controls: for a
// command's stdout and stderr, which print file names, messages and values from a
// repository. Each Write is encoded on its own (fmt writes a whole line at once).
func Writer(w io.Writer) io.Writer { return &writer{w} }

type writer struct{ w io.Writer }

func (t *writer) Write(p []byte) (int, error) {
	s := string(p)
	if !needs(s) {
		return t.w.Write(p)
	}
	if _, err := io.WriteString(t.w, Controls(s)); err != nil {
		return 0, err
	}
	return len(p), nil
}
