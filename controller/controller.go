package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/robfig/cron/v3"

	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/reconcile"
)

// Controller keeps ECS equal to Git. Create it with New, then call Run (or Once).
type Controller struct {
	src    Source
	client *ecs.Client
	log    *slog.Logger
	now    func() time.Time

	poll        time.Duration
	driftSpec   string
	debounce    time.Duration
	selfHeal    bool
	retry       bool
	prune       bool
	clusters    []string
	notifiers   []Notifier
	images      manifests.ImageSource
	eventsToken []byte
	extraRoutes []route

	// pull-request reviews (review.go)
	reviewImages     manifests.ImageSource
	reviewRegistries []string
	reviewLimits     ReviewLimits

	metrics  *metrics
	dispatch *dispatcher
	book     *alertBook
	// healthBook fires and resolves the Degraded alerts, from the health phase.
	healthBook *alertBook
	requests   chan string

	// reconcileMu makes reconciles and scans run one at a time.
	reconcileMu sync.Mutex
	recs        map[string]*reconcile.Reconciler // by cluster: each caches revisions by ARN

	// last good state, guarded by reconcileMu
	good *desiredState

	mu     sync.Mutex // guards status
	status Status
	events *eventIntake
}

// desiredState is what a good commit renders to.
type desiredState struct {
	snapshot *Snapshot
	repo     *manifests.Repo
	desired  []reconcile.Desired
	drift    *reconcile.DriftClassifier
}

// New returns a controller reading src and applying to ECS through client (an *ecs.Client:
// reconcile needs the SDK's raw response bodies).
func New(src Source, client *ecs.Client, opts ...Option) *Controller {
	c := &Controller{
		src:        src,
		log:        slog.New(slog.DiscardHandler),
		now:        time.Now,
		poll:       time.Minute,
		driftSpec:  "*/5 * * * *",
		debounce:   250 * time.Millisecond,
		metrics:    newMetrics(),
		book:       newAlertBook(),
		healthBook: newAlertBook(),
		requests:   make(chan string, 1),
		recs:       map[string]*reconcile.Reconciler{},
	}
	for _, o := range opts {
		o(c)
	}
	c.client = ecs.New(client.Options(), c.metrics.countCalls())
	c.dispatch = newDispatcher(c.notifiers, c.log, c.metrics)
	c.status.Source = src.String()
	c.events = newEventIntake(c)
	return c
}

// RequestReconcile asks for a reconcile soon. Requests within the debounce window are
// coalesced into one; it never blocks. The webhook receiver calls it on a push.
func (c *Controller) RequestReconcile(reason string) {
	select {
	case c.requests <- reason:
	default: // one is already pending: this request is covered by it
	}
}

// Status returns a copy of the current status.
func (c *Controller) Status() *Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status.clone()
}

// Run reconciles on start, on every poll tick and on requests, scans for drift on the cron
// schedule, and delivers alerts, until ctx ends. A reconcile in progress when ctx ends
// finishes its current phase first.
func (c *Controller) Run(ctx context.Context) error {
	sched, err := cron.ParseStandard(c.driftSpec)
	if err != nil {
		return fmt.Errorf("drift schedule %q: %w", c.driftSpec, err)
	}
	go c.dispatch.run(ctx)

	scans := make(chan struct{}, 1)
	cr := cron.New()
	cr.Schedule(sched, cron.FuncJob(func() {
		select {
		case scans <- struct{}{}:
		default:
		}
	}))
	cr.Start()
	defer cr.Stop()
	nextScan := func() { c.setStatus(func(s *Status) { s.NextScan = sched.Next(c.now()) }) }
	nextScan()

	c.Reconcile(ctx, "start")
	c.Scan(ctx)
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			c.reconcileAndScan(ctx, "poll")
		case reason := <-c.requests:
			// Debounce: wait a little for more pushes, then reconcile once.
			t := time.NewTimer(c.debounce)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			select {
			case <-c.requests: // coalesced
			default:
			}
			// Asked for (a push, POST /v1/reconcile, SIGHUP): the scan follows too, so
			// what the asker changed shows at once.
			c.Reconcile(ctx, reason)
			c.Scan(ctx)
		case <-scans:
			c.Scan(ctx)
			nextScan()
		}
	}
}

// reconcileAndScan reconciles, then scans at once when the reconcile changed what the
// scan compares against (an apply) or found a commit that does not load: drift must not
// wait for the next cron tick, up to 5 minutes, to show what changed.
func (c *Controller) reconcileAndScan(ctx context.Context, reason string) {
	c.Reconcile(ctx, reason)
	switch c.Status().Result {
	case reconcile.ResultApplied, reconcile.ResultBrokenCommit:
		c.Scan(ctx)
	}
}

// Once runs one reconcile and one drift scan, waits (up to a deadline) for the alerts to
// be delivered, and returns the diff exit code: 0 synced or applied, 1 drift or pending
// changes remain, 2 error.
func (c *Controller) Once(ctx context.Context) int {
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.dispatch.run(dctx); close(done) }()
	c.Reconcile(ctx, "once")
	c.Scan(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.dispatch.mu.Lock()
		n := len(c.dispatch.pending)
		c.dispatch.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	st := c.Status()
	switch {
	case st.Result == reconcile.ResultFailed || st.Result == reconcile.ResultBrokenCommit || st.SourceError != "" || len(st.ScanErrors) > 0:
		return 2
	case len(st.Drift) > 0 || st.Result == reconcile.ResultOutOfSync || st.Degraded() > 0:
		return 1
	}
	return 0
}

// reconciler returns the cluster's Reconciler, created once so its revision cache lives as
// long as the controller.
func (c *Controller) reconciler(cluster, commit string) *reconcile.Reconciler {
	r, ok := c.recs[cluster]
	if !ok {
		r = reconcile.New(c.client, reconcile.WithCluster(cluster), reconcile.WithPrune(c.prune), reconcile.WithLogger(c.log),
			reconcile.WithKeepOutOfBand(!c.selfHeal), reconcile.WithRetry(c.retry))
		c.recs[cluster] = r
	}
	// The commit tag must name the commit being applied; a cheap copy carries it while
	// sharing the cache.
	return r.ForCommit(commit)
}

// Clusters returns the clusters the controller manages and scans.
func (c *Controller) Clusters() []string {
	c.reconcileMu.Lock()
	defer c.reconcileMu.Unlock()
	return append([]string(nil), c.clusterList()...)
}

func (c *Controller) clusterList() []string {
	if len(c.clusters) > 0 {
		return c.clusters
	}
	if c.good != nil && len(c.good.repo.Config.Clusters) > 0 {
		return c.good.repo.Config.Clusters
	}
	return []string{"default"}
}

func (c *Controller) setStatus(f func(s *Status)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.status)
}

var errStop = errors.New("stop")
