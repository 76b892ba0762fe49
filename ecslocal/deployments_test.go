package ecslocal

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// postFaults sets runtime faults over the HTTP endpoint, as a test or a person would.
func postFaults(t *testing.T, r *Running, body string) int {
	t.Helper()
	resp, err := http.Post(r.URL+faultsPath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func describeService(t *testing.T, c *ecs.Client, cluster, name string) types.Service {
	t.Helper()
	out, err := c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("DescribeServices %s: %v %+v", name, err, out)
	}
	return out.Services[0]
}

func createBreakerService(t *testing.T, c *ecs.Client, name string, desired int32, rollback bool) {
	t.Helper()
	_, err := c.CreateService(ctx(t), &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String(name + ":1"), DesiredCount: aws.Int32(desired),
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: rollback}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func rollout(s types.Service) string {
	var parts []string
	for _, d := range s.Deployments {
		_, td, _ := strings.Cut(aws.ToString(d.TaskDefinition), "task-definition/")
		parts = append(parts, aws.ToString(d.Status)+" "+td+" "+string(d.RolloutState))
	}
	return strings.Join(parts, ", ")
}

func TestFailureThreshold(t *testing.T) {
	for desired, want := range map[int32]int32{0: 3, 1: 3, 5: 3, 7: 4, 10: 5, 399: 200, 1000: 200} {
		if got := failureThreshold(desired); got != want {
			t.Errorf("threshold(%d) = %d, want %d (0.5 × desired, at least 3, at most 200)", desired, got, want)
		}
	}
}

// TestCircuitBreakerRollsBack: tasks of web:2 fail (a fault over the HTTP endpoint); the
// deployment to web:2 counts failed tasks, turns FAILED at the threshold, and ECS rolls
// back to the COMPLETED deployment of web:1, which completes again. The stopped tasks say
// why, with the fault's exit code.
func TestCircuitBreakerRollsBack(t *testing.T) {
	r := start(t)
	c := client(r)
	createCluster(t, c, "prod")
	register(t, c, minimalTD("web"))
	register(t, c, minimalTD("web"))
	createBreakerService(t, c, "web", 2, true)
	if got := rollout(describeService(t, c, "prod", "web")); got != "PRIMARY web:1 COMPLETED" {
		t.Fatalf("created: %s", got)
	}
	if code := postFaults(t, r, `{"taskFailures":[{"taskDefinition":"web:2","exitCode":3,"reason":"boom"}]}`); code != 200 {
		t.Fatalf("POST faults: %d", code)
	}
	out, err := c.UpdateService(ctx(t), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := rollout(*out.Service); got != "PRIMARY web:2 IN_PROGRESS, ACTIVE web:1 COMPLETED" || out.Service.Deployments[0].FailedTasks != 2 || out.Service.RunningCount != 2 {
		t.Fatalf("updated: %s, failed %d, running %d", got, out.Service.Deployments[0].FailedTasks, out.Service.RunningCount)
	}
	s := describeService(t, c, "prod", "web") // round 2: 4 failed >= 3
	if got := rollout(s); got != "PRIMARY web:1 IN_PROGRESS, ACTIVE web:2 FAILED" {
		t.Fatalf("after the threshold: %s", got)
	}
	if r := aws.ToString(s.Deployments[1].RolloutStateReason); r != "ECS deployment circuit breaker: tasks failed to start." {
		t.Errorf("failed deployment's reason %q", r)
	}
	if r := aws.ToString(s.Deployments[0].RolloutStateReason); !strings.HasPrefix(r, "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/") {
		t.Errorf("rollback deployment's reason %q", r)
	}
	s = describeService(t, c, "prod", "web")
	if got := rollout(s); got != "PRIMARY web:1 COMPLETED" || !strings.HasSuffix(aws.ToString(s.TaskDefinition), "web:1") || s.RunningCount != 2 {
		t.Fatalf("after the rollback: %s, service on %s, running %d", got, aws.ToString(s.TaskDefinition), s.RunningCount)
	}
	stopped, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil || len(stopped.TaskArns) != 4 {
		t.Fatalf("stopped tasks %v, %v: want the 4 failed ones", stopped, err)
	}
	tasks, err := c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: stopped.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks.Tasks {
		if aws.ToString(tk.StoppedReason) != "boom" || tk.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToInt32(tk.Containers[0].ExitCode) != 3 {
			t.Errorf("stopped task: reason %q, code %s, exit %d", aws.ToString(tk.StoppedReason), tk.StopCode, aws.ToInt32(tk.Containers[0].ExitCode))
		}
	}
}

// TestCircuitBreakerWithoutRollback: the failed deployment stays PRIMARY and FAILED, and
// starts no more tasks; the old deployment keeps running.
func TestCircuitBreakerWithoutRollback(t *testing.T) {
	r := start(t)
	c := client(r)
	createCluster(t, c, "prod")
	register(t, c, minimalTD("api"))
	register(t, c, minimalTD("api"))
	createBreakerService(t, c, "api", 1, false)
	postFaults(t, r, `{"taskFailures":[{"taskDefinition":"api","exitCode":1}]}`) // every revision
	if _, err := c.UpdateService(ctx(t), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), TaskDefinition: aws.String("api:2")}); err != nil {
		t.Fatal(err)
	}
	var s types.Service
	for range 4 {
		s = describeService(t, c, "prod", "api")
	}
	if got := rollout(s); got != "PRIMARY api:2 FAILED, ACTIVE api:1 COMPLETED" || s.Deployments[0].FailedTasks != 3 || s.RunningCount != 1 {
		t.Fatalf("%s, failed %d, running %d", got, s.Deployments[0].FailedTasks, s.RunningCount)
	}
}

// TestDeploymentTakesTime: with deploymentDuration a deployment is IN_PROGRESS, the old
// tasks running, until the time has passed; then it completes and the old tasks stop.
func TestDeploymentTakesTime(t *testing.T) {
	clock := &testClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	r := start(t, WithClock(clock.now))
	c := client(r)
	createCluster(t, c, "prod")
	register(t, c, minimalTD("web"))
	register(t, c, minimalTD("web"))
	createService(t, c, "prod", "web", "web:1", 2)
	if code := postFaults(t, r, `{"deploymentDuration":"30s"}`); code != 200 {
		t.Fatalf("POST faults: %d", code)
	}
	if _, err := c.UpdateService(ctx(t), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")}); err != nil {
		t.Fatal(err)
	}
	clock.add(29 * time.Second)
	if s := describeService(t, c, "prod", "web"); rollout(s) != "PRIMARY web:2 IN_PROGRESS, ACTIVE web:1 COMPLETED" || s.RunningCount != 4 {
		t.Fatalf("after 29s: %s, running %d", rollout(s), s.RunningCount)
	}
	clock.add(time.Second)
	if s := describeService(t, c, "prod", "web"); rollout(s) != "PRIMARY web:2 COMPLETED" || s.RunningCount != 2 {
		t.Fatalf("after 30s: %s, running %d", rollout(s), s.RunningCount)
	}
}

func TestFaultsEndpointRefusesBadInput(t *testing.T) {
	r := start(t)
	for _, body := range []string{`{"taskFailures":[{"taskDefinition":""}]}`, `{"deploymentDuration":"soon"}`, `{"unknown":1}`, `{"deploymentDuration":"-1s"}`} {
		if code := postFaults(t, r, body); code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, code)
		}
	}
	resp, err := http.Get(r.URL + faultsPath)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET faults: %v %v", err, resp)
	}
	resp.Body.Close()
}
