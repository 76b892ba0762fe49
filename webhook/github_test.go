package webhook

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const testSecret = "s3cr3t-for-tests"

func githubHeaders(event, delivery string, body []byte) map[string]string {
	return map[string]string{
		HeaderGitHubEvent:     event,
		HeaderGitHubDelivery:  delivery,
		HeaderGitHubSignature: SignGitHub([]byte(testSecret), body),
	}
}

func TestGitHubHandler(t *testing.T) {
	push := readTestdata(t, "github/push.json")
	pr := readTestdata(t, "github/pull_request.json")
	ping := readTestdata(t, "github/ping.json")
	otherBranch := []byte(strings.Replace(string(push), `"refs/heads/main"`, `"refs/heads/feature"`, 1))
	deleted := []byte(strings.Replace(string(push), `"deleted": false`, `"deleted": true`, 1))
	closed := []byte(strings.Replace(string(pr), `"synchronize"`, `"closed"`, 1))
	opened := []byte(strings.Replace(string(pr), `"synchronize"`, `"opened"`, 1))
	form := []byte("payload=" + url.QueryEscape(string(push)))

	tests := []struct {
		name        string
		method, ct  string
		headers     map[string]string
		body        []byte
		code        int
		triggers    int
		reviews     int
		metric      string
		contentType string
	}{
		{name: "push to watched branch", headers: githubHeaders("push", "d-1", push), body: push, code: 202, triggers: 1, metric: "github/push/accepted"},
		{name: "push to other branch", headers: githubHeaders("push", "d-2", otherBranch), body: otherBranch, code: 202, metric: "github/push/ignored"},
		{name: "branch deleted", headers: githubHeaders("push", "d-3", deleted), body: deleted, code: 202, metric: "github/push/ignored"},
		{name: "pull request synchronize", headers: githubHeaders("pull_request", "d-4", pr), body: pr, code: 202, reviews: 1, metric: "github/pull_request/accepted"},
		{name: "pull request opened", headers: githubHeaders("pull_request", "d-5", opened), body: opened, code: 202, reviews: 1, metric: "github/pull_request/accepted"},
		{name: "pull request closed", headers: githubHeaders("pull_request", "d-6", closed), body: closed, code: 202, metric: "github/pull_request/ignored"},
		{name: "ping", headers: githubHeaders("ping", "d-7", ping), body: ping, code: 202, metric: "github/ping/ignored"},
		{name: "unknown event", headers: githubHeaders("issues", "d-8", ping), body: ping, code: 202, metric: "github/other/ignored"},
		{name: "form-encoded push", ct: "application/x-www-form-urlencoded", headers: githubHeaders("push", "d-9", form), body: form, code: 202, triggers: 1, metric: "github/push/accepted"},
		{name: "forged signature", headers: githubHeaders("push", "d-10", []byte("other body")), body: push, code: 401, metric: "github/push/unauthorized"},
		{name: "no signature", headers: map[string]string{HeaderGitHubEvent: "push", HeaderGitHubDelivery: "d-11"}, body: push, code: 401, metric: "github/push/unauthorized"},
		{name: "replayed delivery", headers: githubHeaders("push", "d-1", push), body: push, code: 409, metric: "github/push/duplicate"},
		{name: "no delivery id", headers: githubHeaders("push", "", push), body: push, code: 400, metric: "github/push/bad_request"},
		{name: "no event", headers: githubHeaders("", "d-12", push), body: push, code: 400, metric: "github/other/bad_request"},
		{name: "malformed JSON, signed", headers: githubHeaders("push", "d-13", []byte(`{"ref":`)), body: []byte(`{"ref":`), code: 400, metric: "github/push/bad_request"},
		{name: "pull request without head sha", headers: githubHeaders("pull_request", "d-14", []byte(`{"action":"opened","number":1,"repository":{"full_name":"a/b"}}`)), body: []byte(`{"action":"opened","number":1,"repository":{"full_name":"a/b"}}`), code: 400, metric: "github/pull_request/bad_request"},
		{name: "wrong content type", ct: "text/plain", headers: githubHeaders("push", "d-15", push), body: push, code: 415, metric: "github/push/unsupported_media"},
		{name: "GET", method: "GET", headers: githubHeaders("push", "d-16", push), body: push, code: 405, metric: "github/push/method_not_allowed"},
		{name: "oversized", headers: githubHeaders("push", "d-17", []byte(strings.Repeat(" ", 5000))), body: []byte(strings.Repeat(" ", 5000)), code: 413, metric: "github/push/too_large"},
		// The malformed delivery d-13 was not remembered: fixed and redelivered, it passes.
		{name: "redelivery of a once-malformed id", headers: githubHeaders("push", "d-13", push), body: push, code: 202, triggers: 1, metric: "github/push/accepted"},
	}
	rec := &recorder{}
	h := NewGitHubHandler([]byte(testSecret), "main", rec, rec, WithMetrics(rec.metric), WithMaxBodyBytes(4096))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, ct := tc.method, tc.ct
			if method == "" {
				method = http.MethodPost
			}
			if ct == "" {
				ct = "application/json"
			}
			t0, r0, m0 := len(rec.triggers), len(rec.reviews), rec.count(tc.metric)
			w := do(h, method, ct, tc.headers, string(tc.body))
			if w.Code != tc.code {
				t.Fatalf("code %d (%s), want %d", w.Code, strings.TrimSpace(w.Body.String()), tc.code)
			}
			if got := len(rec.triggers) - t0; got != tc.triggers {
				t.Errorf("%d triggers, want %d", got, tc.triggers)
			}
			if got := len(rec.reviews) - r0; got != tc.reviews {
				t.Errorf("%d reviews, want %d", got, tc.reviews)
			}
			if rec.count(tc.metric) != m0+1 {
				t.Errorf("metric %s not counted; have %v", tc.metric, rec.metrics)
			}
		})
	}
	if len(rec.reviews) > 0 {
		got := rec.reviews[0]
		want := PullRequest{Provider: "github", Repo: "acme/deploy", Number: 42, Action: "synchronize",
			HeadSHA: "4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6", HeadRef: "web-priv", BaseRef: "main",
			BaseSHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", CloneURL: "https://github.com/alice/deploy.git",
			Title: "web: run privileged", DeliveryID: "d-4"}
		if got != want {
			t.Errorf("pull request\n got %+v\nwant %+v", got, want)
		}
	}
	if len(rec.triggers) > 0 && !strings.Contains(rec.triggers[0], "0d1a26e to main by alice") {
		t.Errorf("reason %q", rec.triggers[0])
	}
}

