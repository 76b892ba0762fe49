// Package ecstest starts ecslocal for a test, on a loopback port, with a real SDK client
// for it: tests then speak the ECS wire protocol exactly as production does.
package ecstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/internal/awsecs"
)

// Local is a running ecslocal and a client for it.
type Local struct {
	*ecslocal.Running // URL, Server, Close
	Client            *ecs.Client
}

// Start starts ecslocal (closed when the test ends) and creates clusters in it.
func Start(tb testing.TB, clusters ...string) *Local {
	tb.Helper()
	ctx := context.Background()
	running, err := ecslocal.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { running.Close() })
	client, err := awsecs.New(ctx, awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: running.URL})
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range clusters {
		if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(c)}); err != nil {
			tb.Fatal(err)
		}
	}
	return &Local{Running: running, Client: client}
}
