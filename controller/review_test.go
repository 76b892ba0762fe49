package controller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskward/taskward/webhook"
)

// recordingPublisher keeps what a review would publish (the GitHub and GitLab publishers
// themselves are tested against fakes of their APIs in package webhook).
type recordingPublisher struct {
	mu      sync.Mutex
	reports map[string]*webhook.Report // by head sha
}

func (p *recordingPublisher) Publish(ctx context.Context, sha string, number int, r *webhook.Report) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reports[sha] = r
	return nil
}

func (p *recordingPublisher) get(sha string) *webhook.Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reports[sha]
}

// TestPullRequestReview: a signed pull_request webhook makes the controller fetch the PR's
// head commit (a branch the controller does not follow), review it against live ECS and
// publish the report; a bad change fails, a good one passes.
func TestPullRequestReview(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	base := remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs)
	c.Reconcile(context.Background(), "start")

	pub := &recordingPublisher{reports: map[string]*webhook.Report{}}
	prr, err := c.NewPullRequestReviewer(func(pr webhook.PullRequest) (webhook.Publisher, error) { return pub, nil })
	if err != nil {
		t.Fatal(err)
	}
	q := webhook.NewReviewQueue(1, prr.Review)
	defer q.Close()
	secret := []byte("pr-secret-0123456789")
	c.Handle("/webhook/github", webhook.NewGitHubHandler(secret, "main", c, q))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()

	remote.git(remote.work, "checkout", "-q", "-b", "feature")
	web := exampleFiles(t)["tasks/web.json"]
	bad := remote.pushBranch("feature", "web: privileged", map[string]string{"tasks/web.json": strings.Replace(web, `"essential": true,`, `"essential": true, "privileged": true,`, 1)})

	send := func(sha, delivery string) {
		body := []byte(fmt.Sprintf(`{"action":"synchronize","number":7,"pull_request":{"number":7,"title":"t","head":{"sha":%q,"ref":"feature"},"base":{"sha":%q,"ref":"main"}},"repository":{"full_name":"acme/gitops"}}`, sha, base))
		if code := postGitHub(t, ts.URL, "pull_request", delivery, webhook.SignGitHub(secret, body), body); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d", code)
		}
	}
	wait := func(sha string) *webhook.Report {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if r := pub.get(sha); r != nil {
				return r
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no review published for %s", sha)
		return nil
	}
	send(bad, "pr-1")
	r := wait(bad)
	if !r.Failed() || !strings.Contains(r.Markdown(), "privileged") || !strings.Contains(r.Markdown(), "register") {
		t.Fatalf("bad change: failed=%v\n%s", r.Failed(), r.Markdown())
	}
	good := remote.pushBranch("feature", "web: unprivileged", map[string]string{"tasks/web.json": web})
	send(good, "pr-2")
	if r := wait(good); r.Failed() {
		t.Fatalf("good change failed:\n%s", r.Markdown())
	}
}
