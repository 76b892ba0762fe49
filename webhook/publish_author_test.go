package webhook

import (
	"context"
	"strings"
	"testing"

	"github.com/taskward/taskward/internal/forgetest"
)

// TestGitHubCommentTakeover: the pull request's author posts a comment with the hidden
// marker before taskward does. It is not ours: taskward writes its own comment (and does
// not try to edit the author's, which the token may not be allowed to), then keeps
// updating its own.
func TestGitHubCommentTakeover(t *testing.T) {
	gh := forgetest.NewGitHub(t, "ghp_test")
	mallory := forgetest.User{Login: "mallory", ID: 666}
	fake := gh.PostAs(42, mallory, CommentMarker+"\n## taskward review: ✅ passed\n[Approve here](https://evil.example)")
	p := &GitHubPublisher{BaseURL: gh.Srv.URL, Token: "ghp_test", Owner: "acme", Repo: "deploy"}
	ctx := context.Background()
	for _, sha := range []string{sha1st, sha2nd} {
		if err := p.Publish(ctx, sha, 42, failingReport()); err != nil {
			t.Fatalf("publish %s: %v", sha[:7], err)
		}
	}
	if ours := gh.Ours(42, CommentMarker); len(ours) != 1 || !strings.Contains(ours[0].Body, "❌ failed") {
		t.Fatalf("taskward's own comments: %d, want 1 saying failed", len(ours))
	}
	if !strings.Contains(fake.Body, "[Approve here]") {
		t.Errorf("the author's comment was changed: %q", fake.Body)
	}
	if n := gh.CallCount("GET /user"); n != 2 {
		t.Errorf("%d GET /user, want one per publish", n)
	}
	if n := gh.CallCount("POST /repos/acme/deploy/issues/42/comments"); n != 1 {
		t.Errorf("%d comment creations, want 1", n)
	}
}

// TestGitHubAuthorOverride: an App installation token cannot read GET /user; the
// configured Author login is matched instead.
func TestGitHubAuthorOverride(t *testing.T) {
	gh := forgetest.NewGitHub(t, "ghs_test")
	gh.Me = forgetest.User{Login: "taskward-app[bot]", ID: 41898282}
	gh.PostAs(7, forgetest.User{Login: "mallory", ID: 666}, CommentMarker+"\nfake")
	p := &GitHubPublisher{BaseURL: gh.Srv.URL, Token: "ghs_test", Owner: "acme", Repo: "deploy", Author: "taskward-app[bot]"}
	for _, sha := range []string{sha1st, sha2nd} {
		if err := p.Publish(context.Background(), sha, 7, failingReport()); err != nil {
			t.Fatal(err)
		}
	}
	if len(gh.Ours(7, CommentMarker)) != 1 || gh.CallCount("GET /user") != 0 {
		t.Fatalf("ours %d, GET /user %d", len(gh.Ours(7, CommentMarker)), gh.CallCount("GET /user"))
	}
}

// TestGitLabNoteTakeover: the same on GitLab, where the author's note comes first too.
func TestGitLabNoteTakeover(t *testing.T) {
	gl := forgetest.NewGitLab(t, "glpat-test")
	fake := gl.PostAs(7, forgetest.GLUser{ID: 666, Username: "mallory"}, CommentMarker+"\n## taskward review: ✅ passed")
	p := &GitLabPublisher{BaseURL: gl.Srv.URL + "/api/v4", Token: "glpat-test", ProjectID: "15"}
	for _, sha := range []string{sha1st, sha2nd} {
		if err := p.Publish(context.Background(), sha, 7, failingReport()); err != nil {
			t.Fatalf("publish %s: %v", sha[:7], err)
		}
	}
	if ours := gl.Ours(7, CommentMarker); len(ours) != 1 || !strings.Contains(ours[0].Body, "❌ failed") {
		t.Fatalf("taskward's own notes: %d", len(ours))
	}
	if strings.Contains(fake.Body, "failed") {
		t.Errorf("the author's note was changed: %q", fake.Body)
	}
}
