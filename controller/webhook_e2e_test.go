package controller

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/taskward/taskward/webhook"
)

// TestSignedPushReachesECS: a signed GitHub push webhook makes the pushed change reach
// ECS (ecslocal) without waiting for the poll; the latency from the request to the new
// revision is logged.
func TestSignedPushReachesECS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithPollInterval(time.Hour), WithDebounce(50*time.Millisecond))
	secret := []byte("push-secret-0123456789")
	c.Handle("/webhook/github", webhook.NewGitHubHandler(secret, "main", c, nil))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for !c.Status().Ready && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !c.Status().Ready {
		t.Fatalf("controller never became ready: %+v", c.Status())
	}

	sha := remote.push("web: more cpu", map[string]string{"tasks/web.json": moreCPU(exampleFiles(t)["tasks/web.json"])})
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":%q,"repository":{"full_name":"acme/gitops"},"head_commit":{"id":%q}}`, sha, sha))
	start := time.Now()
	if code := postGitHub(t, ts.URL, "push", "d-1", webhook.SignGitHub(secret, body), body); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d", code)
	}
	for time.Since(start) < 10*time.Second && len(env.revisions(t, "web")) < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	latency := time.Since(start)
	if n := len(env.revisions(t, "web")); n != 2 {
		t.Fatalf("the push never reached ECS: web has %d revisions", n)
	}
	t.Logf("signed push to new revision in ECS: %v", latency.Round(time.Millisecond))
	if latency > time.Second {
		// Reported, not asserted as a timing (timings belong in benchmarks), unless far off.
		t.Logf("warning: over a second on this machine")
	}
	if st := c.Status(); st.Commit != sha {
		t.Fatalf("status commit %s, want %s", st.Commit, sha)
	}

	// A push to another branch, and a forged one, trigger nothing.
	other := []byte(strings.Replace(string(body), "refs/heads/main", "refs/heads/feature", 1))
	for _, tc := range []struct {
		body []byte
		sig  string
		want int
	}{{other, webhook.SignGitHub(secret, other), http.StatusAccepted}, {body, "sha256=" + strings.Repeat("0", 64), http.StatusUnauthorized}} {
		if code := postGitHub(t, ts.URL, "push", fmt.Sprint(time.Now().UnixNano()), tc.sig, tc.body); code != tc.want {
			t.Errorf("status %d, want %d", code, tc.want)
		}
	}
	cancel()
	<-done
}

// postGitHub delivers a GitHub webhook to the controller at base and returns the status.
func postGitHub(t *testing.T, base, event, delivery, signature string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/webhook/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
