// Package scrub removes secrets from text before it reaches a log, a status page, a
// pull-request comment or an alert: credentials in URLs, bearer tokens, AWS access keys,
// and values of parameters whose names say they are secret.
package scrub

import "regexp"

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
	// name=value pairs whose name marks a secret (query strings, env dumps, config lines)
	{regexp.MustCompile(`(?i)\b([a-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)[a-z0-9_-]*)("?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"']+)`), "$1$2***"},
	// GitHub and GitLab tokens by their documented prefixes
	{regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,})\b`), "***"},
	// Slack incoming webhook paths carry their secret in the URL
	{regexp.MustCompile(`(hooks\.slack\.com/services/)[A-Za-z0-9/]+`), "${1}***"},
}

// String returns s with every secret it recognises replaced by ***.
func String(s string) string {
	for _, r := range rules {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// Error returns err's message scrubbed, or "" for nil.
func Error(err error) string {
	if err == nil {
		return ""
	}
	return String(err.Error())
}
