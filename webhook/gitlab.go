package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// GitLab's webhook headers (docs.gitlab.com: webhooks, delivery headers). Idempotency-Key
// (GitLab 17.4+) stays the same when GitLab retries a delivery; X-Gitlab-Event-UUID
// identifies the event on older versions.
const (
	HeaderGitLabToken       = "X-Gitlab-Token"
	HeaderGitLabEvent       = "X-Gitlab-Event"
	HeaderGitLabEventUUID   = "X-Gitlab-Event-UUID"
	HeaderIdempotencyKey    = "Idempotency-Key"
	gitlabPushEvent         = "Push Hook"
	gitlabMergeRequestEvent = "Merge Request Hook"
)

// VerifyGitLabToken reports whether header equals token. Both are hashed first and the
// digests compared in constant time, so neither the content nor the length of the token
// leaks through timing. An empty token verifies nothing.
func VerifyGitLabToken(token []byte, header string) bool {
	if len(token) == 0 {
		return false
	}
	want := sha256.Sum256(token)
	got := sha256.Sum256([]byte(header))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1
}

// GitLabProject is the project object of GitLab's payloads.
type GitLabProject struct {
	ID                int64  `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
	GitHTTPURL        string `json:"git_http_url"`
	GitSSHURL         string `json:"git_ssh_url"`
	WebURL            string `json:"web_url"`
}

func (p GitLabProject) urls() []string { return []string{p.GitHTTPURL, p.GitSSHURL, p.WebURL} }

// GitLabPush is the part of a Push Hook payload taskward reads.
type GitLabPush struct {
	ObjectKind   string        `json:"object_kind"`
	Ref          string        `json:"ref"`
	Before       string        `json:"before"`
	After        string        `json:"after"`
	CheckoutSHA  *string       `json:"checkout_sha"` // null when the branch was deleted
	UserUsername string        `json:"user_username"`
	Project      GitLabProject `json:"project"`
}

// GitLabMergeRequest is the part of a Merge Request Hook payload taskward reads.
type GitLabMergeRequest struct {
	ObjectKind string `json:"object_kind"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	Project          GitLabProject `json:"project"`
	ObjectAttributes struct {
		IID          int     `json:"iid"`
		Action       string  `json:"action"`
		Title        string  `json:"title"`
		SourceBranch string  `json:"source_branch"`
		TargetBranch string  `json:"target_branch"`
		OldRev       *string `json:"oldrev"` // set on "update" when commits were pushed
		LastCommit   struct {
			ID string `json:"id"`
		} `json:"last_commit"`
		Source *struct {
			GitHTTPURL string `json:"git_http_url"`
		} `json:"source"`
	} `json:"object_attributes"`
}

// ParseGitLabPush parses a Push Hook payload.
func ParseGitLabPush(body []byte) (*GitLabPush, error) {
	var p GitLabPush
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("push payload: %w", err)
	}
	if p.ObjectKind != "push" {
		return nil, fmt.Errorf("push payload: object_kind %q, want push", p.ObjectKind)
	}
	if !strings.HasPrefix(p.Ref, "refs/") {
		return nil, fmt.Errorf("push payload: ref %q is not a full ref name", p.Ref)
	}
	return &p, nil
}

// ParseGitLabMergeRequest parses a Merge Request Hook payload.
func ParseGitLabMergeRequest(body []byte) (*GitLabMergeRequest, error) {
	var m GitLabMergeRequest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("merge request payload: %w", err)
	}
	a := &m.ObjectAttributes
	switch {
	case m.ObjectKind != "merge_request":
		return nil, fmt.Errorf("merge request payload: object_kind %q, want merge_request", m.ObjectKind)
	case a.IID <= 0:
		return nil, errors.New("merge request payload: no object_attributes.iid")
	case m.Project.ID <= 0 && m.Project.PathWithNamespace == "":
		return nil, errors.New("merge request payload: no project")
	case a.Action != "" && !isHexSHA(a.LastCommit.ID):
		return nil, fmt.Errorf("merge request payload: last_commit.id %q is not a commit id", a.LastCommit.ID)
	}
	return &m, nil
}

// reviewGitLab reports whether a merge request action changes what would be merged: open,
// reopen, and update when commits were pushed (oldrev set; an update without it is an
// edit of the title, labels, ...).
func reviewGitLab(m *GitLabMergeRequest) bool {
	switch m.ObjectAttributes.Action {
	case "open", "reopen":
		return true
	case "update":
		return m.ObjectAttributes.OldRev != nil && *m.ObjectAttributes.OldRev != ""
	}
	return false
}

type gitlabHandler struct {
	token   []byte
	branch  string
	trigger Trigger
	review  Reviewer
	*options
}

// NewGitLabHandler returns the receiver for POST /webhook/gitlab. token is the webhook's
// secret token (see [ReadSecret]); the other arguments are as for [NewGitHubHandler].
func NewGitLabHandler(token []byte, branch string, t Trigger, r Reviewer, opts ...Option) http.Handler {
	return &gitlabHandler{token: append([]byte(nil), token...), branch: branch, trigger: t, review: r, options: newOptions(opts)}
}

