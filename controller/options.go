package controller

import (
	"log/slog"
	"time"

	"github.com/taskward/taskward/manifests"
)

// Option configures a Controller.
type Option func(*Controller)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Controller) { c.log = l } }

// WithPollInterval sets how often the source is polled (default 1m).
func WithPollInterval(d time.Duration) Option { return func(c *Controller) { c.poll = d } }

// WithDriftSchedule sets the drift scan's cron schedule (default every 5 minutes).
func WithDriftSchedule(spec string) Option { return func(c *Controller) { c.driftSpec = spec } }

// WithDebounce sets how long a requested reconcile waits for more requests (default 250ms).
func WithDebounce(d time.Duration) Option { return func(c *Controller) { c.debounce = d } }

// WithSelfHeal puts back out-of-sync services of managed families even without a new
// commit (default off: drift is reported, and Git changes are applied).
func WithSelfHeal(on bool) Option { return func(c *Controller) { c.selfHeal = on } }

// WithRetry applies again content whose rollout failed on a service (held otherwise
// until Git changes the family).
func WithRetry(on bool) Option { return func(c *Controller) { c.retry = on } }

// WithPrune lets apply deregister managed families removed from Git.
func WithPrune(on bool) Option { return func(c *Controller) { c.prune = on } }

// WithClusters overrides the repo's clusters.
func WithClusters(cs ...string) Option { return func(c *Controller) { c.clusters = cs } }

// WithNotifiers adds alert notifiers.
func WithNotifiers(ns ...Notifier) Option {
	return func(c *Controller) { c.notifiers = append(c.notifiers, ns...) }
}

// WithImageSource sets where rendering reads image configs (default: overrides only).
func WithImageSource(s manifests.ImageSource) Option { return func(c *Controller) { c.images = s } }

// WithEventsToken sets the bearer token defenders must present to POST /v1/events; without
// one the endpoint refuses every request.
func WithEventsToken(tok []byte) Option { return func(c *Controller) { c.eventsToken = tok } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(c *Controller) { c.now = now } }

// WithReviewImages sets where pull-request reviews read image configs: a registry source
// whose transport refuses private addresses (manifests.GuardedTransport). Reviews look up
// only registries the base branch's images use and those of WithReviewRegistries. Without
// it, reviews use taskward.yaml overrides only.
func WithReviewImages(s manifests.ImageSource) Option {
	return func(c *Controller) { c.reviewImages = s }
}

// WithReviewRegistries adds registry hosts reviews may look images up on (--review-registry).
func WithReviewRegistries(hosts ...string) Option {
	return func(c *Controller) { c.reviewRegistries = append(c.reviewRegistries, hosts...) }
}

// WithReviewLimits bounds each pull-request review (zero fields keep their defaults).
func WithReviewLimits(l ReviewLimits) Option { return func(c *Controller) { c.reviewLimits = l } }
