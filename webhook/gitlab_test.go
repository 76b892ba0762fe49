package webhook

import (
	"net/http"
	"strings"
	"testing"
)

const testToken = "glwht-test-token"

func gitlabHeaders(event, key string) map[string]string {
	h := map[string]string{HeaderGitLabEvent: event, HeaderGitLabToken: testToken}
	if key != "" {
		h[HeaderIdempotencyKey] = key
	}
	return h
}

func TestGitLabHandler(t *testing.T) {
	push := readTestdata(t, "gitlab/push.json")
	mr := readTestdata(t, "gitlab/merge_request.json")
	otherBranch := strings.Replace(string(push), `"refs/heads/main"`, `"refs/heads/feature"`, 1)
	deleted := strings.Replace(string(push), `"checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"`, `"checkout_sha": null`, 1)
	edited := strings.Replace(string(mr), `"oldrev": "95790bf891e76fee5e1747ab589903a6a1f80f22",`, ``, 1)
	opened := strings.Replace(string(mr), `"action": "update"`, `"action": "open"`, 1)
	merged := strings.Replace(string(mr), `"action": "update"`, `"action": "merge"`, 1)

	tests := []struct {
		name              string
		ct                string
		headers           map[string]string
		body              string
		code              int
		triggers, reviews int
		metric            string
	}{
		{"push to watched branch", "", gitlabHeaders("Push Hook", "k-1"), string(push), 202, 1, 0, "gitlab/push/accepted"},
		{"push to other branch", "", gitlabHeaders("Push Hook", "k-2"), otherBranch, 202, 0, 0, "gitlab/push/ignored"},
		{"branch deleted", "", gitlabHeaders("Push Hook", "k-3"), deleted, 202, 0, 0, "gitlab/push/ignored"},
		{"merge request update with commits", "", gitlabHeaders("Merge Request Hook", "k-4"), string(mr), 202, 0, 1, "gitlab/merge_request/accepted"},
		{"merge request opened", "", gitlabHeaders("Merge Request Hook", "k-5"), opened, 202, 0, 1, "gitlab/merge_request/accepted"},
		{"merge request title edited", "", gitlabHeaders("Merge Request Hook", "k-6"), edited, 202, 0, 0, "gitlab/merge_request/ignored"},
		{"merge request merged", "", gitlabHeaders("Merge Request Hook", "k-7"), merged, 202, 0, 0, "gitlab/merge_request/ignored"},
		{"unknown event", "", gitlabHeaders("Pipeline Hook", "k-8"), `{"object_kind":"pipeline"}`, 202, 0, 0, "gitlab/other/ignored"},
		{"forged token", "", map[string]string{HeaderGitLabEvent: "Push Hook", HeaderGitLabToken: "guess", HeaderIdempotencyKey: "k-9"}, string(push), 401, 0, 0, "gitlab/push/unauthorized"},
		{"no token", "", map[string]string{HeaderGitLabEvent: "Push Hook"}, string(push), 401, 0, 0, "gitlab/push/unauthorized"},
		{"replayed idempotency key", "", gitlabHeaders("Push Hook", "k-1"), string(push), 409, 0, 0, "gitlab/push/duplicate"},
		{"replayed event uuid", "", map[string]string{HeaderGitLabEvent: "Push Hook", HeaderGitLabToken: testToken, HeaderGitLabEventUUID: "k-1"}, string(push), 409, 0, 0, "gitlab/push/duplicate"},
		{"no delivery id at all (old GitLab)", "", gitlabHeaders("Push Hook", ""), string(push), 202, 1, 0, "gitlab/push/accepted"},
		{"malformed JSON", "", gitlabHeaders("Push Hook", "k-10"), `{"object_kind": "push", "ref": 7}`, 400, 0, 0, "gitlab/push/bad_request"},
		{"push event with MR body", "", gitlabHeaders("Push Hook", "k-11"), string(mr), 400, 0, 0, "gitlab/push/bad_request"},
		{"form content type", "application/x-www-form-urlencoded", gitlabHeaders("Push Hook", "k-12"), string(push), 415, 0, 0, "gitlab/push/unsupported_media"},
		{"oversized", "", gitlabHeaders("Push Hook", "k-13"), strings.Repeat(" ", 9000), 413, 0, 0, "gitlab/push/too_large"},
	}
	rec := &recorder{}
	h := NewGitLabHandler([]byte(testToken), "main", rec, rec, WithMetrics(rec.metric), WithMaxBodyBytes(8192))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "application/json"
			}
			t0, r0, m0 := len(rec.triggers), len(rec.reviews), rec.count(tc.metric)
			w := do(h, http.MethodPost, ct, tc.headers, tc.body)
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
	want := PullRequest{Provider: "gitlab", Repo: "platform/deploy", ProjectID: 15, Number: 7, Action: "update",
		HeadSHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", HeadRef: "web-priv", BaseRef: "main",
		CloneURL: "https://gitlab.example.com/platform/deploy.git", Title: "web: run privileged", DeliveryID: "k-4"}
	if len(rec.reviews) == 0 || rec.reviews[0] != want {
		t.Errorf("reviews %+v\nwant %+v", rec.reviews, want)
	}
}
