package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/internal/ecstest"
)

// syncFixture is examples/gitops with `clusters: [alpha, beta]` and an ecslocal, reached
// through the real SDK, that has only the clusters a test creates.
type syncFixture struct {
	t        *testing.T
	repo     string
	endpoint string
	client   *ecs.Client
}

func newSyncFixture(t *testing.T, create ...string) *syncFixture {
	t.Helper()
	l := ecstest.Start(t, create...)
	local, client := l.Running, l.Client
	repo := t.TempDir()
	copyDir(t, "../../examples/gitops", repo)
	cfg := filepath.Join(repo, "taskward.yaml")
	b, _ := os.ReadFile(cfg)
	if !strings.Contains(string(b), "clusters: [default]") {
		t.Fatal("examples/gitops/taskward.yaml no longer says clusters: [default]")
	}
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "clusters: [default]", "clusters: [alpha, beta]", 1)), 0o644)
	return &syncFixture{t: t, repo: repo, endpoint: local.URL, client: client}
}

// run runs `taskward <cmd>` against the fixture's repo and ecslocal.
func (f *syncFixture) run(cmd string, args ...string) (int, string, string) {
	f.t.Helper()
	return runCmd(f.t, "", append([]string{cmd, "--repo", f.repo, "--ecs", "local", "--ecs-endpoint", f.endpoint, "--offline"}, args...)...)
}

