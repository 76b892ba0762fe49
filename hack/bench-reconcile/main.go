// Command bench-reconcile measures what one reconcile costs at scale: N task definition
// families and N services in ecslocal, a first reconcile that registers every family and
// moves every service, then steady-state reconciles that should change nothing. For each
// it reports the ECS API calls per operation (from ecslocal's counters) and the CPU time
// of this process (user+sys, getrusage).
//
// ecslocal runs in a child process (this binary re-executed with -serve), so the CPU
// figures are reconcile's and the SDK's only, not the fake server's.
//
//	go run ./hack/bench-reconcile [-families 1000] [-concurrency 8]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"bufio"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/internal/awsecs"
	"github.com/taskward/taskward/internal/ojson"
	"github.com/taskward/taskward/reconcile"
)

func main() {
	serve := flag.Bool("serve", false, "internal: run ecslocal and print its URL")
	families := flag.Int("families", 1000, "task definition families (one service each)")
	concurrency := flag.Int("concurrency", 8, "reconcile concurrency")
	flag.Parse()
	if *serve {
		runServer()
		return
	}
	if err := run(*families, *concurrency); err != nil {
		fmt.Fprintln(os.Stderr, "bench-reconcile:", err)
		os.Exit(1)
	}
}

func runServer() {
	r, err := ecslocal.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(r.URL)
	// Serve until the parent closes our stdin.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	_ = r.Close()
}

type phase struct {
	name  string
	calls map[string]int64
	cpu   time.Duration
	wall  time.Duration
}

func (p phase) total() (n int64) {
	for k, v := range p.calls {
		if k != "throttled" && k != "injected" {
			n += v
		}
	}
	return n
}

func run(n, concurrency int) error {
	ctx := context.Background()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve")
	child.Stderr = os.Stderr
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { _ = stdin.Close(); _ = child.Wait() }()
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("ecslocal child: %w", err)
	}
	url = strings.TrimSpace(url)

	client, err := awsecs.New(ctx, awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: url})
	if err != nil {
		return err
	}
	if err := setup(ctx, client, n); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	desired := make([]reconcile.Desired, n)
	for i := range n {
		desired[i] = desiredDef(i)
	}

	log := slog.New(slog.DiscardHandler)
	opts := []reconcile.Option{reconcile.WithConcurrency(concurrency), reconcile.WithLogger(log), reconcile.WithCommit("bench")}
	r := reconcile.New(client, opts...)
	var phases []phase
	measure := func(name string, rec *reconcile.Reconciler, wantChanges bool) error {
		before, err := stats(url)
		if err != nil {
			return err
		}
		cpu0, t0 := cpuTime(), time.Now()
		plan, res, err := rec.Sync(ctx, desired, false)
		cpu, wall := cpuTime()-cpu0, time.Since(t0)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if res != nil && res.Err() != nil {
			return fmt.Errorf("%s: %w", name, res.Err())
		}
		if plan.HasChanges() != wantChanges {
			return fmt.Errorf("%s: plan has changes = %v, want %v: %v", name, plan.HasChanges(), wantChanges, plan.Count())
		}
		after, err := stats(url)
		if err != nil {
			return err
		}
		calls := map[string]int64{}
		for k, v := range after {
			if d := v - before[k]; d != 0 {
				calls[k] = d
			}
		}
		phases = append(phases, phase{name, calls, cpu, wall})
		return nil
	}
	if err := measure("first reconcile (register all, update all services)", r, true); err != nil {
		return err
	}
	if err := measure("steady state (warm cache)", r, false); err != nil {
		return err
	}
	if err := measure("steady state again (warm cache)", r, false); err != nil {
		return err
	}
	if err := measure("steady state, cold cache (after a restart)", reconcile.New(client, opts...), false); err != nil {
		return err
	}
	describeOpts := append(slices.Clone(opts), reconcile.WithLatestLookup(reconcile.LookupDescribe))
	rd := reconcile.New(client, describeOpts...)
	if err := measure("lookup by DescribeTaskDefinition(family), cold", rd, false); err != nil {
		return err
	}
	if err := measure("lookup by DescribeTaskDefinition(family), warm", rd, false); err != nil {
		return err
	}

	fmt.Printf("bench-reconcile: %d families, %d services, concurrency %d, GOMAXPROCS-bound client; ecslocal in a child process\n\n", n, n, concurrency)
	for _, p := range phases {
		fmt.Printf("%s\n  calls %d (%.3f per service), cpu %v, wall %v\n", p.name, p.total(), float64(p.total())/float64(n), p.cpu.Round(time.Millisecond), p.wall.Round(time.Millisecond))
		for _, k := range slices.Sorted(maps.Keys(p.calls)) {
			fmt.Printf("    %-26s %6d\n", k, p.calls[k])
		}
	}
	first, steady := phases[0], phases[2]
	fmt.Printf("\nratios steady/first: calls %.3f, cpu %.3f\n", float64(steady.total())/float64(first.total()), float64(steady.cpu)/float64(first.cpu))
	fmt.Printf("lookup list vs describe-by-family (warm): %d vs %d calls\n", phases[2].total(), phases[5].total())
	fmt.Printf("targets (warm steady state): DescribeTaskDefinition 0 -> %d; calls <= services/10 + list pages -> %d; cpu < 300ms -> %v\n",
		steady.calls["DescribeTaskDefinition"], steady.total(), steady.cpu.Round(time.Millisecond))
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func stats(url string) (map[string]int64, error) {
	resp, err := http.Get(url + "/_ecslocal/stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]int64
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

func family(i int) string { return fmt.Sprintf("bench-%04d", i) }

// desiredDef is a realistic small definition: two containers, environment, ports, logs.
func desiredDef(i int) reconcile.Desired {
	f := family(i)
	v, err := ojson.Parse(fmt.Appendf(nil, `{"family":%q,"networkMode":"bridge","containerDefinitions":[
		{"name":"app","image":"registry.example.com/app:%d","memory":256,"portMappings":[{"containerPort":8080}],
		 "environment":[{"name":"PORT","value":"8080"},{"name":"SERVICE","value":%q},{"name":"LOG_LEVEL","value":"info"}],
		 "logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/%s","awslogs-region":"us-east-1","awslogs-stream-prefix":"app"}},
		 "healthCheck":{"command":["CMD-SHELL","curl -f http://localhost:8080/health || exit 1"]}},
		{"name":"sidecar","image":"registry.example.com/sidecar:1","memory":64,"essential":false}],
		"tags":[{"key":"team","value":"bench"}]}`, f, i, f, f))
	if err != nil {
		panic(err)
	}
	return reconcile.Desired{Family: f, SourcePath: "tasks/" + f + ".json", Definition: v}
}

// setup registers an old revision per family and a service on it.
func setup(ctx context.Context, c *ecs.Client, n int) error {
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("default")}); err != nil {
		return err
	}
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family(i)),
				ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("registry.example.com/app:old"), Memory: aws.Int32(256)}}})
			if err == nil {
				_, err = c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("default"), ServiceName: aws.String(family(i) + "-svc"),
					TaskDefinition: out.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)})
			}
			if err != nil {
				mu.Lock()
				first = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
