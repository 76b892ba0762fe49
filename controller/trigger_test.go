package controller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReconcileNow: POST /v1/reconcile with the events token reconciles and scans at once
// (a new commit is applied without waiting for the poll); without the token it is refused.
func TestReconcileNow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithEventsToken([]byte("tok3n")),
		WithPollInterval(time.Hour), WithDriftSchedule("0 0 1 1 *"), WithDebounce(time.Millisecond))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, "the first reconcile", func() bool { return c.Status().Ready })
	scanned := c.Status().LastScan

	second := remote.push("web: more cpu", map[string]string{"tasks/web.json": moreCPU(exampleFiles(t)["tasks/web.json"])})
	post := func(auth string) int {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/reconcile", strings.NewReader(""))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, bad := range []string{"", "Bearer wrong", "tok3n"} {
		if code := post(bad); code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", bad, code)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if c.Status().Commit == second {
		t.Fatal("an unauthorized request reconciled")
	}
	if code := post("Bearer tok3n"); code != http.StatusAccepted {
		t.Fatalf("with the token: %d", code)
	}
	waitFor(t, "the requested reconcile", func() bool { return c.Status().LastApplied == second })
	waitFor(t, "the scan after it", func() bool { return c.Status().LastScan.After(scanned) })
	if resp, err := http.Get(ts.URL + "/v1/reconcile"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/reconcile: %v %v", resp.StatusCode, err)
	}
	cancel()
	<-done
}
