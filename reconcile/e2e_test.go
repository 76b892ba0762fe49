package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/internal/awsecs"
)

// These tests run the real SDK client against ecslocal (STYLE.md rule 3).

type env struct {
	t      *testing.T
	run    *ecslocal.Running
	client *ecs.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	run, err := ecslocal.Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Close() })
	client, err := awsecs.New(t.Context(), awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: run.URL, MaxAttempts: 20, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, run: run, client: client}
}

func (e *env) reconciler(opts ...Option) *Reconciler {
	return New(e.client, append([]Option{WithCommit("0123abc"), WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// def builds a desired EC2 definition; extra is spliced into the container.
func def(t *testing.T, family, image, extra string) Desired {
	return Desired{Family: family, SourcePath: "tasks/" + family + ".json", Definition: mustParse(t, `{"family":"`+family+
		`","containerDefinitions":[{"name":"app","image":"`+image+`","memory":128`+extra+
		`,"portMappings":[{"containerPort":8080,"hostPort":8080}],"environment":[{"name":"Z","value":"1"},{"name":"A","value":"2"}]}]}`)}
}

// fargate is a definition ECS fills with defaults: unit strings, awsvpc host ports, tcp.
func fargate(t *testing.T, family string) Desired {
	return Desired{Family: family, SourcePath: "tasks/" + family + ".json", Definition: mustParse(t, `{"family":"`+family+`",
		"networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"0.25 vCPU","memory":"0.5 GB",
		"containerDefinitions":[{"name":"app","image":"nginx","portMappings":[{"containerPort":80}],
		"healthCheck":{"command":["CMD-SHELL","true"]}},{"name":"log","image":"fluent-bit","essential":false}],
		"tags":[{"key":"team","value":"web"}]}`)}
}

func (e *env) createService(name, taskDef string) {
	e.t.Helper()
	if _, err := e.client.CreateService(e.t.Context(), &ecs.CreateServiceInput{
		Cluster: aws.String("default"), ServiceName: aws.String(name), TaskDefinition: aws.String(taskDef), DesiredCount: aws.Int32(1),
	}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) revisions(family string) []string {
	e.t.Helper()
	out, err := e.client.ListTaskDefinitions(e.t.Context(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family)})
	if err != nil {
		e.t.Fatal(err)
	}
	var arns []string
	for _, a := range out.TaskDefinitionArns {
		if f, _, _ := ParseTaskDefinitionARN(a); f == family {
			arns = append(arns, a)
		}
	}
	return arns
}

func (e *env) serviceTaskDef(name string) string {
	e.t.Helper()
	out, err := e.client.DescribeServices(e.t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("default"), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		e.t.Fatalf("describe service %s: %v", name, err)
	}
	return aws.ToString(out.Services[0].TaskDefinition)
}

func (e *env) registerPlain(family, image string) string {
	e.t.Helper()
	out, err := e.client.RegisterTaskDefinition(e.t.Context(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(128)}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func mustSync(t *testing.T, r *Reconciler, desired []Desired) (*PlanResult, *ApplyResult) {
	t.Helper()
	plan, res, err := r.Sync(t.Context(), desired, false)
	if err != nil {
		t.Fatal(err)
	}
	if res != nil && res.Err() != nil {
		t.Fatal(res.Err())
	}
	return plan, res
}

func mustPlan(t *testing.T, r *Reconciler, desired []Desired) *PlanResult {
	t.Helper()
	plan, _, err := r.Sync(t.Context(), desired, true)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestE2EApplyThenNothingToDo(t *testing.T) {
	e := newEnv(t)
	old := e.registerPlain("web", "nginx:old")
	e.createService("web-svc", old)
	desired := []Desired{def(t, "web", "nginx:1", ""), def(t, "api", "api:1", ""), fargate(t, "edge")}
	r := e.reconciler()

	plan, res := mustSync(t, r, desired)
	if n := plan.Count()[ActionRegister]; n != 3 {
		t.Fatalf("first sync registers %d families, want 3", n)
	}
	if got := e.serviceTaskDef("web-svc"); got != res.Resources[slices.IndexFunc(res.Resources, func(f ResourceResult) bool { return f.Family == "web" })].Registered {
		t.Errorf("web-svc runs %s, not the registered revision", got)
	}

	e.run.Server.ResetStats()
	again := mustPlan(t, r, desired)
	if again.HasChanges() {
		var b strings.Builder
		_ = again.WriteText(&b, false)
		t.Fatalf("after apply the plan still has changes (a perpetual diff):\n%s", b.String())
	}
	if n := e.run.Server.Stats()["DescribeTaskDefinition"]; n != 0 {
		t.Errorf("steady state described %d revisions it had seen", n)
	}
	// A fresh reconciler (empty cache, as after a restart) agrees.
	if mustPlan(t, e.reconciler(), desired).HasChanges() {
		t.Errorf("a fresh reconciler sees changes")
	}
	webRevs := e.revisions("web")
	tags := r.cached(webRevs[len(webRevs)-1]).Tags
	for _, k := range []string{TagManagedBy, TagSource, TagCommit, TagContentHash} {
		if tags[k] == "" {
			t.Errorf("registered revision lacks tag %s: %v", k, tags)
		}
	}
	if tags[TagSource] != "tasks/web.json" || tags[TagCommit] != "0123abc" || tags[TagContentHash] != ContentHash(desired[0].Definition) {
		t.Errorf("tags %v", tags)
	}
}

func TestE2EChangeShowsExactlyIt(t *testing.T) {
	e := newEnv(t)
	r := e.reconciler()
	desired := []Desired{def(t, "web", "nginx:1", ""), fargate(t, "edge")}
	mustSync(t, r, desired)
	desired[0] = def(t, "web", "nginx:2", "")
	plan := mustPlan(t, r, desired)
	var changed []ResourcePlan
	for _, f := range plan.Resources {
		if f.Action != ActionNoop {
			changed = append(changed, f)
		}
	}
	if len(changed) != 1 || changed[0].Family != "web" || changed[0].Action != ActionRegister {
		t.Fatalf("changed families %+v", changed)
	}
	if c := changed[0].Changes; len(c) != 1 || c[0].Path != "containerDefinitions[name=app].image" || c[0].Op != OpReplace ||
		c[0].Desired.Str != "nginx:2" || c[0].Live.Str != "nginx:1" {
		t.Errorf("changes %+v", c)
	}
}

func TestE2EApplyTwiceRegistersOnce(t *testing.T) {
	e := newEnv(t)
	desired := []Desired{def(t, "web", "nginx:1", ""), fargate(t, "edge")}
	mustSync(t, e.reconciler(), desired)
	_, res := mustSync(t, e.reconciler(), desired)
	if res != nil {
		t.Errorf("second apply did something: %+v", res.Resources)
	}
	for _, f := range []string{"web", "edge"} {
		if n := len(e.revisions(f)); n != 1 {
			t.Errorf("%s has %d revisions, want 1", f, n)
		}
	}
}

// TestE2EInterruptedApply fails every UpdateService in the first run (a crash between
// register and update-service), then reruns: the result must equal an uninterrupted run,
// with no extra revision.
func TestE2EInterruptedApply(t *testing.T) {
	e := newEnv(t)
	e.createService("web-svc", e.registerPlain("web", "nginx:old"))
	desired := []Desired{def(t, "web", "nginx:1", "")}

	e.run.Server.SetFaults(ecslocal.Faults{FailOps: map[string]string{"UpdateService": "ServerException"}})
	_, res, err := e.reconciler().Sync(t.Context(), desired, false)
	if err != nil {
		t.Fatal(err)
	}
	var fe *ResourceError
	if !errors.As(res.Err(), &fe) || fe.Op != "update-service" || !fe.Retryable() {
		t.Fatalf("first run error %v, want a retryable update-service FamilyError", res.Err())
	}
	e.run.Server.SetFaults(ecslocal.Faults{})

	plan, res := mustSync(t, e.reconciler(), desired)
	web := plan.Resources[0]
	if web.Action != ActionUpdateService {
		t.Errorf("rerun plans %s, want update-service (the registered revision is reused)", web.Action)
	}
	revs := e.revisions("web")
	if len(revs) != 2 {
		t.Errorf("web has %d revisions, want 2 (old + one registered)", len(revs))
	}
	if got := e.serviceTaskDef("web-svc"); got != revs[len(revs)-1] || res.Resources[0].Registered != got {
		t.Errorf("web-svc runs %s, want %s", got, revs[len(revs)-1])
	}
}

// TestE2EApplyReusesConcurrentRegistration: a plan made before someone else registered the
// same content does not register it again.
func TestE2EApplyReusesConcurrentRegistration(t *testing.T) {
	e := newEnv(t)
	desired := []Desired{def(t, "web", "nginx:1", "")}
	a := e.reconciler()
	stale := mustPlan(t, a, desired)
	mustSync(t, e.reconciler(), desired)
	res, err := a.Apply(t.Context(), stale)
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if !res.Resources[0].Reused || len(e.revisions("web")) != 1 {
		t.Errorf("stale plan registered again: %+v, %d revisions", res.Resources[0], len(e.revisions("web")))
	}
}

func TestE2EOneFamilyFailureDoesNotStopOthers(t *testing.T) {
	e := newEnv(t)
	bad := def(t, "bad", "x", `,"cpu":0`)
	bad.Definition.Set("containerDefinitions", mustParse(t, `[`+strings.Repeat(`{"name":"c","image":"x","memory":128},`, 10)+`{"name":"d","image":"x","memory":128}]`))
	desired := []Desired{def(t, "web", "nginx:1", ""), bad, fargate(t, "edge")}
	_, res, err := e.reconciler().Sync(t.Context(), desired, false)
	if err != nil {
		t.Fatal(err)
	}
	var fe *ResourceError
	if !errors.As(res.Err(), &fe) || fe.Key != (ResourceKey{KindTaskDefinition, "bad"}) || fe.Op != "register" || fe.Retryable() || !strings.Contains(fe.Error(), "tasks/bad.json") {
		t.Fatalf("error %v, want a non-retryable register error for tasks/bad.json", res.Err())
	}
	for _, f := range []string{"web", "edge"} {
		if len(e.revisions(f)) != 1 {
			t.Errorf("%s was not registered", f)
		}
	}
}

func TestE2EPrune(t *testing.T) {
	e := newEnv(t)
	e.registerPlain("theirs", "x") // not managed: never pruned
	mustSync(t, e.reconciler(), []Desired{def(t, "web", "nginx:1", ""), def(t, "gone", "x:1", "")})
	// without prune nothing happens to "gone"
	if p := mustPlan(t, e.reconciler(), []Desired{def(t, "web", "nginx:1", "")}); p.HasChanges() {
		t.Errorf("plan without prune has changes")
	}
	if _, _, err := e.reconciler(WithPrune(true)).Sync(t.Context(), nil, false); !errors.Is(err, ErrPruneEmptyDesired) {
		t.Errorf("prune with nothing desired: %v", err)
	}
	plan, res := mustSync(t, e.reconciler(WithPrune(true)), []Desired{def(t, "web", "nginx:1", "")})
	if plan.Count()[ActionPrune] != 1 || len(res.Resources) != 2 {
		t.Fatalf("plan %+v", plan.Resources)
	}
	out, err := e.client.DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("gone:1")})
	if err != nil || out.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
		t.Errorf("gone:1 not deregistered: %v", err)
	}
	if len(e.revisions("theirs")) != 1 {
		t.Errorf("unmanaged family was pruned")
	}
}

func TestE2EThrottlingConverges(t *testing.T) {
	e := newEnv(t)
	var desired []Desired
	for i := range 20 {
		f := "fam" + itoa(i)
		desired = append(desired, def(t, f, "img:"+itoa(i), ""))
		e.createService(f+"-svc", e.registerPlain(f, "img:old"))
	}
	e.run.Server.SetFaults(ecslocal.Faults{ThrottleFraction: 0.3, Seed: 1})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, res, err := e.reconciler().Sync(ctx, desired, false)
	if err != nil || res.Err() != nil {
		t.Fatalf("sync under throttling: %v %v", err, res.Err())
	}
	if e.run.Server.Stats()["throttled"] == 0 {
		t.Errorf("nothing was throttled")
	}
	if p := mustPlan(t, e.reconciler(), desired); p.HasChanges() {
		t.Errorf("not converged: %v", p.Count())
	}
	e.run.Server.SetFaults(ecslocal.Faults{})
	for i := range 20 {
		f := "fam" + itoa(i)
		if n := len(e.revisions(f)); n != 2 {
			t.Errorf("%s has %d revisions, want 2", f, n)
		}
	}
}
