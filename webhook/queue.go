package webhook

import (
	"context"
	"sync"
)

// ReviewQueue is a [Reviewer] that returns at once and runs reviews on a few workers. It
// coalesces by pull request: pushes to a PR while its review waits replace the waiting one
// (only the newest head is reviewed), and one PR never has two reviews running at once, so
// two publishers cannot race to create the PR's comment twice.
type ReviewQueue struct {
	fn func(context.Context, PullRequest)

	mu      sync.Mutex
	cond    *sync.Cond
	waiting map[string]queued // by PullRequest.Key
	order   []string          // keys in arrival order; each at most once
	running map[string]bool
	closed  bool
	wg      sync.WaitGroup
	// stop cancels the contexts of running reviews: Close (SIGTERM) ends them instead
	// of waiting for a registry that never answers.
	stopCtx context.Context
	stop    context.CancelFunc
}

type queued struct {
	ctx context.Context
	pr  PullRequest
}

var _ Reviewer = (*ReviewQueue)(nil)

// NewReviewQueue starts workers (at least 1) that call fn for each queued review.
func NewReviewQueue(workers int, fn func(context.Context, PullRequest)) *ReviewQueue {
	q := &ReviewQueue{fn: fn, waiting: map[string]queued{}, running: map[string]bool{}}
	q.stopCtx, q.stop = context.WithCancel(context.Background())
	q.cond = sync.NewCond(&q.mu)
	if workers < 1 {
		workers = 1
	}
	for range workers {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// ReviewPullRequest queues pr, replacing a review of the same PR that has not started.
func (q *ReviewQueue) ReviewPullRequest(ctx context.Context, pr PullRequest) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	k := pr.Key()
	if _, ok := q.waiting[k]; !ok {
		q.order = append(q.order, k)
	}
	q.waiting[k] = queued{ctx: ctx, pr: pr}
	q.cond.Signal()
}

// Close stops taking reviews, cancels the context of running ones (a review then returns
// without publishing), drops waiting ones, and returns when the workers are gone.
func (q *ReviewQueue) Close() {
	q.stop()
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	q.wg.Wait()
}

// next returns the first waiting review whose PR is not running, blocking until there is
// one; ok is false once the queue is closed.
func (q *ReviewQueue) next() (k string, item queued, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.closed {
			return "", queued{}, false
		}
		for i, key := range q.order {
			if q.running[key] {
				continue
			}
			item = q.waiting[key]
			delete(q.waiting, key)
			q.order = append(q.order[:i:i], q.order[i+1:]...)
			q.running[key] = true
			return key, item, true
		}
		q.cond.Wait()
	}
}

func (q *ReviewQueue) work() {
	defer q.wg.Done()
	for {
		k, item, ok := q.next()
		if !ok {
			return
		}
		ctx, cancel := context.WithCancel(item.ctx)
		stop := context.AfterFunc(q.stopCtx, cancel)
		q.fn(ctx, item.pr)
		stop()
		cancel()
		q.mu.Lock()
		delete(q.running, k)
		q.cond.Broadcast() // a review of the same PR may be waiting for this one
		q.mu.Unlock()
	}
}
