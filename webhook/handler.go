package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"
)

// Trigger is what a push to the watched branch calls. The controller implements it and
// debounces: many pushes in a burst make one reconcile.
type Trigger interface {
	RequestReconcile(reason string)
}

// Reviewer is what a pull-request event calls. ReviewPullRequest must not block the
// webhook delivery (GitHub gives up after 10 seconds): queue the work and return. A
// [ReviewQueue] does that.
type Reviewer interface {
	ReviewPullRequest(ctx context.Context, pr PullRequest)
}

// PullRequest is a GitHub pull request or a GitLab merge request to review.
type PullRequest struct {
	Provider string // "github" or "gitlab"
	// Repo is owner/name on GitHub, the path with namespace on GitLab.
	Repo string
	// ProjectID is GitLab's numeric project id (0 on GitHub).
	ProjectID int64
	// Number is the pull request number (GitHub) or the merge request IID (GitLab).
	Number  int
	Action  string // as the provider says it: opened, synchronize, reopened / open, update, reopen
	HeadSHA string
	HeadRef string // branch name
	BaseRef string
	BaseSHA string // GitHub only; GitLab's merge request event does not carry it
	// CloneURL is the head repository's HTTPS clone URL (a fork's for a PR from a fork).
	CloneURL   string
	Title      string
	DeliveryID string
}

// Key identifies the pull request across pushes: a newer push to the same key supersedes
// the older one.
func (pr PullRequest) Key() string { return fmt.Sprintf("%s:%s#%d", pr.Provider, pr.Repo, pr.Number) }

// Outcomes reported to the metrics callback, one per request.
const (
	OutcomeAccepted         = "accepted"          // dispatched to Trigger or Reviewer
	OutcomeIgnored          = "ignored"           // authentic, but nothing to do (202)
	OutcomeUnauthorized     = "unauthorized"      // bad or missing signature/token (401)
	OutcomeDuplicate        = "duplicate"         // delivery id seen before (409)
	OutcomeTooLarge         = "too_large"         // body over the limit (413)
	OutcomeBadRequest       = "bad_request"       // malformed payload or headers (400)
	OutcomeUnsupportedMedia = "unsupported_media" // wrong content type (415)
	OutcomeBadMethod        = "method_not_allowed"
)

// MetricsFunc counts one request: provider "github" or "gitlab"; event a known event name
// or "other" (never the raw header, so label values stay bounded); outcome one of the
// Outcome constants. With prometheus, adapt a CounterVec:
//
//	webhook.WithMetrics(func(p, e, o string) { vec.WithLabelValues(p, e, o).Inc() })
type MetricsFunc func(provider, event, outcome string)

// Defaults.
const (
	DefaultMaxBodyBytes = 1 << 20 // GitHub caps payloads at 25 MB; ours are small: 1 MiB
	DefaultDedupSize    = 4096
	DefaultDedupTTL     = 24 * time.Hour
)

type options struct {
	log     *slog.Logger
	metrics MetricsFunc
	maxBody int64
	dedup   *DeliveryCache
	repo    Repository
}

// Option configures a handler.
type Option func(*options)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithMetrics sets the per-request metrics callback.
func WithMetrics(f MetricsFunc) Option { return func(o *options) { o.metrics = f } }

// WithMaxBodyBytes bounds the request body (default 1 MiB).
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBody = n
		}
	}
}

// WithDeliveryCache sets the replay cache; share one between handlers or pass
// NewDeliveryCache(size, ttl) to size it. Default: 4096 deliveries for 24 hours per handler.
func WithDeliveryCache(c *DeliveryCache) Option { return func(o *options) { o.dedup = c } }

func newOptions(opts []Option) *options {
	o := &options{log: slog.New(slog.DiscardHandler), maxBody: DefaultMaxBodyBytes}
	for _, f := range opts {
		f(o)
	}
	if o.dedup == nil {
		o.dedup = NewDeliveryCache(DefaultDedupSize, DefaultDedupTTL)
	}
	return o
}

// errTooLarge is returned by readBody for a body over the limit.
var errTooLarge = errors.New("request body too large")

// readBody reads at most max bytes, refusing a larger body before reading it all when
// Content-Length says so, and after max+1 bytes otherwise.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errTooLarge
	}
	return b, nil
}

// mediaType returns the request's media type, lower case, without parameters.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// reply writes a short plain-text answer. Bodies never echo request content.
func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

// front runs the checks shared by both providers (method, media type, size) and returns
// the body, or writes the refusal and returns ok false with the outcome.
func (o *options) front(w http.ResponseWriter, r *http.Request, types ...string) (body []byte, outcome string, ok bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "POST only")
		return nil, OutcomeBadMethod, false
	}
	mt := mediaType(r)
	allowed := false
	for _, t := range types {
		allowed = allowed || mt == t
	}
	if !allowed {
		reply(w, http.StatusUnsupportedMediaType, "content type must be application/json")
		return nil, OutcomeUnsupportedMedia, false
	}
	body, err := readBody(r, o.maxBody)
	switch {
	case errors.Is(err, errTooLarge):
		reply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", o.maxBody))
		return nil, OutcomeTooLarge, false
	case err != nil:
		reply(w, http.StatusBadRequest, "cannot read body")
		return nil, OutcomeBadRequest, false
	}
	return body, "", true
}

func (o *options) count(provider, event, outcome string) {
	if o.metrics != nil {
		o.metrics(provider, event, outcome)
	}
}

// detached returns a context for work that outlives the request: it keeps the request's
// values but not its cancellation (the sender hangs up as soon as we answer).
func detached(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }
