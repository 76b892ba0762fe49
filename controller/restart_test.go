package controller

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/reconcile"
)

// TestRestartKeepsOutOfBandChanges is the measured problem: a restarted
// controller (or --once) without self-heal reverted changes made in ECS behind Git's back,
// because "last applied" lived in memory. Now it is read from ECS's tags: a controller
// applies a commit and moves service web; someone registers a revision by hand and moves
// web to it; a new controller against the same ecslocal reports that and reverts nothing;
// a commit that changes another family still leaves web alone; a commit that changes web
// applies it.
func TestRestartKeepsOutOfBandChanges(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	files := exampleFiles(t)
	remote.push("initial", files)
	src := gitSource(t, "file://"+remote.bare)

	first := New(src, env.ecs)
	if code := first.Once(ctx); code != 0 {
		t.Fatalf("first controller: exit %d %+v", code, first.Status())
	}
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	if _, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	remote.push("web: more cpu", map[string]string{"tasks/web.json": moreCPU(files["tasks/web.json"])})
	first.Reconcile(ctx, "poll")
	if got := serviceRuns(t, env, "web"); got != "web:2" {
		t.Fatalf("the first controller left web on %s, want web:2", got)
	}

	// Behind Git's back: a hand-made revision of web, and the service moved to it.
	hand, err := env.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: types.NetworkModeAwsvpc,
		Cpu: aws.String("256"), Memory: aws.String("512"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx:hotfix")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: hand.TaskDefinition.TaskDefinitionArn}); err != nil {
		t.Fatal(err)
	}

	// A restart: a new controller, nothing in memory, same ECS.
	restarted := New(src, env.ecs)
	if code := restarted.Once(ctx); code != 1 {
		t.Fatalf("restarted --once: exit %d, want 1 (drift reported) %+v", code, restarted.Status())
	}
	if got := serviceRuns(t, env, "web"); got != "web:3" {
		t.Fatalf("the restarted controller moved web to %s: it reverted an out-of-band change", got)
	}
	if n := len(env.revisions(t, "web")); n != 3 {
		t.Fatalf("web has %d revisions, want 3: the restarted controller registered again", n)
	}
	st := restarted.Status()
	web := familyState(st, "web")
	if web.Sync != reconcile.OutOfSync || !strings.Contains(web.Reason, "out-of-band") || !strings.Contains(web.Reason, "web:3") {
		t.Fatalf("web's status %+v, want OutOfSync naming the out-of-band revision", web)
	}
	if !hasDrift(st, reconcile.DriftOutOfSync, "service/default/web") {
		t.Fatalf("drift %+v lacks web out of sync", st.Drift)
	}

	// A commit that changes another family: web is still left alone.
	remote.push("cache: more cpu", map[string]string{"tasks/cache.json": strings.Replace(files["tasks/cache.json"], `"memory": "0.5 GB"`, `"memory": "1 GB"`, 1)})
	restarted.Reconcile(ctx, "poll")
	if st := restarted.Status(); st.Result != reconcile.ResultApplied || len(env.revisions(t, "cache")) != 2 {
		t.Fatalf("cache not applied: %s, %d revisions; %+v", st.Result, len(env.revisions(t, "cache")), st.Families)
	}
	if got := serviceRuns(t, env, "web"); got != "web:3" {
		t.Fatalf("a commit changing cache moved web to %s", got)
	}

	// A commit that changes web: applied, after another restart.
	remote.push("web: new image", map[string]string{"tasks/web.json": strings.Replace(moreCPU(files["tasks/web.json"]), `"memory": "2048"`, `"memory": "3072"`, 1)})
	again := New(src, env.ecs)
	if code := again.Once(ctx); code != 0 {
		t.Fatalf("after the web commit: exit %d %+v", code, again.Status())
	}
	if got := serviceRuns(t, env, "web"); got != "web:4" {
		t.Fatalf("the commit changing web left it on %s, want web:4", got)
	}
}

func serviceRuns(t *testing.T, env *testEnv, name string) string {
	t.Helper()
	out, err := env.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe %s: %v %+v", name, err, out)
	}
	return reconcile.ShortARN(aws.ToString(out.Services[0].TaskDefinition))
}

func familyState(st *Status, family string) FamilyState {
	for _, f := range st.Families {
		if f.Family == family {
			return f
		}
	}
	return FamilyState{}
}

func hasDrift(st *Status, kind reconcile.DriftKind, resourceSuffix string) bool {
	for _, d := range st.Drift {
		if d.Kind == kind && strings.HasSuffix(d.Resource, resourceSuffix) {
			return true
		}
	}
	return false
}
