package ecslocal

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// With 30% of calls throttled, every call still succeeds through the SDK's retryer,
// and the stats count the throttled attempts.
func TestThrottlingIsRetriedBySDK(t *testing.T) {
	r := start(t)
	r.Server.SetFaults(Faults{ThrottleFraction: 0.3, Seed: 42})
	c := client(r)
	const calls = 40
	for i := range calls {
		if _, err := c.RegisterTaskDefinition(ctx(t), minimalTD("web")); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	st := r.Server.Stats()
	throttled := st[statThrottled]
	if throttled == 0 {
		t.Fatalf("nothing throttled: %v", st)
	}
	if st["RegisterTaskDefinition"] != calls+throttled {
		t.Errorf("RegisterTaskDefinition attempts = %d, want %d served + %d throttled", st["RegisterTaskDefinition"], calls, throttled)
	}
	// Exactly one revision per successful call: a throttled attempt changes nothing.
	d, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	if err != nil || d.TaskDefinition.Revision != calls {
		t.Errorf("latest revision = %v, %v; want %d", d, err, calls)
	}
	t.Logf("throttled %d of %d attempts", throttled, st["RegisterTaskDefinition"])

	// The same seed throttles the same attempts.
	r2 := start(t)
	r2.Server.SetFaults(Faults{ThrottleFraction: 0.3, Seed: 42})
	c2 := client(r2)
	for range calls {
		if _, err := c2.RegisterTaskDefinition(ctx(t), minimalTD("web")); err != nil {
			t.Fatal(err)
		}
	}
	if got := r2.Server.Stats()[statThrottled]; got != throttled {
		t.Errorf("same seed throttled %d, first run %d", got, throttled)
	}
}

func TestFailOps(t *testing.T) {
	r := start(t)
	c := client(r)
	r.Server.SetFaults(Faults{FailOps: map[string]string{
		"RegisterTaskDefinition": errClient,
		"ListClusters":           errServer,
	}})
	_, err := c.RegisterTaskDefinition(ctx(t), minimalTD("web"))
	var ce *types.ClientException
	if !errors.As(err, &ce) {
		t.Errorf("RegisterTaskDefinition: %v, want ClientException", err)
	}
	_, err = c.ListClusters(ctx(t), &ecs.ListClustersInput{})
	var se *types.ServerException
	if !errors.As(err, &se) {
		t.Errorf("ListClusters: %v, want ServerException", err)
	}
	// ServerException is retried by the SDK: 10 attempts with the test retryer.
	if n := r.Server.Stats()["ListClusters"]; n != 10 {
		t.Errorf("ListClusters attempts = %d, want 10 (retried)", n)
	}
	if _, err := c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{}); err != nil {
		t.Errorf("other operations still work: %v", err)
	}
	r.Server.SetFaults(Faults{FailOps: map[string]string{"*": "AccessDeniedException"}})
	_, err = c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Errorf("wildcard: %v", err)
	}
	r.Server.SetFaults(Faults{})
	if _, err := c.RegisterTaskDefinition(ctx(t), minimalTD("web")); err != nil {
		t.Errorf("after clearing faults: %v", err)
	}
}

func TestLatency(t *testing.T) {
	r := start(t)
	r.Server.SetFaults(Faults{Latency: 50 * time.Millisecond})
	begin := time.Now()
	if _, err := client(r).ListClusters(ctx(t), &ecs.ListClustersInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 50*time.Millisecond {
		t.Errorf("call took %s, want at least 50ms", d)
	}
}
