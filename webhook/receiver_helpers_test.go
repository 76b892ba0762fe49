package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// recorder implements Trigger and Reviewer and counts metrics.
type recorder struct {
	mu       sync.Mutex
	triggers []string
	reviews  []PullRequest
	metrics  []string
}

func (r *recorder) RequestReconcile(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.triggers = append(r.triggers, reason)
}

func (r *recorder) ReviewPullRequest(_ context.Context, pr PullRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reviews = append(r.reviews, pr)
}

func (r *recorder) metric(p, e, o string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, p+"/"+e+"/"+o)
}

func (r *recorder) count(metric string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.metrics {
		if m == metric {
			n++
		}
	}
	return n
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do sends one request to h and returns the response.
func do(h http.Handler, method, contentType string, headers map[string]string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/webhook", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func readFile(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }
