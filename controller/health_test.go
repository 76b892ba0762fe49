package controller

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/reconcile"
)

func serviceHealth(st *Status, service string) reconcile.ServiceHealth {
	for _, h := range st.Services {
		if h.Service == service {
			return h
		}
	}
	return reconcile.ServiceHealth{}
}

// TestCircuitBreakerRollbackIsDegradedAndNotReapplied is the other measured
// problem: a revision whose tasks keep failing is rolled back by ECS's circuit breaker,
// and the controller moved the service to it again on every poll. Now the service is
// Degraded, with ECS's reason, the stopped task's exit code and the program the defender
// blocked in it; the revision is not applied again for the same commit, not by a
// restarted controller with --self-heal either; --retry applies it; the next commit that
// changes the family is applied and the service is Healthy again, the alert resolved.
func TestCircuitBreakerRollbackIsDegradedAndNotReapplied(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	files := exampleFiles(t)
	remote.push("initial", files)
	src := gitSource(t, "file://"+remote.bare)
	c := New(src, env.ecs, WithNotifiers(NewWebhookNotifier(env.sinkTS.URL, nil)))
	if code := c.Once(ctx); code != 0 {
		t.Fatalf("first run: exit %d %+v", code, c.Status())
	}
	if _, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(2),
		NetworkConfiguration:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(env.local.URL+"/_ecslocal/faults", "application/json",
		strings.NewReader(`{"taskFailures":[{"taskDefinition":"web:2","exitCode":3,"reason":"Essential container in task exited"}]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("faults: %v %v", err, resp)
	}
	resp.Body.Close()

	remote.push("web: more cpu", map[string]string{"tasks/web.json": moreCPU(files["tasks/web.json"])})
	c.Reconcile(ctx, "poll") // registers web:2 and moves web to it; its tasks fail
	stopped, err := env.ecs.ListTasks(ctx, &ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped})
	if err != nil || len(stopped.TaskArns) == 0 {
		t.Fatalf("no stopped tasks of web:2: %v", err)
	}
	// The defender in one of them blocked a shell and told the controller.
	c.events.take(&DefenderEvent{Action: "blocked", Rule: "shells", Program: "/bin/sh", TaskARN: stopped.TaskArns[0], Family: "web", Container: "web"}, "10.0.0.7")

	updates := func() int64 { return env.local.Server.Stats()["UpdateService"] }
	c.Reconcile(ctx, "poll")
	before := updates()
	for range 3 {
		c.Reconcile(ctx, "poll")
	}
	if n := updates() - before; n != 0 {
		t.Fatalf("%d UpdateService calls after the rollback: the failed revision was applied again", n)
	}
	if got := serviceRuns(t, env, "web"); got != "web:1" {
		t.Fatalf("web runs %s, want web:1 (rolled back)", got)
	}
	st := c.Status()
	h := serviceHealth(st, "web")
	for _, want := range []string{"deployment failed: tasks failed to start", "rolled the service back: it runs web:1", "exit 3", "the defender blocked /bin/sh (rule shells)"} {
		if h.Health != reconcile.Degraded || !strings.Contains(h.Reason, want) {
			t.Fatalf("web's health %s %q, want Degraded naming %q", h.Health, h.Reason, want)
		}
	}
	if f := familyState(st, "web"); f.Sync != reconcile.OutOfSync || !strings.Contains(f.Reason, "rollout") {
		t.Fatalf("web's sync %+v, want OutOfSync held for the failed rollout", f)
	}
	if code := c.Once(ctx); code != 1 {
		t.Fatalf("--once with a Degraded service: exit %d, want 1", code)
	}
	// /status carries it as JSON, and /metrics as taskward_service_health.
	if b, _ := json.Marshal(c.Status()); !strings.Contains(string(b), `"service":"web"`) || !strings.Contains(string(b), `"health":"Degraded","reason":"the rollout taskward started failed`) {
		t.Fatalf("/status JSON lacks web's health: %s", b)
	}
	mfs, err := c.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	degradedMetric := false
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if mf.GetName() == "taskward_service_health" && labels["service"] == "web" && labels["health"] == "Degraded" && m.GetGauge().GetValue() == 1 {
				degradedMetric = true
			}
		}
	}
	if !degradedMetric {
		t.Fatal(`taskward_service_health{service="web",health="Degraded"} is not 1`)
	}

	// A restart with self-heal does not apply it again either (read from ECS).
	before = updates()
	healer := New(src, env.ecs, WithSelfHeal(true))
	healer.Reconcile(ctx, "start")
	if n := updates() - before; n != 0 || serviceHealth(healer.Status(), "web").Health != reconcile.Degraded {
		t.Fatalf("restarted with self-heal: %d UpdateService calls, health %+v", n, serviceHealth(healer.Status(), "web"))
	}
	// --retry does.
	retrier := New(src, env.ecs, WithRetry(true))
	retrier.Reconcile(ctx, "start")
	if n := updates() - before; n != 1 {
		t.Fatalf("--retry: %d UpdateService calls, want 1", n)
	}

	// The next commit that changes web is applied; its tasks run.
	remote.push("web: more memory", map[string]string{"tasks/web.json": strings.Replace(moreCPU(files["tasks/web.json"]), `"memory": "2048"`, `"memory": "3072"`, 1)})
	for range 4 {
		c.Reconcile(ctx, "poll")
	}
	if got, h := serviceRuns(t, env, "web"), serviceHealth(c.Status(), "web"); got != "web:3" || h.Health != reconcile.Healthy {
		t.Fatalf("after the next commit: web runs %s, health %s %q", got, h.Health, h.Reason)
	}
	c.Once(ctx) // delivers the alerts
	var degraded []string
	for _, a := range env.sink.got() {
		if a.Kind == reconcile.AlertDegraded {
			degraded = append(degraded, a.State)
		}
	}
	if strings.Join(degraded, ",") != "firing,resolved" {
		t.Fatalf("degraded alerts %v, want one firing then one resolved", degraded)
	}
}

// TestServiceInGitMissing: a service in Git that ECS does not have (its creation failed)
// is Missing, with the file named; once created it has a health of its own.
func TestServiceInGitMissing(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	files := exampleFiles(t)
	files["services/web.json"] = `{"serviceName": "web", "taskDefinition": "web", "desiredCount": 1,
  "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}}`
	remote.push("initial", files)
	c := New(gitSource(t, "file://"+remote.bare), env.ecs)
	env.local.Server.SetFaults(ecslocal.Faults{FailOps: map[string]string{"CreateService": "ClientException"}})
	c.Reconcile(ctx, "start")
	if h := serviceHealth(c.Status(), "web"); h.Health != reconcile.Missing || !strings.Contains(h.Reason, "services/web.json is in Git, not in cluster default") {
		t.Fatalf("web: %+v, want Missing", h)
	}
	env.local.Server.SetFaults(ecslocal.Faults{})
	c.Reconcile(ctx, "poll")
	if h := serviceHealth(c.Status(), "web"); h.Health != reconcile.Healthy {
		t.Fatalf("web after create: %+v, want Healthy", h)
	}
}
