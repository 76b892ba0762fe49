package webhook

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestReviewQueueCoalescesAndSerializesPerPR(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var ran []string
	running := map[string]int{}
	q := NewReviewQueue(2, func(_ context.Context, pr PullRequest) {
		mu.Lock()
		running[pr.Key()]++
		if running[pr.Key()] > 1 {
			t.Errorf("two reviews of %s at once", pr.Key())
		}
		mu.Unlock()
		if pr.HeadSHA == "a1" {
			<-release // hold the first review while more pushes arrive
		}
		mu.Lock()
		running[pr.Key()]--
		ran = append(ran, pr.HeadSHA)
		mu.Unlock()
	})
	pr := PullRequest{Provider: "github", Repo: "acme/deploy", Number: 1}
	at := func(sha string) PullRequest { p := pr; p.HeadSHA = sha; return p }
	q.ReviewPullRequest(context.Background(), at("a1"))
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return running[pr.Key()] == 1 })
	// Three pushes while a1 runs: only the newest (a4) is reviewed after it.
	q.ReviewPullRequest(context.Background(), at("a2"))
	q.ReviewPullRequest(context.Background(), at("a3"))
	q.ReviewPullRequest(context.Background(), at("a4"))
	other := PullRequest{Provider: "github", Repo: "acme/deploy", Number: 2, HeadSHA: "b1"}
	q.ReviewPullRequest(context.Background(), other)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) == 1 && ran[0] == "b1" })
	close(release)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) == 3 })
	q.Close()
	if ran[1] != "a1" || ran[2] != "a4" {
		t.Fatalf("ran %v, want [b1 a1 a4]", ran)
	}
	q.ReviewPullRequest(context.Background(), at("a5")) // after Close: dropped, no panic
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
