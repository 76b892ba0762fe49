package controller

import (
	"context"
	"errors"

	"github.com/taskward/taskward/reconcile"
	"github.com/taskward/taskward/webhook"
)

// Publishers maps a provider ("github", "gitlab") to how a review is reported for a pull
// request of a given repository.
type Publishers func(pr webhook.PullRequest) (webhook.Publisher, error)

// PullRequestReviewer reviews pull requests for the webhook receivers: it resolves the
// head commit through the controller's Git source, loads and renders it, plans it against
// the live state of the clusters its merge would be applied to (--clusters, else the
// head's taskward.yaml's), and publishes the report.
type PullRequestReviewer struct {
	c       *Controller
	publish Publishers
}

// NewPullRequestReviewer returns a reviewer; the controller's source must be a GitSource.
func (c *Controller) NewPullRequestReviewer(p Publishers) (*PullRequestReviewer, error) {
	if _, ok := c.src.(*GitSource); !ok {
		return nil, errors.New("pull-request reviews need a Git source (--repo URL), not a plain directory")
	}
	return &PullRequestReviewer{c: c, publish: p}, nil
}

// Review reviews one pull request (called by a webhook.ReviewQueue worker).
func (r *PullRequestReviewer) Review(ctx context.Context, pr webhook.PullRequest) {
	log := r.c.log.With("provider", pr.Provider, "repo", pr.Repo, "number", pr.Number, "head", pr.HeadSHA)
	commit, err := r.c.src.(*GitSource).Src.Resolve(ctx, pr.HeadSHA)
	if err != nil {
		log.Error("review: cannot fetch the head commit", "error", err.Error())
		return
	}
	planners := func(clusters []string) []webhook.ClusterPlanner {
		var ps []webhook.ClusterPlanner
		for _, cl := range clusters {
			// A reconciler of its own: the controller's (c.recs) belong to the reconcile
			// loop. With the controller's prune setting, so that the plan shows what apply
			// would deregister.
			rec := reconcile.New(r.c.client, reconcile.WithCluster(cl), reconcile.WithPrune(r.c.prune), reconcile.WithLogger(r.c.log))
			ps = append(ps, webhook.ClusterPlanner{Cluster: cl, Plan: webhook.PlannerFor(rec)})
		}
		return ps
	}
	opts := []webhook.PrepareOption{webhook.WithImageSource(r.c.images)}
	if len(r.c.clusters) > 0 {
		// --clusters: the controller applies to these whatever taskward.yaml says. (Set
		// by New's options only, so read without the reconcile lock.)
		opts = append(opts, webhook.WithPlanners(planners(r.c.clusters)...))
	} else {
		// The head's own taskward.yaml, not the controller's clusterList: that is the last
		// applied commit's, and after the merge the controller applies to the head's.
		opts = append(opts, webhook.WithPlannersFor(planners))
	}
	in := webhook.Prepare(ctx, commit.FS, opts...)
	in.Head, in.Base = short(pr.HeadSHA), pr.BaseRef
	report := webhook.Review(ctx, in)
	pub, err := r.publish(pr)
	if err != nil {
		log.Error("review: no publisher", "error", err.Error())
		return
	}
	if err := pub.Publish(ctx, pr.HeadSHA, pr.Number, report); err != nil {
		log.Error("review: publishing failed", "error", err.Error())
		return
	}
	log.Info("review published", "failed", report.Failed(), "summary", report.Summary())
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