func gitlabEventLabel(ev string) string {
	switch ev {
	case gitlabPushEvent:
		return "push"
	case gitlabMergeRequestEvent:
		return "merge_request"
	}
	return "other"
}

func (h *gitlabHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get(HeaderGitLabEvent)
	outcome := h.serve(w, r, event)
	h.count("gitlab", gitlabEventLabel(event), outcome)
}

func (h *gitlabHandler) serve(w http.ResponseWriter, r *http.Request, event string) string {
	ctx := r.Context()
	body, outcome, ok := h.front(w, r, "application/json")
	if !ok {
		h.log.WarnContext(ctx, "gitlab webhook refused", "outcome", outcome, "remote", r.RemoteAddr)
		return outcome
	}
	if !VerifyGitLabToken(h.token, r.Header.Get(HeaderGitLabToken)) {
		h.log.WarnContext(ctx, "gitlab webhook: bad token", "remote", r.RemoteAddr)
		reply(w, http.StatusUnauthorized, "bad token")
		return OutcomeUnauthorized
	}
	delivery := r.Header.Get(HeaderIdempotencyKey)
	if delivery == "" {
		delivery = r.Header.Get(HeaderGitLabEventUUID)
	}
	if len(delivery) > 128 {
		reply(w, http.StatusBadRequest, "delivery id too long")
		return OutcomeBadRequest
	}
	log := h.log.With("delivery", delivery, "event", gitlabEventLabel(event))

	var act func()
	msg := "ignored"
	switch event {
	case gitlabPushEvent:
		p, err := ParseGitLabPush(body)
		if err != nil {
			log.WarnContext(ctx, "gitlab webhook: bad payload", "err", err)
			reply(w, http.StatusBadRequest, "malformed push payload")
			return OutcomeBadRequest
		}
		if !h.repo.matches(p.Project.PathWithNamespace, p.Project.urls()...) {
			msg = ignoredRepo(p.Project.PathWithNamespace, h.repo)
			log.InfoContext(ctx, "gitlab webhook: "+msg)
		} else if h.trigger != nil && p.Ref == "refs/heads/"+h.branch && p.CheckoutSHA != nil {
			reason := fmt.Sprintf("gitlab push %s to %s by %s (delivery %s)", short(p.After), h.branch, clip(p.UserUsername), delivery)
			act = func() { h.trigger.RequestReconcile(reason) }
			msg = "reconcile requested"
		}
	case gitlabMergeRequestEvent:
		// Look at the action first: an action taskward does not review (close, merge,
		// approved, ...) is ignored whatever else its payload holds, so a field taskward
		// would not read cannot turn it into a 400 and a failed delivery.
		var peek struct {
			ObjectAttributes struct {
				Action string  `json:"action"`
				OldRev *string `json:"oldrev"`
			} `json:"object_attributes"`
		}
		if json.Unmarshal(body, &peek) == nil {
			m := &GitLabMergeRequest{}
			m.ObjectAttributes.Action, m.ObjectAttributes.OldRev = peek.ObjectAttributes.Action, peek.ObjectAttributes.OldRev
			if !reviewGitLab(m) {
				break
			}
		}
		m, err := ParseGitLabMergeRequest(body)
		if err != nil {
			log.WarnContext(ctx, "gitlab webhook: bad payload", "err", err)
			reply(w, http.StatusBadRequest, "malformed merge request payload")
			return OutcomeBadRequest
		}
		if !h.repo.matches(m.Project.PathWithNamespace, m.Project.urls()...) {
			msg = ignoredRepo(m.Project.PathWithNamespace, h.repo)
			log.InfoContext(ctx, "gitlab webhook: "+msg)
		} else if h.review != nil && reviewGitLab(m) {
			a := m.ObjectAttributes
			pr := PullRequest{
				Provider: "gitlab", Repo: m.Project.PathWithNamespace, ProjectID: m.Project.ID,
				Number: a.IID, Action: a.Action, HeadSHA: a.LastCommit.ID,
				HeadRef: a.SourceBranch, BaseRef: a.TargetBranch, Title: a.Title, DeliveryID: delivery,
			}
			if a.Source != nil {
				pr.CloneURL = a.Source.GitHTTPURL
			}
			act = func() { h.review.ReviewPullRequest(detached(r), pr) }
			msg = "review queued"
		}
	}
	// GitLab before 17.4 sends no Idempotency-Key and old ones no event UUID either:
	// without an id there is nothing to de-duplicate on.
	if delivery != "" && h.dedup.Add("gitlab:"+delivery) {
		log.WarnContext(ctx, "gitlab webhook: replayed delivery refused")
		reply(w, http.StatusConflict, "delivery already received")
		return OutcomeDuplicate
	}
	if act == nil {
		log.DebugContext(ctx, "gitlab webhook ignored")
		reply(w, http.StatusAccepted, msg)
		return OutcomeIgnored
	}
	act()
	log.InfoContext(ctx, "gitlab webhook accepted", "result", msg)
	reply(w, http.StatusAccepted, msg)
	return OutcomeAccepted
}
