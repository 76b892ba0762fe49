// The conformance suite: every *_test.go file in this package drives the real
// aws-sdk-go-v2 ECS client against Listen("127.0.0.1:0"), one file per feature
// (taskdefs, defaults, units, validation, errors, services, tasks, tags, faults, state,
// wire, corpus, fuzz). This file holds the harness they share.
package ecslocal

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// fixedClock is the clock tests run with, so timestamps are predictable.
var fixedClock = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 678e6, time.UTC) }

// start runs a server on a free port for the duration of the test.
func start(t *testing.T, opts ...Option) *Running {
	t.Helper()
	r, err := Listen(t.Context(), "127.0.0.1:0", append([]Option{WithClock(fixedClock)}, opts...)...)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// fastRetryer retries like the SDK's standard retryer, with more attempts, a
// millisecond backoff and no client-side retry quota, so throttling tests are quick
// and do not run out of retry tokens.
func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 10
		o.Backoff = backoff(time.Millisecond)
		o.RateLimiter = ratelimit.None
	})
}

type backoff time.Duration

func (b backoff) BackoffDelay(int, error) (time.Duration, error) { return time.Duration(b), nil }

// client returns the real SDK ECS client pointed at r.
func client(r *Running) *ecs.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:     fastRetryer,
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(r.URL) })
}

func ctx(t *testing.T) context.Context { return t.Context() }

// minimalTD is a small valid registration for family.
func minimalTD(family string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:   aws.String("app"),
			Image:  aws.String("nginx:1.27"),
			Memory: aws.Int32(128),
		}},
	}
}

func register(t *testing.T, c *ecs.Client, in *ecs.RegisterTaskDefinitionInput) *types.TaskDefinition {
	t.Helper()
	out, err := c.RegisterTaskDefinition(ctx(t), in)
	if err != nil {
		t.Fatalf("RegisterTaskDefinition(%s): %v", aws.ToString(in.Family), err)
	}
	return out.TaskDefinition
}
