package controller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/webhook"
)

// recordingPublisher keeps what a review would publish (the GitHub and GitLab publishers
// themselves are tested against fakes of their APIs in package webhook).
type recordingPublisher struct {
	mu      sync.Mutex
	reports map[string]*webhook.Report // by head sha
}

func (p *recordingPublisher) Publish(ctx context.Context, sha string, number int, r *webhook.Report) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reports[sha] = r
	return nil
}

func (p *recordingPublisher) get(sha string) *webhook.Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reports[sha]
}

// TestPullRequestReview: a signed pull_request webhook makes the controller fetch the PR's
// head commit (a branch the controller does not follow), review it against live ECS and
// publish the report; a bad change fails, a good one passes.
func TestPullRequestReview(t *testing.T) {
	env := newTestEnv(t)
	remote := newGitRemote(t)
	base := remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs)
	c.Reconcile(context.Background(), "start")

	pub := &recordingPublisher{reports: map[string]*webhook.Report{}}
	prr, err := c.NewPullRequestReviewer(func(pr webhook.PullRequest) (webhook.Publisher, error) { return pub, nil })
	if err != nil {
		t.Fatal(err)
	}
	q := webhook.NewReviewQueue(1, prr.Review)
	defer q.Close()
	secret := []byte("pr-secret-0123456789")
	c.Handle("/webhook/github", webhook.NewGitHubHandler(secret, "main", c, q))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()

	remote.git(remote.work, "checkout", "-q", "-b", "feature")
	web := exampleFiles(t)["tasks/web.json"]
	bad := remote.pushBranch("feature", "web: privileged", map[string]string{"tasks/web.json": strings.Replace(web, `"essential": true,`, `"essential": true, "privileged": true,`, 1)})

	send := func(sha, delivery string) {
		body := []byte(fmt.Sprintf(`{"action":"synchronize","number":7,"pull_request":{"number":7,"title":"t","head":{"sha":%q,"ref":"feature"},"base":{"sha":%q,"ref":"main"}},"repository":{"full_name":"acme/gitops"}}`, sha, base))
		if code := postGitHub(t, ts.URL, "pull_request", delivery, webhook.SignGitHub(secret, body), body); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d", code)
		}
	}
	wait := func(sha string) *webhook.Report {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if r := pub.get(sha); r != nil {
				return r
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no review published for %s", sha)
		return nil
	}
	send(bad, "pr-1")
	r := wait(bad)
	if !r.Failed() || !strings.Contains(r.Markdown(), "privileged") || !strings.Contains(r.Markdown(), "register") {
		t.Fatalf("bad change: failed=%v\n%s", r.Failed(), r.Markdown())
	}
	// One cluster: one plan, under the heading that names it.
	if len(r.Plans) != 1 || !strings.Contains(r.Markdown(), "\n### Plan against live ECS (cluster `default`)\n\n| Action |") {
		t.Fatalf("one cluster: %+v\n%s", r.Plans, r.Markdown())
	}
	good := remote.pushBranch("feature", "web: unprivileged", map[string]string{"tasks/web.json": web})
	send(good, "pr-2")
	if r := wait(good); r.Failed() {
		t.Fatalf("good change failed:\n%s", r.Markdown())
	}
}

// TestPullRequestReviewPlansEveryCluster: taskward.yaml lists two clusters and only beta
// runs a web service, so the review of a change to web plans a new revision for both and
// moves beta's service only; a third cluster from --clusters that ECS does not have gets
// its error without hiding the other two.
func TestPullRequestReviewPlansEveryCluster(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	if _, err := env.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("beta")}); err != nil {
		t.Fatal(err)
	}
	files := exampleFiles(t)
	files["taskward.yaml"] = strings.Replace(files["taskward.yaml"], "clusters: [default]", "clusters: [default, beta]", 1)
	remote := newGitRemote(t)
	remote.push("initial", files)
	pub := &recordingPublisher{reports: map[string]*webhook.Report{}}
	publishers := func(pr webhook.PullRequest) (webhook.Publisher, error) { return pub, nil }

	c := New(gitSource(t, "file://"+remote.bare), env.ecs)
	c.Reconcile(ctx, "start") // applies main: web:1
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	if _, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("beta"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	remote.git(remote.work, "checkout", "-q", "-b", "feature")
	head := remote.pushBranch("feature", "web: more CPU", map[string]string{"tasks/web.json": moreCPU(files["tasks/web.json"])})
	pr := webhook.PullRequest{Provider: "github", Repo: "acme/gitops", Number: 8, HeadSHA: head, BaseRef: "main"}

	prr, err := c.NewPullRequestReviewer(publishers)
	if err != nil {
		t.Fatal(err)
	}
	prr.Review(ctx, pr)
	r := pub.get(head)
	if r == nil {
		t.Fatal("no review published")
	}
	if len(r.Plans) != 2 || r.Plans[0].Cluster != "default" || r.Plans[1].Cluster != "beta" {
		t.Fatalf("plans: %+v", r.Plans)
	}
	for _, cp := range r.Plans {
		if cp.Err != "" || cp.Plan == nil || len(cp.Plan.Register) != 1 || cp.Plan.Register[0].Family != "web" {
			t.Fatalf("cluster %s: %+v", cp.Cluster, cp)
		}
	}
	if s := r.Plans[0].Plan.Services; len(s) != 0 {
		t.Errorf("default has no service, plan moves %+v", s)
	}
	if s := r.Plans[1].Plan.Services; len(s) != 1 || s[0].Detail != "service web: web:1 → the new revision" {
		t.Errorf("beta: services %+v", s)
	}
	md := r.Markdown()
	if d, b := strings.Index(md, "#### Cluster `default`"), strings.Index(md, "#### Cluster `beta`"); d < 0 || b < d {
		t.Errorf("markdown:\n%s", md)
	}

	// --clusters default,ghost,beta: ghost does not exist in ECS.
	c = New(gitSource(t, "file://"+remote.bare), env.ecs, WithClusters("default", "ghost", "beta"))
	if prr, err = c.NewPullRequestReviewer(publishers); err != nil {
		t.Fatal(err)
	}
	prr.Review(ctx, pr)
	r = pub.get(head)
	if len(r.Plans) != 3 || r.Plans[1].Cluster != "ghost" || !strings.Contains(r.Plans[1].Err, "ClusterNotFoundException") ||
		r.Plans[0].Plan == nil || r.Plans[2].Plan == nil || len(r.Plans[2].Plan.Services) != 1 {
		t.Fatalf("with a missing cluster: %+v\n%s", r.Plans, r.Markdown())
	}
}

