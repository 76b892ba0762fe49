package controller

import (
	"context"
	"testing"
	"time"

	"net/http/httptest"
	"regexp"
	"strconv"
)

// TestRequestsAreCoalesced: a burst of reconcile requests (pushes) within the debounce
// window makes one reconcile, not one each.
func TestRequestsAreCoalesced(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithPollInterval(time.Hour), WithDebounce(200*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for !c.Status().Ready && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()
	synced := func() float64 {
		m := regexp.MustCompile(`taskward_reconciles_total\{result="synced"\} (\d+)`).FindStringSubmatch(scrapeMetrics(t, ts.URL))
		if m == nil {
			return 0
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		return n
	}
	before := synced()
	for range 10 {
		c.RequestReconcile("push")
	}
	time.Sleep(1500 * time.Millisecond)
	after := synced()
	cancel()
	<-done
	if n := after - before; n < 1 || n > 2 {
		// One for the burst; a second only if a request landed after the first was taken.
		t.Fatalf("10 requests made %v reconciles, want 1 (at most 2)", n)
	}
}

// TestScanOfUnchangedAccountDescribesNothing: revisions are cached by ARN, so a second
// scan of an unchanged account makes no DescribeTaskDefinition call.
func TestScanOfUnchangedAccountDescribesNothing(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs)
	ctx := context.Background()
	c.Reconcile(ctx, "test")
	c.Scan(ctx)
	env.local.Server.ResetStats()
	c.Scan(ctx)
	c.Reconcile(ctx, "poll")
	if n := env.local.Server.Stats()["DescribeTaskDefinition"]; n != 0 {
		t.Fatalf("steady state described %d task definitions", n)
	}
}
