package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/taskward/taskward/controller"
	"github.com/taskward/taskward/webhook"
)

// webhookFlags configure the push and pull-request webhooks the controller serves. Every
// secret comes from a file or an environment variable.
type webhookFlags struct {
	reviewRegistries   []string
	branch             string
	githubSecretFile   string
	gitlabTokenFile    string
	githubTokenFile    string
	gitlabAPITokenFile string
	githubAPI          string
	githubAuthor       string
	gitlabAPI          string
	statusURL          string
	webhookRepo        string
}

func (w *webhookFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&w.branch, "webhook-branch", "", "branch whose pushes trigger a reconcile (default: --ref, or main)")
	fs.StringVar(&w.githubSecretFile, "github-webhook-secret-file", "", "`FILE` with the GitHub webhook secret (or env TASKWARD_GITHUB_WEBHOOK_SECRET); enables POST /webhook/github")
	fs.StringVar(&w.gitlabTokenFile, "gitlab-webhook-token-file", "", "`FILE` with the GitLab webhook secret token (or env TASKWARD_GITLAB_WEBHOOK_TOKEN); enables POST /webhook/gitlab")
	fs.StringVar(&w.githubTokenFile, "github-token-file", "", "`FILE` with a GitHub token for review statuses and comments (or env TASKWARD_GITHUB_TOKEN)")
	fs.StringVar(&w.gitlabAPITokenFile, "gitlab-token-file", "", "`FILE` with a GitLab token (api scope) for review statuses and notes (or env TASKWARD_GITLAB_TOKEN)")
	fs.StringSliceVar(&w.reviewRegistries, "review-registry", nil, "registry `HOST[:PORT]` pull-request reviews may look images up on, besides those the applied commit's images use; the only way to let reviews reach a loopback, private or link-local address")
	fs.StringVar(&w.githubAuthor, "github-comment-author", "", "`LOGIN` the GitHub token comments as, for a GitHub App installation token, which cannot read GET /user (APP-SLUG[bot]); default: asked from GET /user")
	fs.StringVar(&w.githubAPI, "github-api-url", "https://api.github.com", "GitHub REST API `URL` (https://HOST/api/v3 for GitHub Enterprise Server)")
	fs.StringVar(&w.gitlabAPI, "gitlab-api-url", "https://gitlab.com/api/v4", "GitLab REST API `URL` (https://HOST/api/v4 for self-managed GitLab)")
	fs.StringVar(&w.statusURL, "status-url", "", "public `URL` of the controller's status page, linked from review statuses")
	fs.StringVar(&w.webhookRepo, "webhook-repo", "", "the hosted repository whose webhook events to act on, as `OWNER/NAME` or a Git URL (default: --repo; required when --repo is local)")
}

// mountWebhooks mounts the receivers that have a secret configured. Pushes to the watched
// branch trigger a reconcile; pull requests are reviewed when a token to publish with is
// configured, and otherwise only logged.
func (f *controllerFlags) mountWebhooks(c *controller.Controller, log *slog.Logger) (close func(), err error) {
	w := &f.webhookFlags
	branch := w.branch
	if branch == "" {
		branch = strings.TrimPrefix(f.ref, "refs/heads/")
	}
	if branch == "" {
		branch = "main"
	}
	ghSecret, err := secret(w.githubSecretFile, "TASKWARD_GITHUB_WEBHOOK_SECRET")
	if err != nil {
		return nil, err
	}
	glSecret, err := secret(w.gitlabTokenFile, "TASKWARD_GITLAB_WEBHOOK_TOKEN")
	if err != nil {
		return nil, err
	}
	if ghSecret == "" && glSecret == "" {
		return func() {}, nil
	}
	// An organisation or group hook delivers every repository's events: act only on the
	// followed repository's.
	followed := w.webhookRepo
	if followed == "" {
		followed = f.gitFlags.repo
	}
	repo, err := webhook.ParseRepository(followed)
	if _, serr := os.Stat(followed); err == nil && serr == nil {
		err = fmt.Errorf("--repo %s is a local directory, which names no hosted repository", followed)
	}
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w; pass --webhook-repo OWNER/NAME (or its Git URL), the repository whose events to act on", err)
	}
	ghToken, err := secret(w.githubTokenFile, "TASKWARD_GITHUB_TOKEN")
	if err != nil {
		return nil, err
	}
	glToken, err := secret(w.gitlabAPITokenFile, "TASKWARD_GITLAB_TOKEN")
	if err != nil {
		return nil, err
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "taskward_webhook_requests_total", Help: "Webhook deliveries, by provider, event and outcome.",
	}, []string{"provider", "event", "outcome"})
	c.Registerer().MustRegister(requests)
	opts := []webhook.Option{webhook.WithLogger(log), webhook.WithMetrics(func(p, e, o string) { requests.WithLabelValues(p, e, o).Inc() }),
		webhook.WithRepository(repo)}

	var reviewer webhook.Reviewer = logOnlyReviewer{log}
	queue := (*webhook.ReviewQueue)(nil)
	if ghToken != "" || glToken != "" {
		prr, err := c.NewPullRequestReviewer(func(pr webhook.PullRequest) (webhook.Publisher, error) {
			switch pr.Provider {
			case "github":
				owner, repo, ok := strings.Cut(pr.Repo, "/")
				if !ok || ghToken == "" {
					return nil, fmt.Errorf("no GitHub token, or repository %q is not owner/name", pr.Repo)
				}
				return &webhook.GitHubPublisher{BaseURL: w.githubAPI, Token: ghToken, Owner: owner, Repo: repo, TargetURL: w.statusURL, Author: w.githubAuthor, Logger: log}, nil
			case "gitlab":
				if glToken == "" {
					return nil, fmt.Errorf("no GitLab token")
				}
				id := pr.Repo
				if pr.ProjectID != 0 {
					id = fmt.Sprint(pr.ProjectID)
				}
				return &webhook.GitLabPublisher{BaseURL: w.gitlabAPI, Token: glToken, ProjectID: id, TargetURL: w.statusURL, Logger: log}, nil
			}
			return nil, fmt.Errorf("unknown provider %q", pr.Provider)
		})
		if err != nil {
			return nil, err
		}
		queue = webhook.NewReviewQueue(2, prr.Review)
		reviewer = queue
	}
	if ghSecret != "" {
		c.Handle("/webhook/github", webhook.NewGitHubHandler([]byte(ghSecret), branch, c, reviewer, opts...))
	}
	if glSecret != "" {
		c.Handle("/webhook/gitlab", webhook.NewGitLabHandler([]byte(glSecret), branch, c, reviewer, opts...))
	}
	return func() {
		if queue != nil {
			queue.Close()
		}
	}, nil
}

// logOnlyReviewer records pull-request events when no token to publish reviews is set.
type logOnlyReviewer struct{ log *slog.Logger }

func (l logOnlyReviewer) ReviewPullRequest(ctx context.Context, pr webhook.PullRequest) {
	l.log.Info("pull request event (no review token configured, not reviewed)", "provider", pr.Provider, "repo", pr.Repo, "number", pr.Number)
}
