package controller

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/taskward/taskward/controller/gitsource"
	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/webhook"
)

// Hostile pull requests against a real controller: a local Git origin fetched over a real
// transport, ecslocal, and what the review publishes.

func taskJSON(family, image string, extra string) string {
	return fmt.Sprintf(`{"family":%q,"cpu":"256","memory":"512","containerDefinitions":[{"name":"app","image":%q,"essential":true%s}]}`, family, image, extra)
}

func pathSource(t *testing.T, url, path string) *GitSource {
	gs, err := gitsource.New(gitsource.Options{URL: url, Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	return &GitSource{Src: gs, Name: url, Path: path}
}

func reviewOnce(t *testing.T, c *Controller, head string) *webhook.Report {
	t.Helper()
	pub := &recordingPublisher{reports: map[string]*webhook.Report{}}
	prr, err := c.NewPullRequestReviewer(func(webhook.PullRequest) (webhook.Publisher, error) { return pub, nil })
	if err != nil {
		t.Fatal(err)
	}
	prr.Review(context.Background(), webhook.PullRequest{Provider: "github", Repo: "acme/gitops", Number: 9, HeadSHA: head, BaseRef: "main"})
	r := pub.get(head)
	if r == nil {
		t.Fatal("no review published")
	}
	return r
}

// TestReviewReadsWhatTheMergeApplies: with --path deploy/ecs the review reads deploy/ecs,
// not the repository's top (where it once found nothing and passed while the merge
// applied a privileged task); a pull request that moves the directory fails and says so.
func TestReviewReadsWhatTheMergeApplies(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	const entry = `,"entryPoint":["/app"]`
	remote.push("initial", map[string]string{
		"deploy/ecs/taskward.yaml":  "clusters: [default]\n",
		"deploy/ecs/tasks/web.json": taskJSON("web", "busybox:1.36", entry),
		"README.md":                 "docs\n",
	})
	c := New(pathSource(t, "file://"+remote.bare, "deploy/ecs"), env.ecs)
	c.Reconcile(context.Background(), "start")
	if st := c.Status(); !st.Ready {
		t.Fatalf("main not applied: %+v", st)
	}
	remote.git(remote.work, "checkout", "-q", "-b", "feature")
	bad := remote.pushBranch("feature", "web: privileged; a harmless top-level repo", map[string]string{
		"deploy/ecs/tasks/web.json": taskJSON("web", "busybox:1.36", entry+`,"privileged":true`),
		"taskward.yaml":             "clusters: [default]\n",
		"tasks/decoy.json":          taskJSON("decoy", "busybox:1.36", entry),
	})
	r := reviewOnce(t, c, bad)
	md := r.Markdown()
	if !r.Failed() || !strings.Contains(md, "privileged") || strings.Contains(md, "decoy") || r.Tasks != 1 {
		t.Fatalf("--path deploy/ecs: failed=%v tasks=%d\n%s", r.Failed(), r.Tasks, md)
	}

	remote.git(remote.work, "mv", "deploy/ecs", "deploy/moved")
	moved := remote.pushBranch("feature", "move the GitOps directory", nil)
	r = reviewOnce(t, c, moved)
	if !r.Failed() || !strings.Contains(r.Markdown(), `"deploy/ecs" (--path) is not in this commit`) {
		t.Fatalf("moved directory: failed=%v\n%s", r.Failed(), r.Markdown())
	}
}

// registry is a loopback OCI registry stand-in that records every request; hang makes it
// accept and never answer.
type registry struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string
	hang chan struct{}
}

func newRegistry(t *testing.T, hang bool) *registry {
	r := &registry{}
	if hang {
		r.hang = make(chan struct{})
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.Path+" auth="+req.Header.Get("Authorization"))
		r.mu.Unlock()
		if r.hang != nil {
			select {
			case <-r.hang:
			case <-req.Context().Done():
			}
			return
		}
		http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN"}]}`, http.StatusNotFound)
	}))
	t.Cleanup(func() {
		if r.hang != nil {
			close(r.hang)
		}
		r.srv.Close()
	})
	return r
}

