package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ecsCall is one ECS request as it went over the wire.
type ecsCall struct {
	Op       string // DescribeServices, UpdateService, ...
	Cluster  string
	Services []string // DescribeServices
	Service  string   // UpdateService
}

// ecsRecorder sits between the CLI and ecslocal: it records every call and can fail
// UpdateService for one cluster's service with a ClientException, which ecslocal's own
// faults (per operation, whatever the cluster) cannot.
type ecsRecorder struct {
	mu       sync.Mutex
	calls    []ecsCall
	failSvc  string // "cluster/service" whose UpdateService fails, as in the service's ARN
	upstream *httputil.ReverseProxy
}

func newECSRecorder(t *testing.T, endpoint string) (*ecsRecorder, string) {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rec := &ecsRecorder{upstream: httputil.NewSingleHostReverseProxy(u)}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	return rec, ts.URL
}

func (rec *ecsRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	c := ecsCall{Op: r.Header.Get("X-Amz-Target")[strings.LastIndex(r.Header.Get("X-Amz-Target"), ".")+1:]}
	_ = json.Unmarshal(body, &struct {
		Cluster  *string   `json:"cluster"`
		Services *[]string `json:"services"`
		Service  *string   `json:"service"`
	}{&c.Cluster, &c.Services, &c.Service})
	rec.mu.Lock()
	rec.calls = append(rec.calls, c)
	// reconcile updates a service by its ARN, arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME.
	fail := c.Op == "UpdateService" && rec.failSvc != "" && strings.HasSuffix(c.Service, ":service/"+rec.failSvc)
	rec.mu.Unlock()
	if fail {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ClientException","message":"test: refused"}`)
		return
	}
	rec.upstream.ServeHTTP(w, r)
}

// waited returns the DescribeServices calls made after the last UpdateService, as
// "cluster:services": with --wait, apply updates every cluster first and then waits, and
// nothing else describes services after an update.
func (rec *ecsRecorder) waited() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	last := -1
	for i, c := range rec.calls {
		if c.Op == "UpdateService" {
			last = i
		}
	}
	var out []string
	for _, c := range rec.calls[last+1:] {
		if c.Op == "DescribeServices" {
			out = append(out, c.Cluster+":"+strings.Join(c.Services, ","))
		}
	}
	return slices.Compact(out) // the waiter may poll more than once
}

func (rec *ecsRecorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.calls = nil
}

// stable says whether service of cluster is what ECS's ServicesStable waiter waits for:
// one deployment, of revision, with runningCount == desiredCount.
func (f *syncFixture) stable(cluster, service, revision string) bool {
	f.t.Helper()
	out, err := f.client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil || len(out.Services) != 1 {
		f.t.Fatalf("describe %s in %s: %v", service, cluster, err)
	}
	s := out.Services[0]
	return len(s.Deployments) == 1 && strings.HasSuffix(aws.ToString(s.Deployments[0].TaskDefinition), "/"+revision) &&
		s.RunningCount == s.DesiredCount && s.DesiredCount > 0
}

