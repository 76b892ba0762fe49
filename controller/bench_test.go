package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSteadyStateCycle measures one reconcile plus one drift scan with no new commit,
// at 1,000 families each with a service, against ecslocal (in this process, so the CPU
// figure includes the fake ECS's share). It reports ECS calls per cycle and, for scale,
// the first cycle's calls and CPU in the same run.
func BenchmarkSteadyStateCycle(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	env := newTestEnv(b)
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "tasks"), 0o755)
	os.WriteFile(filepath.Join(dir, "taskward.yaml"), []byte("images:\n  busybox:1.36: {cmd: [sh], reason: bench}\n"), 0o644)
	for i := range n {
		os.WriteFile(filepath.Join(dir, "tasks", fmt.Sprintf("f%04d.json", i)), []byte(fmt.Sprintf(
			`{"family":"f%04d","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512","containerDefinitions":[{"name":"app","image":"busybox:1.36","portMappings":[{"containerPort":80}]}]}`, i)), 0o644)
	}
	c := New(&DirSource{Dir: dir}, env.ecs)
	cpu0 := cpuTime()
	env.local.Server.ResetStats()
	c.Reconcile(ctx, "first")
	if st := c.Status(); st.Result != "applied" {
		b.Fatalf("first reconcile: %s %+v", st.Result, st.Families[:1])
	}
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	for i := range n {
		if _, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String(fmt.Sprintf("s%04d", i)),
			TaskDefinition: aws.String(fmt.Sprintf("f%04d", i)), DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
			b.Fatal(err)
		}
	}
	c.Scan(ctx)
	firstCalls := total(env.local.Server.Stats())
	firstCPU := cpuTime() - cpu0

	env.local.Server.ResetStats()
	cpu1 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		c.Reconcile(ctx, "poll")
		if f := c.Scan(ctx); len(f) != 0 {
			b.Fatalf("steady state has drift: %+v", f[0])
		}
	}
	b.StopTimer()
	stats := env.local.Server.Stats()
	perCycle := float64(total(stats)) / float64(b.N)
	b.ReportMetric(perCycle, "calls/cycle")
	b.ReportMetric(float64(stats["DescribeTaskDefinition"])/float64(b.N), "describes/cycle")
	b.ReportMetric(float64((cpuTime()-cpu1).Milliseconds())/float64(b.N), "cpu-ms/cycle")
	b.Logf("first cycle (apply 1,000 families, create 1,000 services, scan): %d calls, %v CPU; steady state: %.0f calls/cycle (ratio %.3f)",
		firstCalls, firstCPU.Round(time.Millisecond), perCycle, perCycle/float64(firstCalls))
}

func total(stats map[string]int64) int64 {
	var t int64
	for k, v := range stats {
		if k != "throttled" && k != "injected" {
			t += v
		}
	}
	return t
}