func (r *registry) host() string { return strings.TrimPrefix(r.srv.URL, "http://") }

func (r *registry) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// reviewImages is the review image source the controller command builds.
func reviewImages(allowPrivate ...string) manifests.ImageSource {
	return manifests.NewRegistrySource(manifests.WithInsecureRegistries(allowPrivate...),
		manifests.WithRemoteOptions(remote.WithTransport(manifests.GuardedTransport(allowPrivate))))
}

// TestReviewRegistries: images named only by the pull request are never looked up (the
// registry sees no request, and the comment carries no network error text); a registry the
// applied commit uses but that resolves to loopback is not dialled without
// --review-registry; with it, lookups happen.
func TestReviewRegistries(t *testing.T) {
	env := newTestEnv(t)
	chosen := newRegistry(t, false) // the PR's choice
	base := newRegistry(t, false)   // the applied commit's registry, on loopback
	remote := newGitRemote(t)
	baseImage := "localhost:" + strings.Split(base.host(), ":")[1] + "/app:1"
	remote.push("initial", map[string]string{
		"taskward.yaml":  "clusters: [default]\nimages:\n  " + baseImage + ":\n    entrypoint: [/app]\n",
		"tasks/web.json": taskJSON("web", baseImage, ""),
	})
	remote.git(remote.work, "checkout", "-q", "-b", "feature")
	var files = map[string]string{}
	for i := range 30 {
		files[fmt.Sprintf("tasks/t%02d.json", i)] = taskJSON(fmt.Sprintf("t%02d", i), fmt.Sprintf("%s/scan/port%d:1", chosen.host(), i), "")
	}
	files["tasks/base.json"] = taskJSON("base", strings.Replace(baseImage, "app:1", "other:2", 1), "")
	head := remote.pushBranch("feature", "scan the network", files)

	for _, tc := range []struct {
		name       string
		flag       []string
		baseLookup bool
	}{
		{"no --review-registry", nil, false},
		{"--review-registry for the base's registry", []string{"localhost:" + strings.Split(base.host(), ":")[1]}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithReviewImages(reviewImages(tc.flag...)), WithReviewRegistries(tc.flag...))
			c.Reconcile(context.Background(), "start")
			before := len(base.requests())
			r := reviewOnce(t, c, head)
			md := r.Markdown()
			if n := len(chosen.requests()); n != 0 {
				t.Fatalf("the registry the pull request chose got %d requests: %v", n, chosen.requests())
			}
			if !strings.Contains(md, "not a registry the controller") {
				t.Errorf("the refusal is not explained:\n%s", md)
			}
			if leak := networkText(md); leak != "" {
				t.Errorf("the comment carries network error text %q:\n%s", leak, md)
			}
			got := len(base.requests()) - before
			if tc.baseLookup != (got > 0) {
				t.Errorf("base registry requests: %d (want lookups: %v)", got, tc.baseLookup)
			}
			for _, req := range base.requests() {
				if !strings.HasSuffix(req, "auth=") {
					t.Errorf("credentials sent to a registry: %s", req)
				}
			}
		})
	}
}

