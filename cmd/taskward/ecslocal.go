package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/pflag"

	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/internal/awsecs"
)

func init() {
	register(&command{
		name:    "ecs-local",
		summary: "run a local Amazon ECS API endpoint (for tests and trying taskward without AWS)",
		server:  true,
		usage:   "",
		flags: func(fs *pflag.FlagSet) func(ctx context.Context, env *cmdEnv, args []string) int {
			listen := fs.String("listen", "127.0.0.1:4566", "address to listen on (host:port)")
			stateFile := fs.String("state", "", "persist state to this JSON file (default: in memory only)")
			region := fs.String("region", "us-east-1", "region written into ARNs")
			account := fs.String("account", "000000000000", "account ID written into ARNs")
			throttle := fs.Float64("throttle", 0, "fraction of calls (0-1) answered with ThrottlingException")
			latency := fs.Duration("latency", 0, "latency added to every call")
			clusters := fs.StringSlice("clusters", []string{"default"}, "clusters to create at start (an account taskward manages has its clusters)")
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				return runECSLocal(ctx, env, args, ecsLocalFlags{
					listen: *listen, stateFile: *stateFile, region: *region, account: *account,
					throttle: *throttle, latency: *latency, clusters: *clusters,
				})
			}
		},
	})
}

type ecsLocalFlags struct {
	listen, stateFile, region, account string
	throttle                           float64
	latency                            time.Duration
	clusters                           []string
}

// runECSLocal serves the endpoint until ctx is cancelled (SIGINT or SIGTERM).
func runECSLocal(ctx context.Context, env *cmdEnv, args []string, f ecsLocalFlags) int {
	if len(args) > 0 {
		fmt.Fprintf(env.stderr, "taskward ecs-local: unexpected arguments %q\n", args)
		return exitError
	}
	if f.throttle < 0 || f.throttle > 1 {
		fmt.Fprintf(env.stderr, "taskward ecs-local: --throttle must be between 0 and 1, got %g\n", f.throttle)
		return exitError
	}
	if f.latency < 0 {
		fmt.Fprintf(env.stderr, "taskward ecs-local: --latency must not be negative, got %s\n", f.latency)
		return exitError
	}
	log := env.log
	opts := []ecslocal.Option{ecslocal.WithRegion(f.region), ecslocal.WithAccount(f.account), ecslocal.WithLogger(log)}
	if f.stateFile != "" {
		opts = append(opts, ecslocal.WithStateFile(f.stateFile))
	}
	r, err := ecslocal.Listen(ctx, f.listen, opts...)
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward ecs-local: %v\n", err)
		return exitError
	}
	if len(f.clusters) > 0 {
		client, err := awsecs.New(ctx, awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: r.URL, Region: f.region})
		if err == nil {
			for _, name := range f.clusters {
				// CreateCluster of an existing cluster returns it, as in ECS: safe with --state.
				if _, err = client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
					break
				}
			}
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "taskward ecs-local: creating clusters: %v\n", err)
			r.Close()
			return exitError
		}
	}
	if f.throttle > 0 || f.latency > 0 {
		r.Server.SetFaults(ecslocal.Faults{ThrottleFraction: f.throttle, Seed: time.Now().UnixNano(), Latency: f.latency})
	}
	log.InfoContext(ctx, "ecs-local listening", "url", r.URL, "region", f.region, "account", f.account,
		"state", f.stateFile, "throttle", f.throttle, "latency", f.latency)
	fmt.Fprint(env.stdout, ecsLocalBanner(r.URL, f.region, f.clusters))
	<-ctx.Done()
	if err := r.Close(); err != nil {
		log.ErrorContext(context.WithoutCancel(ctx), "ecs-local shutdown", "err", err)
		return exitError
	}
	log.InfoContext(context.WithoutCancel(ctx), "ecs-local stopped")
	return exitOK
}

// ecsLocalBanner tells a user how to point the AWS CLI, an SDK and taskward at the
// endpoint. AWS_ENDPOINT_URL_ECS is read by the SDKs and by AWS CLI v2 from 2.13 only
// (Debian 12 ships 2.9); CLI v1 reads neither it nor AWS_REGION, so --endpoint-url and
// AWS_DEFAULT_REGION are shown too.
func ecsLocalBanner(url, region string, clusters []string) string {
	return fmt.Sprintf(`ECS endpoint: %[1]s

Use it with the AWS CLI (any credentials are accepted):
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=%[2]s AWS_REGION=%[2]s
  aws --endpoint-url %[1]s ecs list-task-definitions
(--endpoint-url works with every AWS CLI; AWS_ENDPOINT_URL_ECS=%[1]s also works, but only
with AWS CLI v2 2.13 or later and the AWS SDKs: v1 and older v2 ignore it, and v1 reads
AWS_DEFAULT_REGION, not AWS_REGION.)

With taskward (state stays here between commands):
  taskward apply --repo examples/gitops --ecs local --ecs-endpoint %[1]s --offline
  taskward diff  --repo examples/gitops --ecs local --ecs-endpoint %[1]s --offline

Clusters: %[3]s
Call counters: %[1]s/_ecslocal/stats
Stop with Ctrl-C.
`, url, region, strings.Join(clusters, ", "))
}
