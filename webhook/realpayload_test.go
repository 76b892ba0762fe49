package webhook

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestRealPayloadsOfTheFollowedRepository feeds GitHub's and GitLab's own payload examples
// (testdata/octokit, testdata/gitlab-docs; provenance in their README.md) to the
// receivers. Events of the followed repository act; the same events of any other
// repository, as an organisation- or group-level hook delivers them, are answered 202
// "ignored" and trigger nothing.
func TestRealPayloadsOfTheFollowedRepository(t *testing.T) {
	secret := []byte("s3cret")
	type delivery struct {
		file, event string
		act         string // "reconcile", "review" or "" (nothing to do even when followed)
	}
	github := []delivery{
		{"octokit/push-with-new-branch.payload.json", "push", "reconcile"}, // refs/heads/master
		{"octokit/push-payload.json", "push", ""},                          // a deleted tag
		{"octokit/push-with-organization.payload.json", "push", ""},
		{"octokit/pull_request-opened.payload.json", "pull_request", "review"},
		{"octokit/pull_request-synchronize.payload.json", "pull_request", "review"},
		{"octokit/pull_request-reopened.payload.json", "pull_request", "review"},
		{"octokit/pull_request-closed.payload.json", "pull_request", ""},
		{"octokit/pull_request-labeled.payload.json", "pull_request", ""},
		{"octokit/ping-payload.json", "ping", ""},
	}
	for _, tc := range []struct {
		name     string
		followed string
		acts     bool
	}{
		{"followed by URL", "https://github.com/Codertocat/Hello-World.git", true},
		{"followed by ssh URL, other case", "git@github.com:codertocat/hello-world.git", true},
		{"followed by name", "Codertocat/Hello-World", true},
		{"another repository of the organisation", "https://github.com/Codertocat/Other.git", false},
		{"same name on another server", "https://github.example.com/Codertocat/Hello-World.git", false},
	} {
		t.Run("github/"+tc.name, func(t *testing.T) {
			repo, err := ParseRepository(tc.followed)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range github {
				rec := &recorder{}
				h := NewGitHubHandler(secret, "master", rec, rec, WithRepository(repo))
				body := readTestdata(t, d.file)
				w := do(h, http.MethodPost, "application/json", map[string]string{
					HeaderGitHubEvent: d.event, HeaderGitHubDelivery: fmt.Sprintf("d-%d", i), HeaderGitHubSignature: SignGitHub(secret, body),
				}, string(body))
				acted := len(rec.triggers) + len(rec.reviews)
				want := 0
				if tc.acts && d.act != "" {
					want = 1
				}
				if w.Code != http.StatusAccepted && !(d.event == "ping" && w.Code == http.StatusOK) || acted != want {
					t.Errorf("%s: %d %q, acted %d times, want %d", d.file, w.Code, w.Body.String(), acted, want)
				}
				if !tc.acts && d.event != "ping" && !strings.Contains(w.Body.String(), "is not the followed repository") {
					t.Errorf("%s: reply %q does not say why it was ignored", d.file, w.Body.String())
				}
				if d.act == "review" && tc.acts && (rec.reviews[0].Repo != "Codertocat/Hello-World" || rec.reviews[0].HeadSHA != "ec26c3e57ca3a959ca5aad62de7213c562f8c821") {
					t.Errorf("%s: review %+v", d.file, rec.reviews[0])
				}
			}
		})
	}

	for _, tc := range []struct {
		followed string
		acts     bool
	}{
		{"http://example.com/mike/diaspora.git", true},
		{"mike/diaspora", true},
		{"http://example.com/mike/other.git", false},
	} {
		t.Run("gitlab/push/"+tc.followed, func(t *testing.T) {
			repo, _ := ParseRepository(tc.followed)
			rec := &recorder{}
			h := NewGitLabHandler(secret, "master", rec, rec, WithRepository(repo))
			body := readTestdata(t, "gitlab-docs/push.json")
			w := do(h, http.MethodPost, "application/json", map[string]string{HeaderGitLabEvent: gitlabPushEvent, HeaderGitLabToken: string(secret)}, string(body))
			if w.Code != http.StatusAccepted || (len(rec.triggers) == 1) != tc.acts {
				t.Errorf("%d %q, triggers %v", w.Code, w.Body.String(), rec.triggers)
			}
		})
	}
	for _, tc := range []struct {
		followed string
		acts     bool
	}{
		{"git@example.com:gitlabhq/gitlab-test.git", true},
		{"git@example.com:awesome_space/awesome_project.git", false}, // the source project, not this one
	} {
		t.Run("gitlab/merge_request/"+tc.followed, func(t *testing.T) {
			repo, _ := ParseRepository(tc.followed)
			rec := &recorder{}
			h := NewGitLabHandler(secret, "master", rec, rec, WithRepository(repo))
			body := readTestdata(t, "gitlab-docs/merge_request.json")
			w := do(h, http.MethodPost, "application/json", map[string]string{HeaderGitLabEvent: gitlabMergeRequestEvent, HeaderGitLabToken: string(secret)}, string(body))
			if w.Code != http.StatusAccepted || (len(rec.reviews) == 1) != tc.acts {
				t.Errorf("%d %q, reviews %v", w.Code, w.Body.String(), rec.reviews)
			}
		})
	}
}