// TestReviewHangingRegistry: a registry that accepts and never answers holds a lookup for
// the lookup bound only; another pull request is reviewed meanwhile, and so is the main
// reconcile; closing the queue (SIGTERM) ends a review stuck in it at once.
func TestReviewHangingRegistry(t *testing.T) {
	env := newTestEnv(t)
	hang := newRegistry(t, true)
	remote := newGitRemote(t)
	remote.push("initial", map[string]string{"taskward.yaml": "clusters: [default]\n", "tasks/web.json": taskJSON("web", "busybox:1.36", `,"entryPoint":["/app"]`)})
	remote.git(remote.work, "checkout", "-q", "-b", "slow")
	var slowFiles = map[string]string{}
	for i := range 10 {
		slowFiles[fmt.Sprintf("tasks/s%d.json", i)] = taskJSON(fmt.Sprintf("s%d", i), fmt.Sprintf("%s/img%d:1", hang.host(), i), "")
	}
	slow := remote.pushBranch("slow", "images on a registry that never answers", slowFiles)
	remote.git(remote.work, "checkout", "-q", "-b", "harmless", "main")
	harmless := remote.pushBranch("harmless", "harmless", map[string]string{"tasks/web.json": taskJSON("web", "busybox:1.37", `,"entryPoint":["/app"]`)})

	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithReviewImages(reviewImages(hang.host())), WithReviewRegistries(hang.host()),
		WithReviewLimits(ReviewLimits{ImageTimeout: 300 * time.Millisecond, Timeout: 20 * time.Second, ImageSlots: 1}))
	c.Reconcile(context.Background(), "start")
	pub := &recordingPublisher{reports: map[string]*webhook.Report{}}
	prr, err := c.NewPullRequestReviewer(func(webhook.PullRequest) (webhook.Publisher, error) { return pub, nil })
	if err != nil {
		t.Fatal(err)
	}
	q := webhook.NewReviewQueue(2, prr.Review)
	start := time.Now()
	q.ReviewPullRequest(context.Background(), webhook.PullRequest{Provider: "github", Repo: "a/b", Number: 1, HeadSHA: slow})
	q.ReviewPullRequest(context.Background(), webhook.PullRequest{Provider: "github", Repo: "a/b", Number: 2, HeadSHA: harmless})
	wait := func(sha string, within time.Duration) *webhook.Report {
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			if r := pub.get(sha); r != nil {
				return r
			}
			time.Sleep(10 * time.Millisecond)
		}
		return nil
	}
	if r := wait(harmless, 10*time.Second); r == nil || r.Failed() {
		t.Fatalf("the harmless pull request was not reviewed beside the slow one (%v)", r)
	}
	r := wait(slow, 15*time.Second)
	if r == nil || !r.Failed() || !strings.Contains(r.Markdown(), "no answer from the registry in time") {
		t.Fatalf("the slow review: %v", r)
	}
	t.Logf("both reviewed in %v; slow review: %s", time.Since(start), r.Summary())

	// Shutdown: a review stuck on the registry ends when the queue closes.
	c2 := New(gitSource(t, "file://"+remote.bare), env.ecs, WithReviewImages(reviewImages(hang.host())), WithReviewRegistries(hang.host()),
		WithReviewLimits(ReviewLimits{ImageTimeout: time.Hour, Timeout: time.Hour}))
	c2.Reconcile(context.Background(), "start")
	var reviewing atomic.Bool
	prr2, _ := c2.NewPullRequestReviewer(func(webhook.PullRequest) (webhook.Publisher, error) { return pub, nil })
	q2 := webhook.NewReviewQueue(1, func(ctx context.Context, pr webhook.PullRequest) { reviewing.Store(true); prr2.Review(ctx, pr) })
	q2.ReviewPullRequest(context.Background(), webhook.PullRequest{Provider: "github", Repo: "a/b", Number: 3, HeadSHA: slow})
	for !reviewing.Load() || len(hang.requests()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	// Meanwhile the reconcile loop is not held up by the stuck review (no Git or
	// reconcile lock is kept by a review).
	reconciled := make(chan struct{})
	go func() { c2.Reconcile(context.Background(), "poll"); close(reconciled) }()
	select {
	case <-reconciled:
	case <-time.After(30 * time.Second):
		t.Fatal("a reconcile waits for a review stuck on a registry")
	}
	closed := make(chan struct{})
	go func() { q.Close(); q2.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("closing the review queue (SIGTERM) waits for a registry that never answers")
	}
}

