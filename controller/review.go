package controller

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"

	"github.com/taskward/taskward/internal/scrub"
	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/reconcile"
	"github.com/taskward/taskward/webhook"
)

// Publishers maps a provider ("github", "gitlab") to how a review is reported for a pull
// request of a given repository.
type Publishers func(pr webhook.PullRequest) (webhook.Publisher, error)

// ReviewLimits bound one pull-request review: a pull request is an attacker's input run
// with the controller's credentials. A review that reaches a bound fails and says which.
type ReviewLimits struct {
	// Timeout is the review's wall time, fetch to plan (default 2m).
	Timeout time.Duration
	// FetchBytes bounds the objects fetched for the head commit (default 256 MiB).
	FetchBytes int64
	// Clusters bounds the clusters planned against (default 10).
	Clusters int
	// ECSCalls bounds the ECS API calls of one review (default 500).
	ECSCalls int
	// ImageLookups bounds registry lookups (default 50), each within ImageTimeout
	// (default 10s); at most ImageSlots run at once across all reviews (default 4).
	ImageLookups int
	ImageTimeout time.Duration
	ImageSlots   int
}

func (l ReviewLimits) withDefaults() ReviewLimits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Minute
	}
	if l.FetchBytes <= 0 {
		l.FetchBytes = 256 << 20
	}
	if l.ImageTimeout <= 0 {
		l.ImageTimeout = 10 * time.Second
	}
	def(&l.Clusters, 10)
	def(&l.ECSCalls, 500)
	def(&l.ImageLookups, 50)
	def(&l.ImageSlots, 4)
	return l
}

// PullRequestReviewer reviews pull requests for the webhook receivers. A review reads what
// a merge would apply: the head commit's GitOps directory (--path), rendered as the
// controller renders, planned with its prune setting against the clusters it manages
// (--clusters, else the last applied commit's; clusters a pull request adds are named, not
// planned: a pull request does not choose where the controller's role reads). It is
// bounded (ReviewLimits), looks up images only on the registries the controller's
// configuration uses, and publishes the report.
type PullRequestReviewer struct {
	c       *Controller
	publish Publishers
	lim     ReviewLimits
	slots   chan struct{}
}

// NewPullRequestReviewer returns a reviewer; the controller's source must be a GitSource.
func (c *Controller) NewPullRequestReviewer(p Publishers) (*PullRequestReviewer, error) {
	if _, ok := c.src.(*GitSource); !ok {
		return nil, errors.New("pull-request reviews need a Git source (--repo URL), not a plain directory")
	}
	lim := c.reviewLimits.withDefaults()
	return &PullRequestReviewer{c: c, publish: p, lim: lim, slots: make(chan struct{}, lim.ImageSlots)}, nil
}

// reviewScope is what the controller's own configuration allows a review: the clusters it
// manages and the registries its images come from.
type reviewScope struct {
	clusters   []string
	registries map[string]bool
}

func (c *Controller) reviewScope() reviewScope {
	c.reconcileMu.Lock()
	defer c.reconcileMu.Unlock()
	sc := reviewScope{clusters: append([]string(nil), c.clusterList()...), registries: map[string]bool{}}
	for _, h := range c.reviewRegistries {
		sc.registries[h] = true
	}
	if c.good != nil {
		for _, td := range c.good.repo.Tasks {
			for _, cd := range td.Doc.Get("containerDefinitions").Arr {
				if h := manifests.RegistryOf(cd.Get("image").StringOr("")); h != "" {
					sc.registries[h] = true
				}
			}
		}
	}
	return sc
}

// Review reviews one pull request (called by a webhook.ReviewQueue worker).
func (r *PullRequestReviewer) Review(ctx context.Context, pr webhook.PullRequest) {
	log := r.c.log.With("provider", pr.Provider, "repo", pr.Repo, "number", pr.Number, "head", pr.HeadSHA)
	// The pull request's objects, trees and renders are garbage once published: give the
	// memory back rather than keep the high-water mark of the largest pull request.
	defer debug.FreeOSMemory()
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, r.lim.Timeout)
	defer cancel()
	in := r.prepare(rctx, pr, log)
	in.Head, in.Base = short(pr.HeadSHA), pr.BaseRef
	if errors.Is(rctx.Err(), context.DeadlineExceeded) {
		in.Problems = append(in.Problems, &manifests.Problem{File: "(review)", Msg: fmt.Sprintf("the review stopped at its time bound (%s): it reports what it saw until then", r.lim.Timeout)})
	}
	report := webhook.Review(context.WithoutCancel(rctx), in)
	if ctx.Err() != nil {
		log.Info("review: stopped (shutdown); nothing published")
		return
	}
	pub, err := r.publish(pr)
	if err != nil {
		log.Error("review: no publisher", "error", scrub.Error(err))
		return
	}
	pctx, pcancel := context.WithTimeout(ctx, time.Minute) // the review's own bound may be spent
	defer pcancel()
	if err := pub.Publish(pctx, pr.HeadSHA, pr.Number, report); err != nil {
		log.Error("review: publishing failed", "error", scrub.Error(err))
		return
	}
	log.Info("review published", "failed", report.Failed(), "summary", report.Summary(), "duration", time.Since(start).String())
}