// TestGitLabIgnoredActionBeforeStrictParsing: a merge request event whose action taskward
// does not review is 202 "ignored" even when a field taskward would require is null; the
// same payload with a reviewed action is still refused (400).
func TestGitLabIgnoredActionBeforeStrictParsing(t *testing.T) {
	secret := []byte("s3cret")
	body := string(readTestdata(t, "gitlab-docs/merge_request.json"))
	for _, tc := range []struct {
		action string
		code   int
	}{{"close", http.StatusAccepted}, {"merge", http.StatusAccepted}, {"approved", http.StatusAccepted}, {"open", http.StatusBadRequest}} {
		b := strings.Replace(body, `"iid": 1,`, `"iid": null,`, 1)
		b = strings.Replace(b, `"action": "open"`, `"action": "`+tc.action+`"`, 1)
		rec := &recorder{}
		h := NewGitLabHandler(secret, "master", rec, rec)
		w := do(h, http.MethodPost, "application/json", map[string]string{HeaderGitLabEvent: gitlabMergeRequestEvent, HeaderGitLabToken: string(secret)}, b)
		if w.Code != tc.code || len(rec.reviews) != 0 {
			t.Errorf("action %s with a null iid: %d %q, want %d", tc.action, w.Code, w.Body.String(), tc.code)
		}
	}
}

func TestParseRepository(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/Acme/ECS-GitOps.git":        "github.com/acme/ecs-gitops",
		"ssh://git@gitlab.example.com:2222/g/sub/r.git": "gitlab.example.com/g/sub/r",
		"git@github.com:acme/ops.git":                   "github.com/acme/ops",
		"acme/ops":                                      "acme/ops",
	} {
		if r, err := ParseRepository(in); err != nil || r.String() != want {
			t.Errorf("ParseRepository(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	for _, bad := range []string{"", "/srv/gitops", "./repo", "file:///srv/gitops", "ops"} {
		if _, err := ParseRepository(bad); err == nil {
			t.Errorf("ParseRepository(%q) accepted", bad)
		}
	}
}

// FuzzParseRepository: payload URLs reach ParseRepository through matches; it must never
// panic, and what it accepts must print back to something it accepts as the same.
func FuzzParseRepository(f *testing.F) {
	for _, s := range []string{"https://github.com/a/b.git", "git@github.com:a/b.git", "ssh://git@h:22/g/s/r", "a/b", "", "::", "git@:", "http://[::1]/a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRepository(s)
		if err != nil {
			return
		}
		if !r.matches(r.Path) {
			t.Fatalf("%q: %v does not match its own path", s, r)
		}
	})
}
