package reconcile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/internal/awsecs"
)

// TestAutoScaledDesiredCount: a service in Git with desiredCount 2 and an Application
// Auto Scaling scalable target, scaled to 5 out of band (as its policies would): the plan
// shows no desiredCount change and says why, apply leaves 5, drift reports nothing. Once
// the target is deregistered, Git's 2 is applied again.
func TestAutoScaledDesiredCount(t *testing.T) {
	e := newEnv(t)
	dir := exampleRepo(t, map[string]string{"services/web.json": webService})
	rec := e.reconciler()
	if _, res, err := rec.Sync(t.Context(), prepared(t, dir), false); err != nil || res.Err() != nil {
		t.Fatalf("first sync: %v %v", err, res.Err())
	}
	aas := awsecs.AutoScalingFor(e.client)
	target := &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/default/web"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(10)}
	if _, err := aas.RegisterScalableTarget(t.Context(), target); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateService(t.Context(), &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	desiredCount := func() int32 {
		t.Helper()
		out, err := e.client.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe web: %v %+v", err, out)
		}
		return out.Services[0].DesiredCount
	}
	drift := func() []string { t.Helper(); return webDrift(t, rec, dir) }

	plan, _, err := rec.Sync(t.Context(), prepared(t, dir), false)
	var text strings.Builder
	plan.WriteText(&text, false)
	a := serviceAction(plan, "web")
	if err != nil || plan.HasChanges() || a == nil || len(a.Changes) != 0 || !strings.Contains(text.String(), NoteAutoScaled) {
		t.Fatalf("plan with a scalable target: %v\n%s", err, text.String())
	}
	if n := desiredCount(); n != 5 {
		t.Fatalf("apply reset desiredCount to %d, want the autoscaled 5", n)
	}
	if d := drift(); len(d) != 0 {
		t.Fatalf("drift with a scalable target: %v", d)
	}

	// One DescribeScalableTargets per cluster scan.
	e.run.Server.ResetStats()
	if d := drift(); len(d) != 0 || e.run.Server.Stats()["DescribeScalableTargets"] != 1 {
		t.Fatalf("drift %v with %d DescribeScalableTargets calls, want none with 1", d, e.run.Server.Stats()["DescribeScalableTargets"])
	}

	// Without the permission: today's behaviour (Git's desiredCount), with a warning in
	// the plan; the sync does not fail.
	// The same from an endpoint that does not serve Application Auto Scaling.
	for _, typ := range []string{"AccessDeniedException", "UnknownOperationException"} {
		e.run.Server.SetFaults(ecslocal.Faults{FailOps: map[string]string{"DescribeScalableTargets": typ}})
		plan, _, err = rec.Sync(t.Context(), prepared(t, dir), true)
		text.Reset()
		plan.WriteText(&text, false)
		if a := serviceAction(plan, "web"); err != nil || a.Action != ActionUpdate || changePaths(a.Changes) != "desiredCount" ||
			!strings.Contains(text.String(), "warning: cannot tell whether Application Auto Scaling owns desiredCount") {
			t.Fatalf("plan with DescribeScalableTargets failing with %s: %v\n%s", typ, err, text.String())
		}
	}
	e.run.Server.SetFaults(ecslocal.Faults{})

	if _, err := aas.DeregisterScalableTarget(t.Context(), &applicationautoscaling.DeregisterScalableTargetInput{ServiceNamespace: target.ServiceNamespace,
		ResourceId: target.ResourceId, ScalableDimension: target.ScalableDimension}); err != nil {
		t.Fatal(err)
	}
	if d := drift(); len(d) != 1 || !strings.Contains(d[0], "desiredCount") {
		t.Fatalf("drift without the target: %v", d)
	}
	plan, _, err = rec.Sync(t.Context(), prepared(t, dir), false)
	if a := serviceAction(plan, "web"); err != nil || a.Action != ActionUpdate || changePaths(a.Changes) != "desiredCount" {
		t.Fatalf("plan without the target: %v %+v", err, a)
	}
	if n := desiredCount(); n != 2 {
		t.Fatalf("desiredCount %d after apply without the target, want Git's 2", n)
	}
}

// TestAutoScaledBatches: DescribeScalableTargets takes at most 50 resource IDs (ecslocal
// rejects more, as the API does): a cluster of 60 services is asked in two calls, and a
// target in the second batch is found.
func TestAutoScaledBatches(t *testing.T) {
	e := newEnv(t)
	if _, err := e.client.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("nginx:1.27"), Memory: aws.Int32(128)}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := e.client.CreateService(t.Context(), &ecs.CreateServiceInput{ServiceName: aws.String(fmt.Sprintf("s%02d", i)),
			TaskDefinition: aws.String("app"), DesiredCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := awsecs.AutoScalingFor(e.client).RegisterScalableTarget(t.Context(), &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/default/s55"),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	e.run.Server.ResetStats()
	services, err := e.reconciler().Services(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var scaled []string
	for _, s := range services {
		if s.AutoScaled {
			scaled = append(scaled, s.Name)
		}
	}
	if len(services) != 60 || fmt.Sprint(scaled) != "[s55]" || e.run.Server.Stats()["DescribeScalableTargets"] != 2 {
		t.Fatalf("%d services, autoscaled %v, %d DescribeScalableTargets calls; want 60, [s55], 2", len(services), scaled, e.run.Server.Stats()["DescribeScalableTargets"])
	}
}
