package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/internal/ecstest"
)

// TestImportRoundTrip: import writes a repo from what cluster prod of an ecslocal runs (a
// plain service, and one taskward protected); `taskward diff` of that repo against the
// same ECS then shows only the protection being added to the plain family, nothing for
// the protected one and no service change; import refuses to overwrite without --force.
func TestImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	l := ecstest.Start(t, "prod")
	c := l.Client
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	plain, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("api"), NetworkMode: types.NetworkModeAwsvpc,
		Cpu: aws.String("256"), Memory: aws.String("512"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("example/api:1"),
			EntryPoint: []string{"/app/api"}, Command: []string{"--port", "8080"}, PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("api"), TaskDefinition: plain.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(2), NetworkConfiguration: net,
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}}}); err != nil {
		t.Fatal(err)
	}
	// A family taskward protects: apply the example's web, then start a service of it.
	src := t.TempDir()
	copyDir(t, "../../examples/gitops", src)
	os.WriteFile(filepath.Join(src, "taskward.yaml"), []byte(strings.Replace(mustRead(t, filepath.Join(src, "taskward.yaml")), "clusters: [default]", "clusters: [prod]", 1)), 0o644)
	for _, f := range []string{"cache.json", "twistlock-fargate-task.json"} {
		os.Remove(filepath.Join(src, "tasks", f))
	}
	run := func(args ...string) (int, string, string) {
		return runCmd(t, "", append(args, "--ecs", "local", "--ecs-endpoint", l.URL, "--offline")...)
	}
	if code, out, errOut := run("apply", "--repo", src); code != exitOK {
		t.Fatalf("apply: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	importArgs := []string{"import", "--cluster", "prod", "--out", dir, "--ecs", "local", "--ecs-endpoint", l.URL}
	code, out, errOut := runCmd(t, "", importArgs...)
	if code != exitOK || !strings.Contains(errOut, "tasks/web.json: web:1 was protected by taskward; imported unprotected") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, f := range []string{"taskward.yaml", "tasks/api.json", "tasks/web.json", "services/api.json", "services/web.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("import did not write %s", f)
		}
	}
	web := mustRead(t, filepath.Join(dir, "tasks/web.json"))
	if strings.Contains(web, "taskward-defender") || strings.Contains(web, "taskward.dev/") {
		t.Errorf("tasks/web.json is not the plain definition:\n%s", web)
	}
	// What the example declares to render offline (image configs, skips) and its policies.
	cfg := mustRead(t, filepath.Join(dir, "taskward.yaml"))
	example := mustRead(t, "../../examples/gitops/taskward.yaml")
	os.WriteFile(filepath.Join(dir, "taskward.yaml"), []byte(cfg+example[strings.Index(example, "\nskip:"):]), 0o644)
	os.MkdirAll(filepath.Join(dir, "policies"), 0o755)
	copyDir(t, "../../examples/gitops/policies", filepath.Join(dir, "policies"))

	code, out, errOut = run("diff", "--repo", dir, "-o", "json")
	var got struct {
		Plan struct {
			Resources []struct {
				Kind, Name, Action string
				Changes            []struct{ Path string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitChanges {
		t.Fatalf("diff: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	actions := map[string]string{}
	for _, r := range got.Plan.Resources {
		actions[r.Kind+"/"+r.Name] = r.Action
		if r.Kind == "task-definition" && r.Name == "api" {
			for _, ch := range r.Changes {
				if !protectionPath(ch.Path) {
					t.Errorf("api: change %s is not the protection", ch.Path)
				}
			}
		}
	}
	if actions["task-definition/api"] != "register" || actions["task-definition/web"] != "noop" ||
		actions["service/api"] != "noop" || actions["service/web"] != "noop" {
		t.Fatalf("actions %v, want api registered (protection added), everything else unchanged\n%s", actions, out)
	}

	if code, _, errOut := runCmd(t, "", importArgs...); code != exitError || !strings.Contains(errOut, "already exists (use --force to overwrite)") {
		t.Fatalf("import over a repo: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "", append(importArgs, "--force")...); code != exitOK {
		t.Fatalf("import --force: exit %d\n%s", code, errOut)
	}
}

// protectionPath says whether a changed field path is one render owns.
func protectionPath(p string) bool {
	for _, s := range []string{"volumes", "taskward", "entryPoint", "command", "dependsOn", "mountPoints", "linuxParameters", "environment", "dockerLabels", "memoryReservation"} {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
