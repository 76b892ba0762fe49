package controller

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/reconcile"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestVerdictAgreesWithFamilies: a family changed behind Git's back (no new commit, no
// self-heal) is OutOfSync, and the reconcile's one verdict says out-of-sync too, never
// "synced" above it; --once exits 1.
func TestVerdictAgreesWithFamilies(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs)
	if code := c.Once(ctx); code != 0 || c.Status().Result != reconcile.ResultApplied {
		t.Fatalf("first run: %d %+v", code, c.Status())
	}
	if _, err := env.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("cache"), NetworkMode: types.NetworkModeAwsvpc,
		Cpu: aws.String("256"), Memory: aws.String("512"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("redis"), Image: aws.String("redis:7.4-alpine")}}}); err != nil {
		t.Fatal(err)
	}
	code := c.Once(ctx)
	st := c.Status()
	var cache reconcile.SyncState
	for _, f := range st.Families {
		if f.Family == "cache" {
			cache = f.Sync
		}
	}
	if cache != reconcile.OutOfSync || st.Result != reconcile.ResultOutOfSync || code != 1 {
		t.Fatalf("cache %s, result %s, exit %d", cache, st.Result, code)
	}
}

// TestScanFollowsApplyAndBrokenCommit: with the cron scan far away, a push that applies is
// followed at once by a drift scan, and so is a commit that does not load; each finding is
// logged once when it appears and once when it resolves, and each problem with its file.
func TestScanFollowsApplyAndBrokenCommit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	var logs syncBuf
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		WithPollInterval(time.Hour), WithDriftSchedule("0 0 1 1 *"), WithDebounce(time.Millisecond))
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, "first reconcile and scan", func() bool { return !c.Status().LastScan.IsZero() })

	// An unmanaged service appears; a push applies a change: the scan after the apply sees it.
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	legacy, err := env.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("legacy"), NetworkMode: types.NetworkModeAwsvpc,
		Cpu: aws.String("256"), Memory: aws.String("512"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("python:3.12")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("legacy"), TaskDefinition: legacy.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	web := exampleFiles(t)["tasks/web.json"]
	remote.push("web: more cpu", map[string]string{"tasks/web.json": moreCPU(web)})
	c.RequestReconcile("test push")
	waitFor(t, "the scan after the apply", func() bool { return len(c.Status().Drift) > 0 })
	if got := strings.Count(logs.String(), `msg="drift found" kind=unmanaged`); got != 1 {
		t.Errorf("unmanaged logged %d times:\n%s", got, logs.String())
	}

	// A broken commit: problems logged with their file, and a scan follows at once.
	before := c.Status().LastScan
	remote.push("broken", map[string]string{"tasks/broken.json": `{"family": `})
	c.RequestReconcile("broken push")
	waitFor(t, "the scan after a broken commit", func() bool { return c.Status().LastScan.After(before) })
	if !strings.Contains(logs.String(), "file=tasks/broken.json") {
		t.Errorf("problem logged without its file:\n%s", logs.String())
	}

	// The drift resolves: logged once as resolved.
	if _, err := env.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("legacy"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	c.Scan(ctx)
	c.Scan(ctx)
	if got := strings.Count(logs.String(), `msg="drift resolved" kind=unmanaged`); got != 1 {
		t.Errorf("resolved logged %d times:\n%s", got, logs.String())
	}
	cancel()
	<-done
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