// prepare fetches, loads, renders and plans the head within ctx's bound. What went wrong
// is in the returned input's problems, for the report.
func (r *PullRequestReviewer) prepare(ctx context.Context, pr webhook.PullRequest, log interface {
	Warn(string, ...any)
}) *webhook.ReviewInput {
	g := r.c.src.(*GitSource)
	failed := func(file, msg string) *webhook.ReviewInput {
		return &webhook.ReviewInput{Problems: manifests.Problems{{File: file, Msg: msg}}, PlanNote: "no plan: the review could not read the commit"}
	}
	commit, err := g.Src.ResolveApart(ctx, pr.HeadSHA, r.lim.FetchBytes)
	if err != nil {
		log.Warn("review: cannot fetch the head commit", "error", scrub.Error(err))
		return failed("(fetch)", "the head commit could not be fetched: "+scrub.Error(err))
	}
	fsys, err := g.dir(commit)
	if err != nil {
		return failed(g.Path, fmt.Sprintf("the GitOps directory %q (--path) is not in this commit: moved or removed? Merged, the controller would find nothing to apply there and keep applying the last good commit; move --path with it", g.Path))
	}
	sc := r.c.reviewScope()
	images := manifests.NewGuardedImages(r.c.reviewImages, manifests.GuardOptions{
		Allowed: sc.registries, MaxLookups: r.lim.ImageLookups, Timeout: r.lim.ImageTimeout, Slots: r.slots,
		OnError: func(image string, err error) {
			log.Warn("review: image lookup failed", "image", image, "error", scrub.Error(err))
		},
	})
	var src manifests.ImageSource = images
	if r.c.reviewImages == nil {
		src = nil // overrides only, as the controller's own render without a registry
	}
	// An ECS client of its own, with a call budget: a review must not spend the
	// controller's rate or role at a pull request's will.
	client := ecs.New(r.c.client.Options(), callBudget(r.lim.ECSCalls))
	var skipped []string
	planners := func(clusters []string) []webhook.ClusterPlanner {
		managed := map[string]bool{}
		for _, cl := range sc.clusters {
			managed[cl] = true
		}
		var ps []webhook.ClusterPlanner
		for _, cl := range clusters {
			if !managed[cl] || len(ps) >= r.lim.Clusters {
				skipped = append(skipped, cl)
				continue
			}
			rec := reconcile.New(client, reconcile.WithCluster(cl), reconcile.WithPrune(r.c.prune), reconcile.WithLogger(r.c.log))
			ps = append(ps, webhook.ClusterPlanner{Cluster: cl, Plan: webhook.PlannerFor(rec)})
		}
		return ps
	}
	var opts []webhook.PrepareOption
	if src != nil {
		opts = append(opts, webhook.WithImageSource(src))
	}
	if len(r.c.clusters) > 0 {
		opts = append(opts, webhook.WithPlanners(planners(r.c.clusters)...))
	} else {
		// The head's taskward.yaml says where the merge applies; of those, the clusters
		// the controller manages now are planned.
		opts = append(opts, webhook.WithPlannersFor(planners))
	}
	in := webhook.Prepare(ctx, fsys, opts...)
	if len(skipped) > 0 {
		note := fmt.Sprintf("not planned: %s (a review plans only against the clusters the controller manages now, at most %d)", strings.Join(skipped, ", "), r.lim.Clusters)
		if len(skipped) > 20 {
			note = fmt.Sprintf("not planned: %d clusters, %s, ... (a review plans only against the clusters the controller manages now, at most %d)", len(skipped), strings.Join(skipped[:20], ", "), r.lim.Clusters)
		}
		in.PlanNote = strings.TrimPrefix(in.PlanNote+"; "+note, "; ")
	}
	return in
}

// errCallBudget ends a review that has made its share of ECS calls.
var errCallBudget = errors.New("the review made its share of ECS calls")

// callBudget fails every ECS call after the first n, before it is sent.
func callBudget(n int) func(*ecs.Options) {
	var mu = make(chan struct{}, 1)
	left := n
	return func(o *ecs.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("taskwardReviewCallBudget",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					mu <- struct{}{}
					left--
					over := left < 0
					<-mu
					if over {
						return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("%s: %w (%d)", awsmiddleware.GetOperationName(ctx), errCallBudget, n)
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
