package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// GitHub's webhook headers (docs.github.com: webhook events and payloads, delivery headers).
const (
	HeaderGitHubSignature = "X-Hub-Signature-256"
	HeaderGitHubEvent     = "X-GitHub-Event"
	HeaderGitHubDelivery  = "X-GitHub-Delivery"
)

// SignGitHub returns the X-Hub-Signature-256 value for body: "sha256=" and the hex
// HMAC-SHA256 of the raw body keyed with the secret.
func SignGitHub(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyGitHubSignature reports whether header is body's signature under secret. The
// comparison is constant-time (hmac.Equal over the decoded digests). An empty secret
// verifies nothing: a handler without a secret fails closed.
func VerifyGitHubSignature(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// GitHubPush is the part of a push event taskward reads.
type GitHubPush struct {
	Ref        string           `json:"ref"`
	Before     string           `json:"before"`
	After      string           `json:"after"`
	Deleted    bool             `json:"deleted"`
	Repository GitHubRepository `json:"repository"`
	Pusher     struct {
		Name string `json:"name"`
	} `json:"pusher"`
}

// GitHubPullRequestEvent is the part of a pull_request event taskward reads.
type GitHubPullRequestEvent struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	PullRequest struct {
		Number int    `json:"number"`
		Title  string `json:"title"`
		Head   struct {
			SHA  string `json:"sha"`
			Ref  string `json:"ref"`
			Repo *struct {
				FullName string `json:"full_name"`
				CloneURL string `json:"clone_url"`
			} `json:"repo"` // null when the fork was deleted
		} `json:"head"`
		Base struct {
			SHA string `json:"sha"`
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
	Repository GitHubRepository `json:"repository"`
}

// GitHubRepository is the repository object of GitHub's payloads: which repository an
// event is for.
type GitHubRepository struct {
	FullName string `json:"full_name"`
	CloneURL string `json:"clone_url"`
	SSHURL   string `json:"ssh_url"`
	HTMLURL  string `json:"html_url"`
}

func (r GitHubRepository) urls() []string { return []string{r.CloneURL, r.SSHURL, r.HTMLURL} }

// ParseGitHubPush parses a push event payload (JSON).
func ParseGitHubPush(body []byte) (*GitHubPush, error) {
	var p GitHubPush
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("push payload: %w", err)
	}
	if !strings.HasPrefix(p.Ref, "refs/") {
		return nil, fmt.Errorf("push payload: ref %q is not a full ref name", p.Ref)
	}
	if p.Repository.FullName == "" {
		return nil, errors.New("push payload: no repository.full_name")
	}
	return &p, nil
}

// ParseGitHubPullRequest parses a pull_request event payload (JSON).
func ParseGitHubPullRequest(body []byte) (*GitHubPullRequestEvent, error) {
	var e GitHubPullRequestEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("pull_request payload: %w", err)
	}
	if e.Number <= 0 && e.PullRequest.Number > 0 {
		e.Number = e.PullRequest.Number
	}
	switch {
	case e.Action == "":
		return nil, errors.New("pull_request payload: no action")
	case e.Number <= 0:
		return nil, errors.New("pull_request payload: no number")
	case e.Repository.FullName == "":
		return nil, errors.New("pull_request payload: no repository.full_name")
	case !isHexSHA(e.PullRequest.Head.SHA):
		return nil, fmt.Errorf("pull_request payload: head sha %q is not a commit id", e.PullRequest.Head.SHA)
	}
	return &e, nil
}

// isHexSHA reports whether s is a full SHA-1 or SHA-256 commit id.
func isHexSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// reviewedGitHubActions are the pull_request actions that change what would be merged.
var reviewedGitHubActions = map[string]bool{"opened": true, "synchronize": true, "reopened": true}

type githubHandler struct {
	secret  []byte
	branch  string
	trigger Trigger
	review  Reviewer
	*options
}

// NewGitHubHandler returns the receiver for POST /webhook/github. secret is the webhook's
// secret (see [ReadSecret]); branch is the watched branch ("main"), whose pushes call
// t.RequestReconcile; pull request events call r.ReviewPullRequest (r may be nil: reviews
// off). An empty secret refuses every request.
func NewGitHubHandler(secret []byte, branch string, t Trigger, r Reviewer, opts ...Option) http.Handler {
	return &githubHandler{secret: append([]byte(nil), secret...), branch: branch, trigger: t, review: r, options: newOptions(opts)}
}

func githubEventLabel(ev string) string {
	switch ev {
	case "push", "pull_request", "ping":
		return ev
	}
	return "other"
}

func (h *githubHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get(HeaderGitHubEvent)
	label := githubEventLabel(event)
	outcome := h.serve(w, r, event)
	h.count("github", label, outcome)
}

func (h *githubHandler) serve(w http.ResponseWriter, r *http.Request, event string) string {
	ctx := r.Context()
	body, outcome, ok := h.front(w, r, "application/json", "application/x-www-form-urlencoded")
	if !ok {
		h.log.WarnContext(ctx, "github webhook refused", "outcome", outcome, "remote", r.RemoteAddr)
		return outcome
	}
	if !VerifyGitHubSignature(h.secret, body, r.Header.Get(HeaderGitHubSignature)) {
		h.log.WarnContext(ctx, "github webhook: bad signature", "remote", r.RemoteAddr, "delivery", clip(r.Header.Get(HeaderGitHubDelivery)))
		reply(w, http.StatusUnauthorized, "bad signature")
		return OutcomeUnauthorized
	}
	delivery := r.Header.Get(HeaderGitHubDelivery)
	if delivery == "" || len(delivery) > 128 {
		reply(w, http.StatusBadRequest, "missing or bad "+HeaderGitHubDelivery)
		return OutcomeBadRequest
	}
	if event == "" {
		reply(w, http.StatusBadRequest, "missing "+HeaderGitHubEvent)
		return OutcomeBadRequest
	}
	// The signature covers the raw body; a form-encoded delivery carries the JSON in the
	// "payload" field.
	if mediaType(r) == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(body))
		if err != nil || vals.Get("payload") == "" {
			reply(w, http.StatusBadRequest, "form body without a payload field")
			return OutcomeBadRequest
		}
		body = []byte(vals.Get("payload"))
	}
	log := h.log.With("delivery", delivery, "event", githubEventLabel(event))

	var act func()
	msg := "ignored"
	switch event {
	case "ping":
		msg = "pong"
	case "push":
		p, err := ParseGitHubPush(body)
		if err != nil {
			log.WarnContext(ctx, "github webhook: bad payload", "err", err)
			reply(w, http.StatusBadRequest, "malformed push payload")
			return OutcomeBadRequest
		}
		if !h.repo.matches(p.Repository.FullName, p.Repository.urls()...) {
			msg = ignoredRepo(p.Repository.FullName, h.repo)
			log.InfoContext(ctx, "github webhook: "+msg)
		} else if h.trigger != nil && p.Ref == "refs/heads/"+h.branch && !p.Deleted {
			reason := fmt.Sprintf("github push %s to %s by %s (delivery %s)", short(p.After), h.branch, clip(p.Pusher.Name), delivery)
			act = func() { h.trigger.RequestReconcile(reason) }
			msg = "reconcile requested"
		}
	case "pull_request":
		e, err := ParseGitHubPullRequest(body)
		if err != nil {
			log.WarnContext(ctx, "github webhook: bad payload", "err", err)
			reply(w, http.StatusBadRequest, "malformed pull_request payload")
			return OutcomeBadRequest
		}
		if !h.repo.matches(e.Repository.FullName, e.Repository.urls()...) {
			msg = ignoredRepo(e.Repository.FullName, h.repo)
			log.InfoContext(ctx, "github webhook: "+msg)
		} else if h.review != nil && reviewedGitHubActions[e.Action] {
			pr := PullRequest{
				Provider: "github", Repo: e.Repository.FullName, Number: e.Number, Action: e.Action,
				HeadSHA: e.PullRequest.Head.SHA, HeadRef: e.PullRequest.Head.Ref,
				BaseRef: e.PullRequest.Base.Ref, BaseSHA: e.PullRequest.Base.SHA,
				Title: e.PullRequest.Title, DeliveryID: delivery,
			}
			if e.PullRequest.Head.Repo != nil {
				pr.CloneURL = e.PullRequest.Head.Repo.CloneURL
			}
			act = func() { h.review.ReviewPullRequest(detached(r), pr) }
			msg = "review queued"
		}
	}
	// Remember the delivery only once it is authentic and well-formed, so that a
	// malformed one can be fixed and redelivered.
	if h.dedup.Add("github:" + delivery) {
		log.WarnContext(ctx, "github webhook: replayed delivery refused")
		reply(w, http.StatusConflict, "delivery already received")
		return OutcomeDuplicate
	}
	if act == nil {
		log.DebugContext(ctx, "github webhook ignored")
		reply(w, http.StatusAccepted, msg)
		return OutcomeIgnored
	}
	act()
	log.InfoContext(ctx, "github webhook accepted", "result", msg)
	reply(w, http.StatusAccepted, msg)
	return OutcomeAccepted
}

// short returns the first 7 characters of a commit id.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// clip bounds an untrusted string before it reaches a log line.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
