package policy

import (
	"fmt"
	"strings"
)

// Glob matches s against pattern: `*` matches any run of characters except '/', `**`
// matches any run including '/', `?` matches one character except '/', and every other
// byte matches itself. There are no character classes or escapes, so a pattern is always
// valid and reads the same to everyone.
func Glob(pattern, s string) bool {
	// Iterative matcher with one backtrack point per star kind, linear in practice.
	for len(pattern) > 0 {
		switch {
		case strings.HasPrefix(pattern, "**"):
			rest := strings.TrimLeft(pattern, "*")
			for i := 0; i <= len(s); i++ {
				if Glob(rest, s[i:]) {
					return true
				}
			}
			return false
		case pattern[0] == '*':
			rest := pattern[1:]
			for i := 0; i <= len(s); i++ {
				if Glob(rest, s[i:]) {
					return true
				}
				if i < len(s) && s[i] == '/' {
					return false
				}
			}
			return false
		case pattern[0] == '?':
			if len(s) == 0 || s[0] == '/' {
				return false
			}
		default:
			if len(s) == 0 || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return len(s) == 0
}

// maxPatternStars bounds the stars in one pattern so that matching stays cheap on
// adversarial input (each star is a backtracking point).
const maxPatternStars = 8

func checkPattern(path, p string) error {
	if p == "" {
		return fmt.Errorf("%s: empty pattern: remove it or write a glob such as \"curl\" or \"/tmp/**\"", path)
	}
	if n := strings.Count(p, "*"); n > maxPatternStars {
		return fmt.Errorf("%s: pattern %q has %d stars, at most %d are allowed", path, p, n, maxPatternStars)
	}
	return nil
}

// matchProgram reports whether a program pattern matches: a pattern with a slash is
// matched against the full path, one without against the file name.
func matchProgram(pattern, fullPath string) bool {
	if strings.ContainsRune(pattern, '/') {
		return Glob(pattern, fullPath)
	}
	return Glob(pattern, baseName(fullPath))
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
