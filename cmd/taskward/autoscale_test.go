package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/taskward/taskward/internal/awsecs"
	"github.com/taskward/taskward/internal/ecstest"
)

// TestDiffLeavesAutoScaledDesiredCount: through the CLI's ECS flags (--ecs local
// --ecs-endpoint), the Application Auto Scaling lookup reaches the same endpoint: a
// service whose scalable target scaled it to 5 diffs clean against Git's 2, with the note.
func TestDiffLeavesAutoScaledDesiredCount(t *testing.T) {
	ctx := context.Background()
	l := ecstest.Start(t, "default")
	repo := t.TempDir()
	copyDir(t, "../../examples/gitops", repo)
	os.MkdirAll(filepath.Join(repo, "services"), 0o755)
	if err := os.WriteFile(filepath.Join(repo, "services", "web.json"), []byte(`{"serviceName": "web", "taskDefinition": "web", "desiredCount": 2,
  "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a"]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		return runCmd(t, "", append(args, "--repo", repo, "--ecs", "local", "--ecs-endpoint", l.URL, "--offline")...)
	}
	if code, out, errOut := run("apply"); code != exitOK {
		t.Fatalf("apply: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := awsecs.AutoScalingFor(l.Client).RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/default/web"),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(8)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("default"), Service: aws.String("web"), DesiredCount: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("diff")
	if code != exitOK || !strings.Contains(out+errOut, "desiredCount owned by Application Auto Scaling") {
		t.Fatalf("diff of an autoscaled service: exit %d\n%s\n%s", code, out, errOut)
	}
}