// TestApplyWaitEveryCluster: apply --wait with two clusters waits for the updated services
// of both, after applying both; a cluster whose apply failed is not waited for, the other
// still is, and the exit code is 2.
//
// ecslocal converges a service within UpdateService, so the first poll of the waiter finds
// it stable: this shows which services are waited for, not that apply blocks while one
// is still rolling out.
func TestApplyWaitEveryCluster(t *testing.T) {
	t.Run("both", func(t *testing.T) {
		f := newSyncFixture(t, "alpha", "beta")
		f.deployed()
		rec, endpoint := newECSRecorder(t, f.endpoint)
		f.endpoint = endpoint

		code, out, errOut := f.run("apply", "--wait")
		if code != exitOK {
			t.Fatalf("apply --wait: exit %d\n%s\n%s", code, out, errOut)
		}
		if names, _ := sections(out); strings.Join(names, ",") != "alpha,beta" {
			t.Fatalf("cluster sections %v, want alpha,beta:\n%s", names, out)
		}
		if got := rec.waited(); strings.Join(got, " ") != "alpha:web beta:web" {
			t.Fatalf("waited for %v, want alpha:web then beta:web", got)
		}
		for _, c := range []string{"alpha", "beta"} {
			if !f.stable(c, "web", "web:2") {
				t.Errorf("service web of %s is not stable on web:2", c)
			}
		}
	})

	t.Run("one cluster fails", func(t *testing.T) {
		f := newSyncFixture(t, "alpha", "beta")
		f.deployed()
		// A second service of web in alpha, whose update is refused: alpha's apply fails
		// after moving web, so alpha has an updated service that must not be waited for.
		net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
		if _, err := f.client.CreateService(context.Background(), &ecs.CreateServiceInput{Cluster: aws.String("alpha"), ServiceName: aws.String("web-canary"),
			TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
			t.Fatal(err)
		}
		rec, endpoint := newECSRecorder(t, f.endpoint)
		f.endpoint, rec.failSvc = endpoint, "alpha/web-canary"

		code, out, errOut := f.run("apply", "--wait")
		if code != exitError {
			t.Fatalf("apply --wait: exit %d, want 2\n%s\n%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "taskward: 1 of 2 clusters failed: alpha\n") ||
			!regexp.MustCompile(`(?m)^\s*FAILED.*web-canary.*test: refused`).MatchString(out+errOut) {
			t.Fatalf("output must name alpha and web-canary's error:\n%s\n%s", out, errOut)
		}
		if got := rec.waited(); strings.Join(got, " ") != "beta:web" {
			t.Fatalf("waited for %v, want beta:web only (alpha failed)", got)
		}
		if f.webRuns("alpha") != "web:2" || !f.stable("beta", "web", "web:2") {
			t.Fatalf("alpha's web runs %s (want web:2); beta's web stable on web:2: %v", f.webRuns("alpha"), f.stable("beta", "web", "web:2"))
		}
	})
}

// TestApplyWaitRolledBack: apply --wait returns 2 and names ECS's reason when the
// deployment circuit breaker rolls a service back (its new tasks exit 3, a fault set over
// ecslocal's /_ecslocal/faults), instead of waiting for "stable", which a rolled-back
// service is.
func TestApplyWaitRolledBack(t *testing.T) {
	f := newSyncFixture(t, "alpha")
	if code, out, errOut := f.run("apply", "--cluster", "alpha"); code != exitOK {
		t.Fatalf("first apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := f.client.CreateService(context.Background(), &ecs.CreateServiceInput{Cluster: aws.String("alpha"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1),
		NetworkConfiguration:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
	}); err != nil {
		t.Fatal(err)
	}
	web := f.repo + "/tasks/web.json"
	b, _ := os.ReadFile(web)
	os.WriteFile(web, []byte(strings.NewReplacer(`"cpu": "512"`, `"cpu": "1024"`, `"memory": "1024"`, `"memory": "2048"`).Replace(string(b))), 0o644)
	resp, err := http.Post(f.endpoint+"/_ecslocal/faults", "application/json", strings.NewReader(`{"taskFailures":[{"taskDefinition":"web:2","exitCode":3}]}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("faults: %v %v", err, resp)
	}
	resp.Body.Close()

	code, out, errOut := f.run("apply", "--cluster", "alpha", "--wait", "--wait-interval", "5ms")
	if code != exitError {
		t.Fatalf("apply --wait: exit %d, want 2\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"service web: rollout rolled back", "ECS deployment circuit breaker: rolling back", "web:2: ECS deployment circuit breaker: tasks failed to start."} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if got := f.webRuns("alpha"); got != "web:1" {
		t.Errorf("web runs %s after the rollback, want web:1", got)
	}
}