// deployed applies the repo to both clusters, starts service web on web:1 in each, then
// changes tasks/web.json: the next apply must register web:2 once and move both services.
func (f *syncFixture) deployed() {
	f.t.Helper()
	if code, out, errOut := f.run("apply"); code != exitOK {
		f.t.Fatalf("first apply: exit %d\n%s\n%s", code, out, errOut)
	}
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	for _, c := range []string{"alpha", "beta"} {
		if _, err := f.client.CreateService(context.Background(), &ecs.CreateServiceInput{Cluster: aws.String(c), ServiceName: aws.String("web"),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
			f.t.Fatal(err)
		}
	}
	web := filepath.Join(f.repo, "tasks", "web.json")
	b, _ := os.ReadFile(web)
	changed := strings.NewReplacer(`"cpu": "512"`, `"cpu": "1024"`, `"memory": "1024"`, `"memory": "2048"`).Replace(string(b))
	if changed == string(b) {
		f.t.Fatal("tasks/web.json: cpu/memory not found to change")
	}
	os.WriteFile(web, []byte(changed), 0o644)
}

// revisions counts the revisions of each family of the example repo.
func (f *syncFixture) revisions() map[string]int {
	n := map[string]int{}
	for _, fam := range []string{"cache", "twistlock-fargate-task", "web"} {
		n[fam] = len(listRevisions(f.t, f.client, fam))
	}
	return n
}

// webRuns returns the revision service web of cluster runs, as family:revision.
func (f *syncFixture) webRuns(cluster string) string {
	f.t.Helper()
	out, err := f.client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 {
		f.t.Fatalf("describe web in %s: %v", cluster, err)
	}
	td := aws.ToString(out.Services[0].TaskDefinition)
	return td[strings.LastIndex(td, "/")+1:]
}

var clusterHeader = regexp.MustCompile(`(?m)^==> cluster (\S+) <==$`)

// sections splits text output at its cluster headers, in order.
func sections(out string) (names []string, body map[string]string) {
	body = map[string]string{}
	idx := clusterHeader.FindAllStringSubmatchIndex(out, -1)
	for i, m := range idx {
		end := len(out)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		name := out[m[2]:m[3]]
		names = append(names, name)
		body[name] = out[m[1]:end]
	}
	return names, body
}

// syncJSON is the several-cluster --output json.
type syncJSON struct {
	Clusters []struct {
		Cluster string `json:"cluster"`
		Plan    *struct {
			Resources []struct {
				Kind   string `json:"kind"`
				Name   string `json:"name"`
				Action string `json:"action"`
			} `json:"resources"`
		} `json:"plan"`
		Error string `json:"error"`
	} `json:"clusters"`
}

// TestApplyEveryCluster: with two clusters in taskward.yaml, one apply moves the services
// of both, registering the changed family once (task definitions are regional).
func TestApplyEveryCluster(t *testing.T) {
	f := newSyncFixture(t, "alpha", "beta")
	f.deployed()
	if got := f.revisions(); got["web"] != 1 || got["cache"] != 1 || got["twistlock-fargate-task"] != 1 {
		t.Fatalf("the first apply (both clusters) registered %v, want one revision each", got)
	}

	code, out, errOut := f.run("apply")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	names, sec := sections(out)
	if strings.Join(names, ",") != "alpha,beta" {
		t.Fatalf("cluster sections %v, want alpha,beta:\n%s", names, out)
	}
	if !strings.Contains(sec["alpha"], "applied web: registered ") || !strings.Contains(sec["alpha"], "applied web: service web updated") {
		t.Fatalf("alpha did not register web and move its service:\n%s", sec["alpha"])
	}
	if !strings.Contains(sec["beta"], "update-service web") || !strings.Contains(sec["beta"], "applied web: service web updated") ||
		strings.Contains(sec["beta"], "registered") || strings.Contains(sec["beta"], "reused") {
		t.Fatalf("beta must only move its service to alpha's revision:\n%s", sec["beta"])
	}
	if got := f.revisions(); got["web"] != 2 || got["cache"] != 1 || got["twistlock-fargate-task"] != 1 {
		t.Fatalf("revisions after apply: %v, want web 2 and the others 1", got)
	}
	for _, c := range []string{"alpha", "beta"} {
		if got := f.webRuns(c); got != "web:2" {
			t.Fatalf("service web of %s runs %s, want web:2", c, got)
		}
	}
	if code, out, _ := f.run("diff"); code != exitOK {
		t.Fatalf("diff after apply: exit %d\n%s", code, out)
	}
}

// TestApplyClusterFlag: --cluster applies to that cluster only, with the output of a
// single cluster (no headers; JSON {"plan", "apply"}).
func TestApplyClusterFlag(t *testing.T) {
	f := newSyncFixture(t, "alpha", "beta")
	f.deployed()

	code, out, errOut := f.run("apply", "--cluster", "beta", "--output", "json")
	if code != exitOK {
		t.Fatalf("apply --cluster beta: exit %d\n%s\n%s", code, out, errOut)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil || len(top) != 2 || top["plan"] == nil || top["apply"] == nil {
		t.Fatalf("single-cluster JSON must be {plan, apply}: %v\n%s", err, out)
	}
	if f.webRuns("beta") != "web:2" || f.webRuns("alpha") != "web:1" {
		t.Fatalf("after apply --cluster beta: alpha runs %s (want web:1), beta %s (want web:2)", f.webRuns("alpha"), f.webRuns("beta"))
	}
	if got := f.revisions()["web"]; got != 2 {
		t.Fatalf("web has %d revisions, want 2", got)
	}
	code, out, _ = f.run("diff", "--cluster", "beta")
	if code != exitOK || clusterHeader.MatchString(out) || !strings.HasPrefix(out, "3 unchanged, 0 to register") {
		t.Fatalf("diff --cluster beta: exit %d, want 0 and the single-cluster text:\n%s", code, out)
	}
}

// TestDiffPerCluster: when the clusters' live states differ, diff shows each cluster's own
// plan, in text and in JSON, and exits 1.
func TestDiffPerCluster(t *testing.T) {
	f := newSyncFixture(t, "alpha", "beta")
	f.deployed()
	if code, out, errOut := f.run("apply", "--cluster", "beta"); code != exitOK {
		t.Fatalf("apply --cluster beta: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut := f.run("diff")
	if code != exitChanges {
		t.Fatalf("diff: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	names, sec := sections(out)
	if strings.Join(names, ",") != "alpha,beta" {
		t.Fatalf("cluster sections %v, want alpha,beta:\n%s", names, out)
	}
	if !regexp.MustCompile(`update-service web: \S+/web:1 -> \S+/web:2`).MatchString(sec["alpha"]) ||
		!strings.Contains(sec["alpha"], "2 unchanged, 0 to register, 1 to update services") {
		t.Fatalf("alpha must move web from web:1 to web:2:\n%s", sec["alpha"])
	}
	if strings.TrimSpace(sec["beta"]) != "3 unchanged, 0 to register, 0 to update services, 0 to prune" {
		t.Fatalf("beta is in sync:\n%s", sec["beta"])
	}

	code, out, _ = f.run("diff", "--output", "json")
	var got syncJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitChanges || len(got.Clusters) != 2 {
		t.Fatalf("diff --output json: exit %d, %v\n%s", code, err, out)
	}
	actions := map[string]string{}
	for _, c := range got.Clusters {
		for _, r := range c.Plan.Resources {
			if r.Kind == "task-definition" {
				actions[c.Cluster+"/"+r.Name] = r.Action
			}
		}
	}
	if got.Clusters[0].Cluster != "alpha" || got.Clusters[1].Cluster != "beta" ||
		actions["alpha/web"] != "update-service" || actions["beta/web"] != "noop" || actions["alpha/cache"] != "noop" {
		t.Fatalf("per-cluster JSON actions %v:\n%s", actions, out)
	}
}

// TestApplyMissingCluster: a cluster ECS does not have (ClusterNotFoundException) is
// reported, the clusters after it are still applied, and the exit code is 2.
func TestApplyMissingCluster(t *testing.T) {
	f := newSyncFixture(t, "beta") // taskward.yaml lists alpha first

	code, out, errOut := f.run("apply")
	if code != exitError {
		t.Fatalf("apply: exit %d, want 2\n%s\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`(?m)^taskward: cluster alpha: .*ClusterNotFoundException`).MatchString(errOut) ||
		!strings.Contains(errOut, "taskward: 1 of 2 clusters failed: alpha\n") {
		t.Fatalf("stderr must name alpha and its error:\n%s", errOut)
	}
	_, sec := sections(out)
	if strings.TrimSpace(sec["alpha"]) != "" || !strings.Contains(sec["beta"], "applied web: registered ") {
		t.Fatalf("beta must be applied after alpha failed:\n%s", out)
	}
	if got := f.revisions(); got["web"] != 1 || got["cache"] != 1 || got["twistlock-fargate-task"] != 1 {
		t.Fatalf("revisions %v, want one each", got)
	}

	code, out, _ = f.run("diff", "--output", "json")
	var got syncJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitError || len(got.Clusters) != 2 {
		t.Fatalf("diff --output json: exit %d (want 2), %v\n%s", code, err, out)
	}
	if a, b := got.Clusters[0], got.Clusters[1]; a.Plan != nil || !strings.Contains(a.Error, "ClusterNotFoundException") || b.Plan == nil || b.Error != "" {
		t.Fatalf("alpha must carry its error, beta its plan:\n%s", out)
	}
}