func TestGitHubHandlerEmptySecretFailsClosed(t *testing.T) {
	push := readTestdata(t, "github/push.json")
	rec := &recorder{}
	h := NewGitHubHandler(nil, "main", rec, rec)
	hdr := map[string]string{HeaderGitHubEvent: "push", HeaderGitHubDelivery: "x", HeaderGitHubSignature: SignGitHub(nil, push)}
	if w := do(h, "POST", "application/json", hdr, string(push)); w.Code != 401 || len(rec.triggers) != 0 {
		t.Fatalf("code %d, triggers %d", w.Code, len(rec.triggers))
	}
}

func TestOversizedWithoutContentLength(t *testing.T) {
	// A chunked body has no Content-Length: the limit is enforced while reading.
	rec := &recorder{}
	h := NewGitHubHandler([]byte(testSecret), "main", rec, rec, WithMaxBodyBytes(100))
	body := strings.Repeat("a", 1000)
	req, _ := http.NewRequest("POST", "/", strings.NewReader(body))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderGitHubEvent, "push")
	w := &responseRecorder{header: http.Header{}}
	h.ServeHTTP(w, req)
	if w.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("code %d", w.code)
	}
}

type responseRecorder struct {
	header http.Header
	code   int
}

func (r *responseRecorder) Header() http.Header         { return r.header }
func (r *responseRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *responseRecorder) WriteHeader(code int)        { r.code = code }
