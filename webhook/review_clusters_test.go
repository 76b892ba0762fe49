package webhook

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/internal/ecstest"
	"github.com/taskward/taskward/reconcile"
)

// newECS starts an ecslocal with the given clusters and returns a real SDK client for it.
func newECS(t *testing.T, clusters ...string) *ecs.Client {
	t.Helper()
	return ecstest.Start(t, clusters...).Client
}

// planners plans against each cluster with a reconciler of its own, as the controller does.
func planners(client *ecs.Client, clusters ...string) PrepareOption {
	var ps []ClusterPlanner
	for _, c := range clusters {
		ps = append(ps, ClusterPlanner{Cluster: c, Plan: PlannerFor(reconcile.New(client, reconcile.WithCluster(c)))})
	}
	return WithPlanners(ps...)
}

// applyRepo applies what edits of the example repo render to, with cluster's services.
func applyRepo(t *testing.T, client *ecs.Client, cluster string, edits map[string]func(string) string) {
	t.Helper()
	prep := reconcile.Prepare(context.Background(), exampleRepo(t, edits), nil)
	if prep.Err() != nil {
		t.Fatalf("example does not render: %v", prep.Err())
	}
	if _, _, err := reconcile.New(client, reconcile.WithCluster(cluster)).Sync(context.Background(), prep.Desired, false); err != nil {
		t.Fatal(err)
	}
}

func moreCPU(web string) string {
	return strings.NewReplacer(`"cpu": "512"`, `"cpu": "1024"`, `"memory": "1024"`, `"memory": "2048"`).Replace(web)
}

// TestReviewPlansEveryCluster: cluster beta lags behind alpha (its web service still runs
// web:1, alpha's was moved to web:2), so the review of the commit that made web:2 plans
// nothing for alpha and a service update for beta, each under its own heading, in order.
func TestReviewPlansEveryCluster(t *testing.T) {
	ctx := context.Background()
	client := newECS(t, "alpha", "beta")
	applyRepo(t, client, "alpha", nil)
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	for _, c := range []string{"alpha", "beta"} {
		if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(c), ServiceName: aws.String("web"),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
			t.Fatal(err)
		}
	}
	edits := map[string]func(string) string{"tasks/web.json": moreCPU}
	applyRepo(t, client, "alpha", edits) // registers web:2 and moves alpha's service to it

	rep := Review(ctx, Prepare(ctx, exampleRepo(t, edits), planners(client, "alpha", "beta")))
	if len(rep.Plans) != 2 || rep.Plans[0].Cluster != "alpha" || rep.Plans[1].Cluster != "beta" {
		t.Fatalf("plans %+v", rep.Plans)
	}
	alpha, beta := rep.Plans[0], rep.Plans[1]
	if alpha.Err != "" || beta.Err != "" {
		t.Fatalf("errors: %q, %q", alpha.Err, beta.Err)
	}
	if p := alpha.Plan; len(p.Register)+len(p.Services)+len(p.Prune) != 0 || p.Unchanged != 3 {
		t.Errorf("alpha runs the commit already, plan %+v", p)
	}
	if p := beta.Plan; len(p.Register) != 0 || len(p.Prune) != 0 || len(p.Services) != 1 || p.Services[0].Detail != "service web: web:1 → web:2" {
		t.Errorf("beta plan %+v", p)
	}
	md := rep.Markdown()
	a := strings.Index(md, "#### Cluster `alpha`\n\nNo changes: 3 families unchanged.\n")
	b := strings.Index(md, "#### Cluster `beta`\n\n| Action | Family | Source | Detail |\n| --- | --- | --- | --- |\n| update service | `web` | `tasks/web.json` | service web: web:1 → web:2 |\n")
	if a < 0 || b < a || !strings.Contains(md, "### Plan against live ECS\n\n#### Cluster `alpha`") {
		t.Errorf("markdown:\n%s", md)
	}
	if s := rep.Summary(); !strings.HasSuffix(s, "; plan (2 clusters): 0 register, 1 service updates, 0 prune") {
		t.Errorf("summary %q", s)
	}
}

// TestReviewOneClusterFails: a cluster that does not exist (ClusterNotFoundException from
// ECS) gets its error, and the cluster after it is still planned.
func TestReviewOneClusterFails(t *testing.T) {
	ctx := context.Background()
	client := newECS(t, "alpha")
	rep := Review(ctx, Prepare(ctx, exampleRepo(t, map[string]func(string) string{"tasks/web.json": badWeb}), planners(client, "ghost", "alpha")))
	if len(rep.Plans) != 2 {
		t.Fatalf("plans %+v", rep.Plans)
	}
	ghost, alpha := rep.Plans[0], rep.Plans[1]
	if ghost.Cluster != "ghost" || ghost.Plan != nil || !strings.Contains(ghost.Err, "ClusterNotFoundException") {
		t.Errorf("ghost %+v", ghost)
	}
	if alpha.Cluster != "alpha" || alpha.Err != "" || alpha.Plan == nil || len(alpha.Plan.Register) != 3 {
		t.Fatalf("alpha %+v", alpha)
	}
	md := rep.Markdown()
	if !strings.Contains(md, "#### Cluster `ghost`\n\nNo plan: live ECS could not be read: ") ||
		!strings.Contains(md, "#### Cluster `alpha`\n\n| Action | Family | Source | Detail |\n") {
		t.Errorf("markdown:\n%s", md)
	}
	if rep.PlanErrors() != 1 || !strings.HasSuffix(rep.Summary(), "; plan (1 of 2 clusters, 1 ECS error): 3 register, 0 service updates, 0 prune") {
		t.Errorf("%d plan errors, summary %q", rep.PlanErrors(), rep.Summary())
	}
}