// TestPullRequestReviewPlansHeadClusters: main's taskward.yaml lists default and is
// applied; a pull request adds beta. Without --clusters the review plans against the
// head's clusters that the controller manages now (default) and names beta as not
// planned; with --clusters default it plans against default only.
func TestPullRequestReviewPlansHeadClusters(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	if _, err := env.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("beta")}); err != nil {
		t.Fatal(err)
	}
	files := exampleFiles(t)
	remote := newGitRemote(t)
	remote.push("initial", files) // clusters: [default]
	remote.git(remote.work, "checkout", "-q", "-b", "add-beta")
	head := remote.pushBranch("add-beta", "deploy to beta too", map[string]string{
		"taskward.yaml": strings.Replace(files["taskward.yaml"], "clusters: [default]", "clusters: [default, beta]", 1)})
	pr := webhook.PullRequest{Provider: "github", Repo: "acme/gitops", Number: 10, HeadSHA: head, BaseRef: "main"}

	for _, tc := range []struct {
		name string
		opts []Option
		want []string
	}{
		// beta is new in the pull request: the controller does not manage it yet, and a
		// pull request does not choose where the controller's role reads (issue 15).
		{"head's taskward.yaml", nil, []string{"default"}},
		{"--clusters default", []Option{WithClusters("default")}, []string{"default"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := &recordingPublisher{reports: map[string]*webhook.Report{}}
			c := New(gitSource(t, "file://"+remote.bare), env.ecs, tc.opts...)
			c.Reconcile(ctx, "start")
			if st := c.Status(); !st.Ready || st.LastApplied == "" {
				t.Fatalf("main not applied: %+v", st)
			}
			prr, err := c.NewPullRequestReviewer(func(webhook.PullRequest) (webhook.Publisher, error) { return pub, nil })
			if err != nil {
				t.Fatal(err)
			}
			prr.Review(ctx, pr)
			r := pub.get(head)
			if r == nil {
				t.Fatal("no review published")
			}
			var got []string
			for _, cp := range r.Plans {
				got = append(got, cp.Cluster)
				if cp.Err != "" || cp.Plan == nil {
					t.Errorf("cluster %s: %+v", cp.Cluster, cp)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("planned against %v, want %v\n%s", got, tc.want, r.Markdown())
			}
			if tc.opts == nil && !strings.Contains(r.PlanNote, "not planned: beta") {
				t.Fatalf("the new cluster is not named: %q", r.PlanNote)
			}
		})
	}
}

// TestPullRequestReviewShowsPrunes: a pull request that deletes a task file shows the
// family as pruned when the controller prunes (--prune), and not when it does not: the
// review plans what apply would do.
func TestPullRequestReviewShowsPrunes(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	remote.git(remote.work, "checkout", "-q", "-b", "drop-cache")
	remote.git(remote.work, "rm", "-q", "tasks/cache.json")
	head := remote.pushBranch("drop-cache", "drop cache", nil)
	pr := webhook.PullRequest{Provider: "github", Repo: "acme/gitops", Number: 9, HeadSHA: head, BaseRef: "main"}
	for _, prune := range []bool{false, true} {
		pub := &recordingPublisher{reports: map[string]*webhook.Report{}}
		c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithPrune(prune))
		c.Reconcile(ctx, "start") // main: web, cache, twistlock-fargate-task registered
		prr, err := c.NewPullRequestReviewer(func(webhook.PullRequest) (webhook.Publisher, error) { return pub, nil })
		if err != nil {
			t.Fatal(err)
		}
		prr.Review(ctx, pr)
		r := pub.get(head)
		if r == nil || len(r.Plans) != 1 || r.Plans[0].Plan == nil {
			t.Fatalf("prune=%v: review %+v", prune, r)
		}
		var pruned []string
		for _, it := range r.Plans[0].Plan.Prune {
			pruned = append(pruned, it.Family)
		}
		if want := prune; (len(pruned) == 1 && pruned[0] == "cache") != want || (!want && len(pruned) != 0) {
			t.Fatalf("prune=%v: pruned %v; summary %s", prune, pruned, r.Summary())
		}
	}
}
