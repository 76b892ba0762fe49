package reconcile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// exampleRepo copies examples/gitops to a temporary directory and adds files.
func exampleRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir("../examples/gitops", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../examples/gitops", p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, files)
	return dir
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if body == "" {
			os.Remove(p)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func prepared(t *testing.T, dir string) []Desired {
	t.Helper()
	p := PrepareDir(t.Context(), dir, nil)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	return p.Desired
}

func serviceAction(p *PlanResult, name string) *ResourcePlan {
	return p.Resource(ResourceKey{Kind: KindService, Name: name})
}

// webDrift is what the drift scan reports out of sync for service web of cluster default,
// with the repo in dir.
func webDrift(t *testing.T, rec *Reconciler, dir string) []string {
	t.Helper()
	p := PrepareDir(t.Context(), dir, nil)
	work, err := rec.Workloads(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range NewDriftClassifier(p.Repo.Config, "c1", p.Desired).Classify("default", work) {
		if f.Kind == DriftOutOfSync && strings.HasSuffix(f.Resource, "service/default/web") {
			out = append(out, f.Detail)
		}
	}
	return out
}

const webService = `{
  "serviceName": "web",
  "taskDefinition": "web",
  "desiredCount": 2,
  "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-b", "subnet-a"]}},
  "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}}
}`

// TestServicesInGit: a service in services/ is created in ECS running its family's
// revision, diffs clean right after (ECS's defaults are not a diff), is updated when a
// field UpdateService takes changes, is reported as needing a replacement (and left alone)
// when one it cannot change does, is not fought over when the file leaves desiredCount
// out, and is deleted only with prune once Git drops it.
func TestServicesInGit(t *testing.T) {
	e := newEnv(t)
	dir := exampleRepo(t, map[string]string{"services/web.json": webService})
	rec := e.reconciler()
	plan, res, err := rec.Sync(t.Context(), prepared(t, dir), false)
	if err != nil || res.Err() != nil {
		t.Fatalf("first sync: %v %v", err, res.Err())
	}
	if a := serviceAction(plan, "web"); a == nil || a.Action != ActionCreate {
		t.Fatalf("plan %+v, want create service web", a)
	}
	out, err := e.client.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 || out.Services[0].RunningCount != 2 || !strings.HasSuffix(aws.ToString(out.Services[0].TaskDefinition), "task-definition/web:1") {
		t.Fatalf("service web after create: %v %+v", err, out)
	}

	clean := func(when string) {
		t.Helper()
		plan, _, err := rec.Sync(t.Context(), prepared(t, dir), true)
		if err != nil || plan.HasChanges() {
			var b strings.Builder
			plan.WriteText(&b, false)
			t.Fatalf("%s: not clean: %v\n%s", when, err, b.String())
		}
	}
	clean("right after create")

	// The drift scan compares the service with its file too.
	drift := func() []string { t.Helper(); return webDrift(t, rec, dir) }
	if d := drift(); len(d) != 0 {
		t.Fatalf("drift right after create: %v", d)
	}
	if _, err := e.client.UpdateService(t.Context(), &ecs.UpdateServiceInput{Service: aws.String("web"),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(150)}}); err != nil {
		t.Fatal(err)
	}
	if d := drift(); len(d) != 1 || !strings.Contains(d[0], "deploymentConfiguration differ from services/web.json in Git") {
		t.Fatalf("drift after an out-of-band change: %v", d)
	}
	// Without self-heal (the controller's default) it is reported, not reverted.
	plan, res, err = e.reconciler(WithKeepOutOfBand(true)).Sync(t.Context(), prepared(t, dir), false)
	if a := serviceAction(plan, "web"); err != nil || a.Hold == "" || !strings.Contains(a.Hold, "out-of-band change of deploymentConfiguration") || res != nil || len(drift()) != 1 {
		t.Fatalf("kept out-of-band change: %v %+v %+v", err, a, res)
	}
	if _, _, err := rec.Sync(t.Context(), prepared(t, dir), false); err != nil || len(drift()) != 0 {
		t.Fatalf("apply did not put the service back: %v %v", err, drift())
	}

	writeFiles(t, dir, map[string]string{"services/web.json": strings.Replace(webService, `"desiredCount": 2`, `"desiredCount": 3, "enableExecuteCommand": true`, 1)})
	plan, res, err = rec.Sync(t.Context(), prepared(t, dir), false)
	if a := serviceAction(plan, "web"); err != nil || a.Action != ActionUpdate || len(a.Changes) != 2 || res.Err() != nil {
		t.Fatalf("update: %v %+v %v", err, a, res.Err())
	}
	clean("right after update")

	// launchType cannot be changed by UpdateService.
	writeFiles(t, dir, map[string]string{"services/web.json": strings.Replace(webService, `"desiredCount": 2`, `"desiredCount": 3, "enableExecuteCommand": true, "launchType": "FARGATE"`, 1)})
	plan, _, err = rec.Sync(t.Context(), prepared(t, dir), false)
	if a := serviceAction(plan, "web"); err != nil || a.Action != ActionReplace || !strings.Contains(a.Hold, "launchType cannot be changed in place") {
		t.Fatalf("replace: %v %+v", err, a)
	}

	// No desiredCount in Git: someone else (Application Auto Scaling) owns it.
	writeFiles(t, dir, map[string]string{"services/web.json": strings.Replace(webService, `"desiredCount": 2,`, `"enableExecuteCommand": true,`, 1)})
	if _, err := e.client.UpdateService(t.Context(), &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	clean("desiredCount left to autoscaling")

	// Git drops it: kept without prune, deleted with it.
	writeFiles(t, dir, map[string]string{"services/web.json": ""})
	clean("removed without prune")
	plan, res, err = e.reconciler(WithPrune(true)).Sync(t.Context(), prepared(t, dir), false)
	if a := serviceAction(plan, "web"); err != nil || a == nil || a.Action != ActionDelete || res.Err() != nil {
		t.Fatalf("prune: %v %+v %v", err, a, res)
	}
	out, err = e.client.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 || aws.ToString(out.Services[0].Status) != "INACTIVE" {
		t.Fatalf("after prune: %v %+v", err, out.Services)
	}
}
