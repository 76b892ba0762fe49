package reconcile

import (
	"log/slog"
	"sync"
)

// Reconciler reads live ECS state and applies plans. It caches described revisions by ARN
// (they never change), so one Reconciler should live as long as the process: a
// steady-state reconcile then describes nothing it has seen. It is safe for concurrent use.
type Reconciler struct {
	client      ECS
	cluster     string
	prune       bool
	concurrency int
	log         *slog.Logger
	commit      string
	lookup      Lookup

	mu    sync.Mutex
	cache map[string]*Revision // by ARN
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
		cache:       map[string]*Revision{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// WithPrune lets Plan deregister taskward-managed families that Git no longer has (off by
// default).
func WithPrune(on bool) Option { return func(r *Reconciler) { r.prune = on } }

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

// Plan runs the pure [Plan] with this Reconciler's options.
func (r *Reconciler) Plan(desired []Desired, live *Live) (*PlanResult, error) {
	return Plan(desired, live, PlanOptions{Prune: r.prune})
}

func (r *Reconciler) cached(arn string) *Revision {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cache[arn]
}

func (r *Reconciler) remember(rev *Revision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cache[rev.ARN] = rev
}
