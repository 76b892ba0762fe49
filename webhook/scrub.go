package webhook

import (
	"regexp"
	"sort"
	"strings"

	"github.com/taskward/taskward/internal/scrub"
)

// Redacted replaces a secret in a report.
const Redacted = "[REDACTED]"

// secretValueRE matches values that are credentials whatever the variable is called:
// AWS access key ids, GitHub and GitLab tokens, Slack tokens, Stripe live keys, PEM private
// keys.
var secretValueRE = regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b` +
	`|\bgh[pousr]_[A-Za-z0-9]{36,}\b` +
	`|\bgithub_pat_[A-Za-z0-9_]{22,}\b` +
	`|\bglpat-[A-Za-z0-9_-]{20,}\b` +
	`|\bxox[abprs]-[A-Za-z0-9-]{10,}\b` +
	`|\bsk_live_[A-Za-z0-9]{16,}\b` +
	`|-----BEGIN [A-Z ]*PRIVATE KEY-----`)

// credURLRE matches the userinfo of a URL that carries a password: scheme://user:pass@.
var credURLRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`)

// tokenURLRE matches the userinfo of a URL with a user but no password, which for Git
// remotes is usually a token (https://x-access-token@..., https://oauth2:TOKEN@ is above).
var tokenURLRE = regexp.MustCompile(`(https?://)[^/\s:@]{16,}@`)

// scrubber removes secrets from text: the exact values found in the reviewed task
// definitions, and anything shaped like a credential.
type scrubber struct {
	values []string // longest first, so that a value containing another goes first
}

func newScrubber(values []string) *scrubber {
	s := &scrubber{}
	seen := map[string]bool{}
	for _, v := range values {
		// Very short values would redact ordinary words in messages; they are never
		// echoed anyway (findings name the variable, not the value).
		if len(v) >= 4 && !seen[v] {
			seen[v] = true
			s.values = append(s.values, v)
		}
	}
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
	return s
}

// Scrub returns text with every known secret value and credential-shaped string replaced.
func (s *scrubber) Scrub(text string) string {
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, Redacted)
	}
	return ScrubText(text)
}

// ScrubText replaces credential-shaped strings (tokens of well-known formats, passwords in
// URLs) in text. Use it on anything from outside before it reaches a log, a status or a
// comment.
func ScrubText(text string) string {
	text = secretValueRE.ReplaceAllString(text, Redacted)
	text = credURLRE.ReplaceAllString(text, "${1}"+Redacted+"@")
	return scrub.URLQueries(tokenURLRE.ReplaceAllString(text, "${1}"+Redacted+"@"))
}
