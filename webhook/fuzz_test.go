package webhook

import (
	"net/http"
	"testing"
)

func FuzzParseGitHub(f *testing.F) {
	for _, n := range []string{"github/push.json", "github/pull_request.json", "github/ping.json"} {
		b, err := readFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"ref":"refs/heads/main","repository":{"full_name":"a/b"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseGitHubPush(b); err == nil && p == nil {
			t.Fatal("nil push without error")
		}
		if e, err := ParseGitHubPullRequest(b); err == nil && (e.Number <= 0 || !isHexSHA(e.PullRequest.Head.SHA)) {
			t.Fatalf("accepted a pull request without number or sha: %+v", e)
		}
	})
}

func FuzzParseGitLab(f *testing.F) {
	for _, n := range []string{"gitlab/push.json", "gitlab/merge_request.json"} {
		b, err := readFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseGitLabPush(b); err == nil && p.ObjectKind != "push" {
			t.Fatal("accepted a push that is not one")
		}
		if m, err := ParseGitLabMergeRequest(b); err == nil && m.ObjectAttributes.IID <= 0 {
			t.Fatal("accepted a merge request without iid")
		}
	})
}

// FuzzGitHubHandler sends arbitrary signed bodies through the whole handler: it must
// answer, never panic, and call the trigger only for a push to main.
func FuzzGitHubHandler(f *testing.F) {
	b, _ := readFile("github/push.json")
	f.Add("push", b)
	b, _ = readFile("github/pull_request.json")
	f.Add("pull_request", b)
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		rec := &recorder{}
		h := NewGitHubHandler([]byte(testSecret), "main", rec, rec)
		hdr := map[string]string{HeaderGitHubEvent: event, HeaderGitHubDelivery: "fuzz", HeaderGitHubSignature: SignGitHub([]byte(testSecret), body)}
		w := do(h, http.MethodPost, "application/json", hdr, string(body))
		if w.Code != 202 && w.Code != 400 && w.Code != 413 {
			t.Fatalf("code %d", w.Code)
		}
		if len(rec.triggers) > 0 && event != "push" {
			t.Fatalf("event %q triggered a reconcile", event)
		}
	})
}
