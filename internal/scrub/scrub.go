// Package scrub removes secrets from text before it reaches a log, a status page, a
// pull-request comment or an alert: credentials in URLs, bearer tokens, AWS access keys,
// and values of parameters whose names say they are secret.
package scrub

import (
	"regexp"
	"strings"
)

var rules = []struct {
	re   *regexp.Regexp
	with string
}{
	// scheme://user:password@host and scheme://token@host
	{regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@:]+(:[^/\s@]*)?@`), "${1}***@"},
	// Authorization: Bearer xyz, token xyz, Basic xyz
	{regexp.MustCompile(`(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}`), "$1 ***"},
	// AWS access key IDs and anything after aws_secret_access_key
	{regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`), "***"},
	// GitHub and GitLab tokens by their documented prefixes
	{regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,})\b`), "***"},
	// Slack incoming webhook paths carry their secret in the URL
	{regexp.MustCompile(`(hooks\.slack\.com/services/)[A-Za-z0-9/]+`), "${1}***"},
}

// secretPair is a name=value or name: value pair whose name marks a secret (query
// strings, env dumps, config lines); its value is replaced by ***. A name that ends a
// file path before a colon ("open /secrets/git-token: no such file or directory") is followed by an
// error message, not by its value: it is kept.
var secretPair = regexp.MustCompile(`(?i)\b([a-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)[a-z0-9_-]*)("?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"']+)`)

func scrubPairs(s string) string {
	var out []byte
	last := 0
	for _, m := range secretPair.FindAllStringSubmatchIndex(s, -1) {
		if m[2] > 0 && strings.ContainsRune(`/\`, rune(s[m[2]-1])) && strings.Contains(s[m[4]:m[5]], ":") {
			continue
		}
		out = append(out, s[last:m[0]]...)
		out = secretPair.ExpandString(out, "$1$2***", s, m)
		last = m[1]
	}
	return string(append(out, s[last:]...))
}

// String returns s with every secret it recognises replaced by ***.
func String(s string) string {
	for _, r := range rules {
		s = r.re.ReplaceAllString(s, r.with)
	}
	s = scrubPairs(s)
	return URLQueries(s)
}

// urlQueryRE matches the query string of a URL in text.
var urlQueryRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#"'<>]*\?)([^\s#"'<>]+)`)

// URLQueries replaces the value of every query parameter of every URL in s with ***:
// tokens travel there as often as in userinfo (GitLab's ?private_token=, signed URLs'
// signatures), under names no list can foresee. Names are kept, for the reader.
func URLQueries(s string) string {
	return urlQueryRE.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.IndexByte(m, '?')
		pairs := strings.Split(m[i+1:], "&")
		for j, p := range pairs {
			if k, v, ok := strings.Cut(p, "="); ok && v != "" && v != "***" {
				pairs[j] = k + "=***"
			} else if !ok && len(p) >= 8 { // a bare token: ?glpat-...
				pairs[j] = "***"
			}
		}
		return m[:i+1] + strings.Join(pairs, "&")
	})
}

// Error returns err's message scrubbed, or "" for nil.
func Error(err error) string {
	if err == nil {
		return ""
	}
	return String(err.Error())
}
