package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/internal/ecstest"
)

// TestApplyKilledBetweenRegisterAndUpdateService kills a real `taskward apply` process with
// SIGKILL at the moment it sends its first UpdateService (after it registered the new
// revision), then reruns it: the result is what an uninterrupted run gives, with no extra
// revision.
func TestApplyKilledBetweenRegisterAndUpdateService(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the taskward binary")
	}
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "taskward")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	l := ecstest.Start(t, "default")
	local, client := l.Running, l.Client

	// A proxy in front of ecslocal that kills the apply process on its first UpdateService.
	var mu sync.Mutex
	var victim *os.Process
	killed := false
	target, _ := url.Parse(local.URL)
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".UpdateService") {
			mu.Lock()
			if victim != nil && !killed {
				victim.Kill()
				killed = true
				mu.Unlock()
				http.Error(w, "killed", http.StatusServiceUnavailable)
				return
			}
			mu.Unlock()
		}
		forward.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	repo := t.TempDir()
	copyDir(t, "../../examples/gitops", repo)
	apply := func(kill bool) error {
		cmd := exec.Command(bin, "apply", "--repo", repo, "--ecs", "local", "--ecs-endpoint", proxy.URL, "--offline")
		cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true")
		if err := cmd.Start(); err != nil {
			return err
		}
		if kill {
			mu.Lock()
			victim = cmd.Process
			mu.Unlock()
		}
		return cmd.Wait()
	}
	if err := apply(false); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(repo, "tasks", "web.json")
	b, _ := os.ReadFile(web)
	os.WriteFile(web, []byte(strings.NewReplacer(`"cpu": "512"`, `"cpu": "1024"`, `"memory": "1024"`, `"memory": "2048"`).Replace(string(b))), 0o644)

	err := apply(true)
	mu.Lock()
	wasKilled := killed
	mu.Unlock()
	if !wasKilled || err == nil {
		t.Fatalf("the apply was not killed at UpdateService (killed=%v, err=%v)", wasKilled, err)
	}
	if got := serviceTaskDef(t, client, "web"); !strings.HasSuffix(got, "web:1") {
		t.Fatalf("service moved before the kill: %s", got)
	}
	if revs := listRevisions(t, client, "web"); len(revs) != 2 {
		t.Fatalf("after the kill: %d revisions, want 2 (the new one registered)", len(revs))
	}
	if err := apply(false); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if got := serviceTaskDef(t, client, "web"); !strings.HasSuffix(got, "web:2") {
		t.Fatalf("after the rerun the service runs %s, want web:2", got)
	}
	if revs := listRevisions(t, client, "web"); len(revs) != 2 {
		t.Fatalf("the rerun registered again: %d revisions, want 2", len(revs))
	}
}

func serviceTaskDef(t *testing.T, c *ecs.Client, name string) string {
	out, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe %s: %v", name, err)
	}
	return aws.ToString(out.Services[0].TaskDefinition)
}

func listRevisions(t *testing.T, c *ecs.Client, family string) []string {
	out, err := c.ListTaskDefinitions(context.Background(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family)})
	if err != nil {
		t.Fatal(err)
	}
	return out.TaskDefinitionArns
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
}