// TestReviewScrubsEveryCluster: each cluster's error goes through the scrubber, whichever
// plan it is in, and with one cluster the heading names it as it always did.
func TestReviewScrubsEveryCluster(t *testing.T) {
	ctx := context.Background()
	head := exampleRepo(t, map[string]func(string) string{"tasks/web.json": badWeb})
	fail := func(msg string) Planner {
		return func(context.Context, []reconcile.Desired) (*reconcile.PlanResult, error) { return nil, errors.New(msg) }
	}
	ok := func(context.Context, []reconcile.Desired) (*reconcile.PlanResult, error) {
		return &reconcile.PlanResult{}, nil
	}
	in := Prepare(ctx, head, WithPlanners(
		ClusterPlanner{Cluster: "a", Plan: fail("list services: Post https://deploy:s3cr3tpw@proxy.internal/: timeout")},
		ClusterPlanner{Cluster: "b", Plan: ok},
		ClusterPlanner{Cluster: "c", Plan: fail("describe task definition: key AKIAIOSFODNN7EXAMPLE refused")},
		ClusterPlanner{Cluster: "d", Plan: fail("echoed " + badSecret)},
	))
	rep := Review(ctx, in)
	md := rep.Markdown()
	for _, leak := range []string{"s3cr3tpw", "AKIAIOSFODNN7EXAMPLE", badSecret} {
		if strings.Contains(md, leak) || strings.Contains(rep.Summary(), leak) {
			t.Errorf("report leaks %q:\n%s", leak, md)
		}
	}
	if n := strings.Count(md, Redacted); n != 3 {
		t.Errorf("%d redactions, want 3:\n%s", n, md)
	}
	if !strings.Contains(md, "#### Cluster `b`\n\nNo changes: 0 families unchanged.\n") || rep.PlanErrors() != 3 {
		t.Errorf("cluster b's plan is hidden by the others' errors:\n%s", md)
	}

	one := Review(ctx, Prepare(ctx, head, WithPlanners(ClusterPlanner{Cluster: "prod", Plan: ok})))
	if md := one.Markdown(); !strings.Contains(md, "\n### Plan against live ECS (cluster `prod`)\n\nNo changes:") || strings.Contains(md, "####") {
		t.Errorf("one cluster:\n%s", md)
	}
	if s := one.Summary(); !strings.HasSuffix(s, "; plan: 0 register, 0 service updates, 0 prune") {
		t.Errorf("one cluster: summary %q", s)
	}
}

// TestPrepareWithPlannersFor: the planners come from the commit's own taskward.yaml, or its
// default ("default") when it lists none, after any fixed planners; nothing
// is asked for when a task file is broken.
func TestPrepareWithPlannersFor(t *testing.T) {
	ctx := context.Background()
	clusters := func(line string) func(string) string {
		return func(old string) string { return strings.Replace(old, "clusters: [default]", line, 1) }
	}
	for _, tc := range []struct {
		name  string
		edits map[string]func(string) string
		want  []string // clusters f is called with; nil: not called
		plans string
	}{
		{"two clusters", map[string]func(string) string{"taskward.yaml": clusters("clusters: [prod, beta]")}, []string{"prod", "beta"}, "fixed,prod,beta"},
		{"no clusters line", map[string]func(string) string{"taskward.yaml": clusters("")}, []string{"default"}, "fixed,default"},
		{"empty list", map[string]func(string) string{"taskward.yaml": clusters("clusters: []")}, []string{"default"}, "fixed,default"},
		{"broken task file", map[string]func(string) string{"taskward.yaml": clusters("clusters: [prod]"), "tasks/web.json": func(string) string { return "{" }}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			ok := func(context.Context, []reconcile.Desired) (*reconcile.PlanResult, error) {
				return &reconcile.PlanResult{}, nil
			}
			in := Prepare(ctx, exampleRepo(t, tc.edits),
				WithPlanners(ClusterPlanner{Cluster: "fixed", Plan: ok}),
				WithPlannersFor(func(cs []string) []ClusterPlanner {
					got = cs
					var ps []ClusterPlanner
					for _, c := range cs {
						ps = append(ps, ClusterPlanner{Cluster: c, Plan: ok})
					}
					return ps
				}))
			var plans []string
			for _, cp := range in.Plans {
				plans = append(plans, cp.Cluster)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || (got == nil) != (tc.want == nil) || strings.Join(plans, ",") != tc.plans {
				t.Fatalf("f called with %v, plans %v; want %v, plans %s (problems %v)", got, plans, tc.want, tc.plans, in.Problems)
			}
		})
	}
}
