package gitsource

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/taskward/taskward/internal/scrub"
)

// Error kinds: match them with errors.Is(err, gitsource.ErrAuth) and so on.
var (
	// ErrAuth: the remote refused the credentials, they could not be read, or the SSH host
	// key is unknown or changed. Retrying will not help until someone acts: stall.
	ErrAuth = errors.New("authentication failed")
	// ErrNotFound: the repository, the ref or the revision does not exist on the remote
	// (or the remote hides it from these credentials, as GitHub does with a 404).
	ErrNotFound = errors.New("not found")
	// ErrTransient: network errors, timeouts, server errors and anything unclassified:
	// retry with backoff.
	ErrTransient = errors.New("transient failure")
	// ErrConfig: the Options cannot work (bad URL, no known_hosts, a token over http://).
	ErrConfig = errors.New("invalid configuration")
)

// Error is a failed operation. Its text has credentials scrubbed; Unwrap exposes the
// underlying go-git or network error (for errors.Is), Is matches the Kind.
type Error struct {
	Op   string // "fetch", "resolve", "new"
	URL  string // scrubbed
	Ref  string // the ref or revision asked for, if any
	Kind error  // ErrAuth, ErrNotFound, ErrTransient or ErrConfig
	msg  string // scrubbed text of err
	err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("git ")
	b.WriteString(e.Op)
	if e.URL != "" {
		b.WriteString(" ")
		b.WriteString(e.URL)
	}
	if e.Ref != "" {
		b.WriteString(" ")
		b.WriteString(e.Ref)
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.msg != "" && e.msg != e.Kind.Error() {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.err }

// Is reports whether target is this error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Retryable reports whether err is worth retrying as is (ErrTransient).
func Retryable(err error) bool { return errors.Is(err, ErrTransient) }

// userinfo matches the user information of a URL: "scheme://user:pass@" or
// "scheme://token@". Only the scheme and "***@" are kept.
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@`)

// Scrub removes the user information from every URL in s and every occurrence of the
// given secrets (the token read for this fetch: a server may echo it back).
func Scrub(s string, secrets ...string) string {
	s = scrub.URLQueries(userinfo.ReplaceAllString(s, "${1}***@"))
	for _, sec := range secrets {
		if len(sec) >= 4 { // a one-letter "secret" would shred the message
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

// newError classifies err (kind == nil) or uses the given kind, and scrubs its text.
func (s *Source) newError(op, ref string, kind error, err error, secrets ...string) *Error {
	if kind == nil {
		kind = classify(err)
	}
	e := &Error{Op: op, URL: s.safeURL, Ref: ref, Kind: kind, err: err}
	if err != nil {
		// go-git leaves "repository not found: " when the server gave no reason.
		e.msg = strings.TrimSuffix(strings.TrimSpace(Scrub(err.Error(), secrets...)), ":")
	}
	return e
}

// kindError gives an error a kind without adding the kind to its text.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

func withKind(kind, err error) error { return &kindError{kind: kind, err: err} }

// classify maps go-git, SSH and network errors onto the kinds.
func classify(err error) error {
	var ge *Error
	var ke *kindError
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	var netErr net.Error
	switch {
	case errors.As(err, &ge):
		return ge.Kind
	case errors.As(err, &ke):
		return ke.kind
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ErrTransient
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		errors.As(err, &keyErr), errors.As(err, &revoked):
		return ErrAuth
	case errors.Is(err, transport.ErrRepositoryNotFound),
		errors.Is(err, transport.ErrEmptyRemoteRepository):
		return ErrNotFound
	case errors.As(err, &netErr):
		return ErrTransient
	}
	msg := err.Error()
	switch {
	// golang.org/x/crypto/ssh reports a refused key as text only.
	case strings.Contains(msg, "ssh: unable to authenticate"),
		strings.Contains(msg, "knownhosts: key is unknown"),
		strings.Contains(msg, "knownhosts: key mismatch"):
		return ErrAuth
	// git-upload-pack on a missing local path (file transport) says so on stderr.
	case strings.Contains(msg, "does not appear to be a git repository"),
		strings.Contains(msg, "repository not found"):
		return ErrNotFound
	}
	return ErrTransient
}