// TestReviewClusterAndCallBounds: a pull request's taskward.yaml listing 3,000 clusters
// plans against the one the controller manages; the others are named, not read.
func TestReviewClusterAndCallBounds(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", map[string]string{"taskward.yaml": "clusters: [default]\n", "tasks/web.json": taskJSON("web", "busybox:1.36", `,"entryPoint":["/app"]`)})
	c := New(gitSource(t, "file://"+remote.bare), env.ecs)
	c.Reconcile(context.Background(), "start")
	remote.git(remote.work, "checkout", "-q", "-b", "many")
	var cl []string
	for i := range 3000 {
		cl = append(cl, fmt.Sprintf("c%04d", i))
	}
	head := remote.pushBranch("many", "3,000 clusters", map[string]string{"taskward.yaml": "clusters: [default, " + strings.Join(cl, ", ") + "]\n"})
	calls := apiCallsTotal(t, c)
	r := reviewOnce(t, c, head)
	made := apiCallsTotal(t, c) - calls
	if len(r.Plans) != 1 || r.Plans[0].Cluster != "default" || !strings.Contains(r.PlanNote, "not planned: 3000 clusters") {
		t.Fatalf("plans %d, note %q", len(r.Plans), r.PlanNote)
	}
	if made > 20 {
		t.Errorf("the review made %v ECS calls", made)
	}
	t.Logf("ECS calls of the review: %v", made)
}

func apiCallsTotal(t *testing.T, c *Controller) float64 {
	mfs, err := c.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if strings.Contains(mf.GetName(), "api_calls") {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// TestReviewMemoryIsReturned: each review fetches into a store of its own, so reviewing
// pull requests of 4 MiB each leaves the controller's heap where it was, and a pull
// request over the fetch bound fails with that reason.
func TestReviewMemoryIsReturned(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", map[string]string{"taskward.yaml": "clusters: [default]\n", "tasks/web.json": taskJSON("web", "busybox:1.36", `,"entryPoint":["/app"]`)})
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithReviewLimits(ReviewLimits{FetchBytes: 64 << 20}))
	c.Reconcile(context.Background(), "start")
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var heads []string
	for i := range 4 {
		remote.git(remote.work, "checkout", "-q", "-b", fmt.Sprintf("big%d", i), "main")
		files := map[string]string{}
		for j := range 4 { // 4 MiB of docs beside the GitOps files (random letters: they do not compress away)
			files[fmt.Sprintf("docs/%d/%d.bin", i, j)] = randomText(1<<20, int64(i*100+j))
		}
		heads = append(heads, remote.pushBranch(fmt.Sprintf("big%d", i), "big", files))
	}
	before := heap()
	for _, h := range heads {
		if r := reviewOnce(t, c, h); r.Failed() {
			t.Fatalf("review failed: %s", r.Markdown())
		}
	}
	after := heap()
	t.Logf("heap before %d MiB, after 4 reviews of 4 MiB pull requests %d MiB", before>>20, after>>20)
	if after > before+6<<20 {
		t.Errorf("the heap grew by %d MiB over 4 reviews: pull requests stay in memory", (after-before)>>20)
	}

	c2 := New(gitSource(t, "file://"+remote.bare), env.ecs, WithReviewLimits(ReviewLimits{FetchBytes: 2 << 20}))
	r := reviewOnce(t, c2, heads[0])
	if !r.Failed() || !strings.Contains(r.Markdown(), "larger than a review fetches") {
		t.Fatalf("over the fetch bound:\n%s", r.Markdown())
	}
}

func randomText(n int, seed int64) string {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // incompressible: Git's packs cannot shrink it
	return string(b)
}

// networkLeaks are the texts of network errors that must never reach a review comment; 404
// only as a number of its own, never inside a registry's port (127.0.0.1:40435).
var networkLeaks = regexp.MustCompile(`connection refused|dial tcp|connect:|no such host|NAME_UNKNOWN|timeout|deadline|(^|[^0-9])404([^0-9]|$)`)

// networkText returns the first network error text in md, or "".
func networkText(md string) string {
	return networkLeaks.FindString(md)
}
