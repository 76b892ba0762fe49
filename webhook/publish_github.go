package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// GitHub REST API constants (docs.github.com/rest: "Getting started", API versions).
const (
	DefaultGitHubAPI  = "https://api.github.com"
	GitHubAPIVersion  = "2022-11-28"
	githubMediaType   = "application/vnd.github+json"
	githubCommentPage = 100 // per_page maximum
)

// GitHubPublisher posts reviews to GitHub or GitHub Enterprise Server.
type GitHubPublisher struct {
	// BaseURL is the REST API root: https://api.github.com (default), or
	// https://HOST/api/v3 for GitHub Enterprise Server.
	BaseURL string
	// Token is a fine-grained or classic token, or an installation token, with
	// "Commit statuses: write" and "Pull requests: write" (or "repo").
	Token       string
	Owner, Repo string
	// TargetURL is linked from the status (optional), e.g. the controller's status page.
	TargetURL string
	// Author is the login the token writes comments as, for a token that cannot read
	// GET /user (a GitHub App installation token: "APP-SLUG[bot]"). Empty: asked from
	// GET /user. The review comment is the one with the marker written by this author:
	// anyone can post the marker first.
	Author string
	// Client overrides the default retrying client (NewHTTPClient).
	Client *retryablehttp.Client
	Logger *slog.Logger
}

var _ Publisher = (*GitHubPublisher)(nil)

type githubComment struct {
	ID   int64      `json:"id"`
	Body string     `json:"body"`
	User githubUser `json:"user"`
}

type githubUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
}

// self returns who the token is: GET /user ("Get the authenticated user"), or Author.
func (p *GitHubPublisher) self(ctx context.Context, api *apiClient) (githubUser, error) {
	if p.Author != "" {
		return githubUser{Login: p.Author}, nil
	}
	var u githubUser
	if _, err := api.do(ctx, http.MethodGet, api.url("user"), nil, &u); err != nil {
		return u, fmt.Errorf("github: who is the token (GET /user; set the publisher's author login for an App installation token): %w", err)
	}
	if u.ID == 0 && u.Login == "" {
		return u, errors.New("github: GET /user named nobody")
	}
	return u, nil
}

func (u githubUser) wrote(c githubComment) bool {
	if u.ID != 0 {
		return c.User.ID == u.ID
	}
	return strings.EqualFold(c.User.Login, u.Login)
}

func (p *GitHubPublisher) client() (*apiClient, error) {
	if p.Token == "" {
		return nil, errors.New("github publisher: no token")
	}
	if p.Owner == "" || p.Repo == "" {
		return nil, errors.New("github publisher: owner and repo are required")
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+p.Token)
	h.Set("Accept", githubMediaType)
	h.Set("X-GitHub-Api-Version", GitHubAPIVersion)
	return newAPIClient(p.BaseURL, DefaultGitHubAPI, h, p.Client, p.Logger)
}

// Publish sets the taskward/review status on sha (success or failure, the one-line summary
// as description) and creates or updates the review comment on pull request number.
func (p *GitHubPublisher) Publish(ctx context.Context, sha string, number int, r *Report) error {
	if !isHexSHA(sha) {
		return fmt.Errorf("github publisher: %q is not a commit id", sha)
	}
	api, err := p.client()
	if err != nil {
		return err
	}
	state := "success"
	if r.Failed() {
		state = "failure"
	}
	status := map[string]string{"state": state, "context": StatusContext, "description": r.Summary()}
	if p.TargetURL != "" {
		status["target_url"] = p.TargetURL
	}
	if _, err := api.do(ctx, http.MethodPost, api.url("repos", p.Owner, p.Repo, "statuses", sha), status, nil); err != nil {
		return fmt.Errorf("github: set status: %w", err)
	}
	me, err := p.self(ctx, api)
	if err != nil {
		return err
	}
	id, err := p.findComment(ctx, api, number, me)
	if err != nil {
		return err
	}
	body := map[string]string{"body": r.MarkdownMax(MaxCommentBytes)}
	if id != 0 {
		_, err = api.do(ctx, http.MethodPatch, api.url("repos", p.Owner, p.Repo, "issues", "comments", strconv.FormatInt(id, 10)), body, nil)
	} else {
		_, err = api.do(ctx, http.MethodPost, api.url("repos", p.Owner, p.Repo, "issues", strconv.Itoa(number), "comments"), body, nil)
	}
	if err != nil {
		return fmt.Errorf("github: write comment: %w", err)
	}
	return nil
}

// findComment pages through the pull request's comments (oldest first) and returns the
// id of the first that carries the marker and that me wrote, or 0.
func (p *GitHubPublisher) findComment(ctx context.Context, api *apiClient, number int, me githubUser) (int64, error) {
	next := api.url("repos", p.Owner, p.Repo, "issues", strconv.Itoa(number), "comments") + "?per_page=" + strconv.Itoa(githubCommentPage)
	for page := 0; next != "" && page < maxPages; page++ {
		var cs []githubComment
		h, err := api.do(ctx, http.MethodGet, next, nil, &cs)
		if err != nil {
			return 0, fmt.Errorf("github: list comments: %w", err)
		}
		for _, c := range cs {
			if strings.HasPrefix(c.Body, CommentMarker) && me.wrote(c) {
				return c.ID, nil
			}
		}
		next = nextLink(h)
		if next != "" && !api.sameOrigin(next) {
			return 0, fmt.Errorf("github: list comments: next page link leaves the API host: %s", redact(next))
		}
	}
	return 0, nil
}
