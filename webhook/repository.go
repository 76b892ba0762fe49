package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Repository is the repository a controller follows, as webhook payloads name it. A hook
// set on an organisation (GitHub) or a group (GitLab) delivers events of every repository
// in it: only those of the followed one may trigger a reconcile or a review.
type Repository struct {
	// Host is the Git server's host name (github.com), lower case; "" matches any host.
	Host string
	// Path is owner/name (GitHub) or the path with namespace (GitLab, group/sub/name),
	// lower case, without ".git".
	Path string
}

// ParseRepository reads the followed repository from a Git URL (https://HOST/PATH(.git),
// ssh://git@HOST/PATH, git@HOST:PATH) or from a bare PATH (owner/name, group/sub/name).
func ParseRepository(s string) (Repository, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Repository{}, errors.New("empty repository")
	}
	var host, path string
	switch {
	case strings.Contains(s, "://"):
		u, err := url.Parse(s)
		if err != nil {
			return Repository{}, fmt.Errorf("repository %q: %w", s, err)
		}
		if u.Scheme == "file" {
			return Repository{}, fmt.Errorf("repository %q is a local path: name the hosted repository the webhooks come from (OWNER/NAME)", s)
		}
		host, path = u.Hostname(), u.Path
	case strings.Contains(s, "@") && strings.Contains(s, ":"): // scp-like git@host:path
		_, rest, _ := strings.Cut(s, "@")
		host, path, _ = strings.Cut(rest, ":")
	case strings.HasPrefix(s, "/") || strings.HasPrefix(s, "."):
		return Repository{}, fmt.Errorf("repository %q is a local path: name the hosted repository the webhooks come from (OWNER/NAME)", s)
	default:
		path = s
	}
	r := Repository{Host: strings.ToLower(host), Path: normalizeRepoPath(path)}
	if !strings.Contains(r.Path, "/") {
		return Repository{}, fmt.Errorf("repository %q: want OWNER/NAME (or a Git URL naming one)", s)
	}
	return r, nil
}

func normalizeRepoPath(p string) string {
	p = strings.Trim(strings.ToLower(p), "/")
	return strings.TrimSuffix(p, ".git")
}

// String is HOST/PATH, or PATH when any host matches.
func (r Repository) String() string {
	if r.Host == "" {
		return r.Path
	}
	return r.Host + "/" + r.Path
}

// matches reports whether a payload's repository is r: its path (full_name,
// path_with_namespace) equal, case-insensitively, and when r names a host, the host of
// every clone or web URL the payload gives equal too (the same owner/name on another
// server is another repository). The zero Repository matches everything.
func (r Repository) matches(path string, urls ...string) bool {
	if r.Path == "" {
		return true
	}
	if normalizeRepoPath(path) != r.Path {
		return false
	}
	if r.Host == "" {
		return true
	}
	for _, u := range urls {
		if u == "" {
			continue
		}
		pr, err := ParseRepository(u)
		if err != nil || (pr.Host != "" && pr.Host != r.Host) {
			return false
		}
	}
	return true
}

// WithRepository makes a handler act only on events of repository r; the others are
// answered 202 "ignored: ..." and logged. Without it every repository's events are acted on.
func WithRepository(r Repository) Option { return func(o *options) { o.repo = r } }

// ignoredRepo is the reply to an event of another repository.
func ignoredRepo(name string, r Repository) string {
	return fmt.Sprintf("ignored: repository %s is not the followed repository %s", clip(name), r)
}
