package reconcile

import (
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/taskward/taskward/internal/awsecs"
)

// Reconciler reads live ECS state and applies plans. It caches described revisions by ARN
// (they never change), so one Reconciler should live as long as the process: a
// steady-state reconcile then describes nothing it has seen. It is safe for concurrent use.
type Reconciler struct {
	client      ECS
	cluster     string
	prune       bool
	keepOOB     bool
	retry       bool
	concurrency int
	log         *slog.Logger
	commit      string
	lookup      Lookup
	autoscaling AutoScaling // nil: desiredCount always compared with Git

	cache *revisionCache // shared by the copies ForCommit makes
}

// revisionCache holds described revisions by ARN; they never change.
type revisionCache struct {
	mu sync.Mutex
	m  map[string]*Revision
}

// Option configures a Reconciler.
type Option func(*Reconciler)

// Lookup is how the latest ACTIVE revision of each family is found.
type Lookup int

const (
	// LookupList pages through ListTaskDefinitions (ACTIVE, newest first, 100 a page) and
	// describes only ARNs it has not seen: ceil(active revisions/100) calls in steady state.
	// The default; see hack/bench-reconcile for the measurement behind it.
	LookupList Lookup = iota
	// LookupDescribe calls DescribeTaskDefinition by family name for each desired family:
	// one call per family on every reconcile, whatever the cache holds. Kept for
	// comparison, and for accounts where listing every family is not allowed.
	LookupDescribe
)

// New returns a Reconciler for client, which the caller builds (internal/awsecs.New
// configures retries for throttling).
func New(client ECS, opts ...Option) *Reconciler {
	r := &Reconciler{
		client:      client,
		cluster:     "default",
		concurrency: 8,
		log:         slog.New(slog.DiscardHandler),
		cache:       &revisionCache{m: map[string]*Revision{}},
	}
	if c, ok := client.(*ecs.Client); ok {
		// The same endpoint and credentials as ECS (ecslocal serves both APIs).
		r.autoscaling = awsecs.AutoScalingFor(c)
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// WithAutoScaling sets the Application Auto Scaling client asked which services have a
// scalable target (default: built from an *ecs.Client with internal/awsecs.AutoScalingFor;
// nil turns the lookup off).
func WithAutoScaling(a AutoScaling) Option { return func(r *Reconciler) { r.autoscaling = a } }

// WithPrune lets Plan deregister taskward-managed families that Git no longer has (off by
// default).
func WithPrune(on bool) Option { return func(r *Reconciler) { r.prune = on } }

// WithKeepOutOfBand holds out-of-band changes instead of reverting them (see
// PlanOptions.KeepOutOfBand): the controller without --self-heal.
func WithKeepOutOfBand(on bool) Option { return func(r *Reconciler) { r.keepOOB = on } }

// WithRetry applies again content whose rollout failed (see PlanOptions.Retry).
func WithRetry(on bool) Option { return func(r *Reconciler) { r.retry = on } }

// WithConcurrency bounds the ECS calls in flight (default 8).
func WithConcurrency(n int) Option {
	return func(r *Reconciler) {
		if n > 0 {
			r.concurrency = n
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(r *Reconciler) {
		if l != nil {
			r.log = l
		}
	}
}

// WithCluster sets the cluster whose services are updated (default "default").
func WithCluster(name string) Option {
	return func(r *Reconciler) {
		if name != "" {
			r.cluster = name
		}
	}
}

// WithCommit sets the git commit recorded in the taskward.dev/commit tag.
func WithCommit(sha string) Option { return func(r *Reconciler) { r.commit = sha } }

// WithLatestLookup chooses how the latest revision per family is found (default LookupList).
func WithLatestLookup(l Lookup) Option { return func(r *Reconciler) { r.lookup = l } }

// ForCommit returns a Reconciler like r that records commit in the taskward.dev/commit
// tag and shares r's revision cache: a long-running controller keeps one cache per cluster
// while each apply names its own commit.
func (r *Reconciler) ForCommit(commit string) *Reconciler {
	c := *r
	c.commit = commit
	return &c
}

// Plan runs the pure [Plan] with this Reconciler's options.
func (r *Reconciler) Plan(desired []Desired, live *Live) (*PlanResult, error) {
	return Plan(desired, live, PlanOptions{Prune: r.prune, KeepOutOfBand: r.keepOOB, Retry: r.retry})
}

func (r *Reconciler) cached(arn string) *Revision {
	r.cache.mu.Lock()
	defer r.cache.mu.Unlock()
	return r.cache.m[arn]
}

func (r *Reconciler) remember(rev *Revision) {
	r.cache.mu.Lock()
	defer r.cache.mu.Unlock()
	r.cache.m[rev.ARN] = rev
}
