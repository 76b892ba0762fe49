package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Publisher reports a review on a pull request: a commit status on sha and one comment on
// pull request (or merge request) number, updated in place on later pushes.
type Publisher interface {
	Publish(ctx context.Context, sha string, number int, r *Report) error
}

// StatusContext is the commit status's name ("context" on GitHub, "name" on GitLab).
const StatusContext = "taskward/review"

// maxPages bounds how many pages of comments are read looking for ours.
const maxPages = 50

// NewHTTPClient returns the retrying client the publishers use by default: 4 retries of
// connection errors, 429 and 5xx (retryablehttp's default policy), waits between 500ms and
// 10s honouring Retry-After, and logging through log at debug level.
func NewHTTPClient(log *slog.Logger) *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.RetryMax = 4
	c.RetryWaitMin = 500 * time.Millisecond
	c.RetryWaitMax = 10 * time.Second
	c.HTTPClient.Timeout = 30 * time.Second
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c.Logger = slogLeveled{log}
	// The default error after the last retry names the method and URL; the URL holds no
	// secret (tokens travel in headers), but keep the response for the caller's message.
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return c
}

// slogLeveled adapts *slog.Logger to retryablehttp.LeveledLogger. retryablehttp logs every
// attempt at Debug and retries at Debug/Warn; they stay out of an Info log.
type slogLeveled struct{ l *slog.Logger }

var _ retryablehttp.LeveledLogger = slogLeveled{}

func (s slogLeveled) Error(msg string, kv ...any) { s.l.Error(msg, kv...) }
func (s slogLeveled) Warn(msg string, kv ...any)  { s.l.Warn(msg, kv...) }
func (s slogLeveled) Info(msg string, kv ...any)  { s.l.Debug(msg, kv...) }
func (s slogLeveled) Debug(msg string, kv ...any) { s.l.Debug(msg, kv...) }

// APIError is a non-2xx answer from a VCS API.
type APIError struct {
	Method, URL string
	Status      int
	Body        string // first bytes, scrubbed
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.URL, e.Status, http.StatusText(e.Status), e.Body)
}

// apiClient is what both publishers share: JSON over retryablehttp with fixed headers.
type apiClient struct {
	base    *url.URL
	headers http.Header
	http    *retryablehttp.Client
}

func newAPIClient(base, def string, headers http.Header, c *retryablehttp.Client, log *slog.Logger) (*apiClient, error) {
	if base == "" {
		base = def
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("api base URL %q: must be an http(s) URL", ScrubText(base))
	}
	if u.User != nil {
		return nil, fmt.Errorf("api base URL %q: must not carry credentials; give the token separately", ScrubText(base))
	}
	if c == nil {
		c = NewHTTPClient(log)
	}
	headers.Set("User-Agent", "taskward")
	return &apiClient{base: u, headers: headers, http: c}, nil
}

// url joins the base URL and path segments, escaping each segment (a GitLab project path
// "group/project" becomes one segment, group%2Fproject).
func (a *apiClient) url(segments ...string) string {
	var b strings.Builder
	b.WriteString(a.base.String())
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends one JSON request and decodes a 2xx JSON answer into out (when not nil).
func (a *apiClient) do(ctx context.Context, method, rawURL string, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	for k, v := range a.headers {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s", method, redact(rawURL), ScrubText(err.Error()))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, redact(rawURL), err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &APIError{Method: method, URL: redact(rawURL), Status: resp.StatusCode, Body: truncate(ScrubText(string(b)), 300)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode answer: %w", method, redact(rawURL), err)
		}
	}
	return resp.Header, nil
}

// sameOrigin reports whether a pagination link points where the token may go: the API's
// own scheme and host. A Link header elsewhere is not followed.
func (a *apiClient) sameOrigin(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == a.base.Scheme && u.Host == a.base.Host
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad url)"
	}
	return u.Redacted()
}

// nextLink returns the rel="next" target of an RFC 8288 Link header, or "".
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.Trim(val, `"`) == "next" {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}
