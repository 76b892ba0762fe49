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

// DefaultGitLabAPI is GitLab.com's REST API root.
const DefaultGitLabAPI = "https://gitlab.com/api/v4"

// GitLabPublisher posts reviews to GitLab.com or a self-managed GitLab.
type GitLabPublisher struct {
	// BaseURL is the REST API root including /api/v4 (default https://gitlab.com/api/v4).
	BaseURL string
	// Token is a project, group or personal access token with the api scope, sent as
	// PRIVATE-TOKEN.
	Token string
	// ProjectID is the numeric project id or its path ("platform/deploy").
	ProjectID string
	TargetURL string
	Client    *retryablehttp.Client
	Logger    *slog.Logger
}

var _ Publisher = (*GitLabPublisher)(nil)

type gitlabNote struct {
	ID     int64      `json:"id"`
	Body   string     `json:"body"`
	System bool       `json:"system"`
	Author gitlabUser `json:"author"`
}

type gitlabUser struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

func (p *GitLabPublisher) client() (*apiClient, error) {
	if p.Token == "" {
		return nil, errors.New("gitlab publisher: no token")
	}
	if p.ProjectID == "" {
		return nil, errors.New("gitlab publisher: project id is required")
	}
	h := http.Header{}
	h.Set("PRIVATE-TOKEN", p.Token)
	h.Set("Accept", "application/json")
	return newAPIClient(p.BaseURL, DefaultGitLabAPI, h, p.Client, p.Logger)
}

// Publish sets the taskward/review commit status on sha (success or failed) and creates
// or updates the review note on merge request iid number.
func (p *GitLabPublisher) Publish(ctx context.Context, sha string, number int, r *Report) error {
	if !isHexSHA(sha) {
		return fmt.Errorf("gitlab publisher: %q is not a commit id", sha)
	}
	api, err := p.client()
	if err != nil {
		return err
	}
	state := "success"
	if r.Failed() {
		state = "failed"
	}
	status := map[string]string{"state": state, "name": StatusContext, "description": r.Summary()}
	if p.TargetURL != "" {
		status["target_url"] = p.TargetURL
	}
	if _, err := api.do(ctx, http.MethodPost, api.url("projects", p.ProjectID, "statuses", sha), status, nil); err != nil {
		return fmt.Errorf("gitlab: set status: %w", err)
	}
	// Who the token is (GET /user, which project and group access tokens' bot users can
	// read too): the review note is the one with the marker written by this user, since
	// anyone can post the marker first.
	var me gitlabUser
	if _, err := api.do(ctx, http.MethodGet, api.url("user"), nil, &me); err != nil {
		return fmt.Errorf("gitlab: who is the token (GET /user): %w", err)
	}
	if me.ID == 0 {
		return errors.New("gitlab: GET /user named nobody")
	}
	notes := api.url("projects", p.ProjectID, "merge_requests", strconv.Itoa(number), "notes")
	id, err := p.findNote(ctx, api, notes, me.ID)
	if err != nil {
		return err
	}
	body := map[string]string{"body": r.MarkdownMax(MaxCommentBytes)}
	if id != 0 {
		_, err = api.do(ctx, http.MethodPut, notes+"/"+strconv.FormatInt(id, 10), body, nil)
	} else {
		_, err = api.do(ctx, http.MethodPost, notes, body, nil)
	}
	if err != nil {
		return fmt.Errorf("gitlab: write note: %w", err)
	}
	return nil
}

// findNote pages through the merge request's notes (X-Next-Page, or a Link rel=next) and
// returns the id of the oldest non-system note that carries the marker and that user
// author wrote, or 0.
func (p *GitLabPublisher) findNote(ctx context.Context, api *apiClient, notes string, author int64) (int64, error) {
	var found int64
	next := notes + "?sort=asc&order_by=created_at&per_page=100"
	for page := 0; next != "" && page < maxPages; page++ {
		var ns []gitlabNote
		h, err := api.do(ctx, http.MethodGet, next, nil, &ns)
		if err != nil {
			return 0, fmt.Errorf("gitlab: list notes: %w", err)
		}
		for _, n := range ns {
			if !n.System && strings.HasPrefix(n.Body, CommentMarker) && n.Author.ID == author {
				return n.ID, nil
			}
		}
		switch np := h.Get("X-Next-Page"); {
		case np != "":
			if _, err := strconv.Atoi(np); err != nil {
				return 0, fmt.Errorf("gitlab: list notes: bad X-Next-Page %q", clip(np))
			}
			next = notes + "?sort=asc&order_by=created_at&per_page=100&page=" + np
		default:
			next = nextLink(h)
			if next != "" && !api.sameOrigin(next) {
				return 0, fmt.Errorf("gitlab: list notes: next page link leaves the API host: %s", redact(next))
			}
		}
	}
	return found, nil
}
