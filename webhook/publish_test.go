package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/taskward/taskward/internal/forgetest"
)

const (
	sha1st = "4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
	sha2nd = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
)

func failingReport() *Report {
	return &Report{Tasks: 1, Containers: 1, Findings: []Finding{{Check: CheckPrivileges, Severity: Failure, File: "tasks/web.json", Message: "container \"app\" runs privileged"}}}
}

func TestGitHubPublisherUpsertsOneComment(t *testing.T) {
	gh := forgetest.NewGitHub(t, "ghs_test")
	gh.Seed(42, 150) // our comment lands on page 2 of 100
	p := &GitHubPublisher{BaseURL: gh.Srv.URL, Token: "ghs_test", Owner: "acme", Repo: "deploy", TargetURL: "https://taskward.example.com/status"}
	ctx := context.Background()
	if err := p.Publish(ctx, sha1st, 42, failingReport()); err != nil {
		t.Fatal(err)
	}
	if got := gh.Status[sha1st]; len(got) != 1 || got[0]["state"] != "failure" || got[0]["context"] != "taskward/review" ||
		!strings.HasPrefix(got[0]["description"], "1 failed (1 privileges)") || got[0]["target_url"] != "https://taskward.example.com/status" {
		t.Fatalf("status %+v", got)
	}
	if ours := gh.Ours(42, CommentMarker); len(ours) != 1 {
		t.Fatalf("%d comments after the first push", len(ours))
	}
	// Second push: a new status on the new head, the same comment updated.
	if err := p.Publish(ctx, sha2nd, 42, &Report{Tasks: 1, Containers: 1, Protected: 1}); err != nil {
		t.Fatal(err)
	}
	ours := gh.Ours(42, CommentMarker)
	if len(ours) != 1 || !strings.Contains(ours[0].Body, "✅ passed") {
		t.Fatalf("comments after the second push: %d", len(ours))
	}
	if gh.Status[sha2nd][0]["state"] != "success" {
		t.Errorf("second status %+v", gh.Status[sha2nd])
	}
	if n := gh.CallCount("POST /repos/acme/deploy/issues/42/comments"); n != 1 {
		t.Errorf("%d comment creations, want 1", n)
	}
	if n := gh.CallCount("PATCH /repos/acme/deploy/issues/comments/"); n != 1 {
		t.Errorf("%d comment updates, want 1", n)
	}
	if n := gh.CallCount("GET /repos/acme/deploy/issues/42/comments"); n != 4 {
		t.Errorf("%d list calls, want 4 (2 pages, twice)", n)
	}
}

func TestGitHubPublisherRetriesAndAuth(t *testing.T) {
	gh := forgetest.NewGitHub(t, "ghs_test")
	gh.FailNext = 2
	c := NewHTTPClient(nil)
	c.RetryWaitMin, c.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	p := &GitHubPublisher{BaseURL: gh.Srv.URL + "/", Token: "ghs_test", Owner: "acme", Repo: "deploy", Client: c}
	if err := p.Publish(context.Background(), sha1st, 7, failingReport()); err != nil {
		t.Fatalf("two 502s then success: %v", err)
	}
	bad := &GitHubPublisher{BaseURL: gh.Srv.URL, Token: "wrong", Owner: "acme", Repo: "deploy", Client: c}
	err := bad.Publish(context.Background(), sha1st, 7, failingReport())
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad token: %v", err)
	}
	if err := (&GitHubPublisher{BaseURL: "https://x-access-token:ghs_abc@github.example.com", Token: "t", Owner: "a", Repo: "b"}).Publish(context.Background(), sha1st, 1, failingReport()); err == nil || strings.Contains(err.Error(), "ghs_abc") {
		t.Fatalf("credentials in the base URL: %v", err)
	}
}

func TestGitHubPublisherLongReportFits(t *testing.T) {
	gh := forgetest.NewGitHub(t, "ghs_test")
	rep := failingReport()
	for range 3000 {
		rep.Findings = append(rep.Findings, Finding{Check: CheckReadOnly, Severity: Warning, File: "tasks/x.json", Message: strings.Repeat("long ", 20)})
	}
	p := &GitHubPublisher{BaseURL: gh.Srv.URL, Token: "ghs_test", Owner: "acme", Repo: "deploy"}
	if err := p.Publish(context.Background(), sha1st, 1, rep); err != nil {
		t.Fatal(err) // the fake refuses bodies over 65,536 characters with 422
	}
}

func TestGitLabPublisherUpsertsOneNote(t *testing.T) {
	gl := forgetest.NewGitLab(t, "glpat-test")
	gl.Seed(7, 130) // X-Next-Page pagination, system notes skipped
	for _, id := range []string{"15", "platform/deploy"} {
		t.Run(id, func(t *testing.T) {
			p := &GitLabPublisher{BaseURL: gl.Srv.URL + "/api/v4", Token: "glpat-test", ProjectID: id}
			if err := p.Publish(context.Background(), sha1st, 7, failingReport()); err != nil {
				t.Fatal(err)
			}
			if err := p.Publish(context.Background(), sha2nd, 7, &Report{Tasks: 1}); err != nil {
				t.Fatal(err)
			}
			if ours := gl.Ours(7, CommentMarker); len(ours) != 1 || !strings.Contains(ours[0].Body, "passed") {
				t.Fatalf("%d notes", len(ours))
			}
		})
	}
	if s := gl.Statuses[sha1st]; len(s) != 2 || s[0]["state"] != "failed" || s[0]["name"] != "taskward/review" {
		t.Errorf("statuses %+v", s)
	}
	if s := gl.Statuses[sha2nd]; len(s) != 2 || s[0]["state"] != "success" {
		t.Errorf("statuses %+v", s)
	}
	var encoded bool
	for _, c := range gl.Calls {
		encoded = encoded || strings.Contains(c, "/projects/platform%2Fdeploy/")
	}
	if !encoded {
		t.Errorf("project path not URL-encoded as one segment: %v", gl.Calls)
	}
	bad := &GitLabPublisher{BaseURL: gl.Srv.URL + "/api/v4", Token: "nope", ProjectID: "15"}
	if err := bad.Publish(context.Background(), sha1st, 7, failingReport()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad token: %v", err)
	}
}
