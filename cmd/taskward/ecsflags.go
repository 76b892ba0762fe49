package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/pflag"

	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/internal/awsecs"
)

// ecsFlags select the ECS endpoint: real AWS (the default, standard credential chain), an
// in-process ecslocal (`--ecs local`), or any ECS-compatible endpoint (`--ecs-endpoint`).
// Local is never a fallback: it is used only when asked for (DESIGN.md decision 9).
type ecsFlags struct {
	mode     string
	endpoint string
	region   string
	cluster  string
	state    string
	profile  string
}

func (f *ecsFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.mode, "ecs", "aws", "which ECS: aws (standard AWS credentials and region) or local (an in-process ecslocal)")
	fs.StringVar(&f.endpoint, "ecs-endpoint", "", "ECS-compatible endpoint `URL` (e.g. a running `taskward ecs-local`)")
	fs.StringVar(&f.endpoint, "endpoint-url", "", "the same as --ecs-endpoint, spelled as the AWS CLI does")
	fs.StringVar(&f.profile, "profile", "", "AWS shared config `PROFILE` (as the AWS CLI's --profile; default: AWS_PROFILE, else default)")
	fs.StringVar(&f.region, "region", "", "AWS `REGION` (default: taskward.yaml's region, else the environment's, else us-east-1)")
	fs.StringVar(&f.cluster, "cluster", "", "ECS `CLUSTER` (default: the first of taskward.yaml's clusters)")
	fs.StringVar(&f.state, "ecs-local-state", "", "with --ecs local: keep ecslocal's state in `FILE` between runs")
}

// client returns an ECS client and a cleanup function. repoRegion is taskward.yaml's region
// when the file names one, else "".
// An in-process ecslocal starts with the repo's clusters created, as an account that
// taskward manages would have them.
func (f *ecsFlags) client(ctx context.Context, log *slog.Logger, repoRegion string, clusters []string) (*ecs.Client, func(), error) {
	region := resolveRegion(f.region, repoRegion, f.mode, os.Getenv)
	if f.profile != "" && f.mode == awsecs.ModeLocal {
		return nil, nil, fmt.Errorf("--profile is for --ecs aws: a local ECS takes no credentials")
	}
	switch f.mode {
	case awsecs.ModeLocal:
		if f.endpoint != "" {
			c, err := awsecs.New(ctx, awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: f.endpoint, Region: region})
			return c, func() {}, err
		}
		opts := []ecslocal.Option{ecslocal.WithLogger(log)}
		if region != "" {
			opts = append(opts, ecslocal.WithRegion(region))
		}
		if f.state != "" {
			opts = append(opts, ecslocal.WithStateFile(f.state))
		} else {
			log.WarnContext(ctx, "--ecs local: the ECS API runs inside this process and forgets everything when it exits, "+
				"so a later diff or apply starts from an empty account; to keep state between commands run `taskward ecs-local` "+
				"and pass --ecs-endpoint URL, or pass --ecs-local-state FILE")
		}
		srv, err := ecslocal.Listen(ctx, "127.0.0.1:0", opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("starting ecslocal: %w", err)
		}
		c, err := awsecs.New(ctx, awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: srv.URL, Region: region})
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		for _, name := range append(clusters, f.cluster) {
			if name == "" {
				continue
			}
			if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
				srv.Close()
				return nil, nil, fmt.Errorf("ecslocal: creating cluster %s: %w", name, err)
			}
		}
		return c, func() { srv.Close() }, nil
	case awsecs.ModeAWS:
		c, err := awsecs.New(ctx, awsecs.Config{Mode: awsecs.ModeAWS, Endpoint: f.endpoint, Region: region, Profile: f.profile})
		return c, func() {}, err
	}
	return nil, nil, fmt.Errorf("--ecs %q: use aws or local", f.mode)
}

// clustersOr returns --cluster, or every one of the repo's clusters (in its order).
func (f *ecsFlags) clustersOr(clusters []string) []string {
	if f.cluster != "" {
		return []string{f.cluster}
	}
	if len(clusters) > 0 {
		return clusters
	}
	return []string{"default"}
}

// resolveRegion picks the region: --region, else taskward.yaml's (the repo knows where its
// clusters are), else the environment's for real AWS, else us-east-1.
func resolveRegion(flag, repo, mode string, getenv func(string) string) string {
	for _, r := range []string{flag, repo} {
		if r != "" {
			return r
		}
	}
	if mode == awsecs.ModeAWS {
		for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
			if r := getenv(k); r != "" {
				return r
			}
		}
	}
	return awsecs.DefaultRegion
}

// ecsErrorHint adds what to do to an ECS error a user is likely to meet first.
func ecsErrorHint(err error) string {
	msg := err.Error()
	if h := ecsHint(msg); h != "" {
		return msg + "\n" + h
	}
	return msg
}

// ecsHint says what to do about an ECS error message, or "" when it has nothing to add.
func ecsHint(msg string) string {
	switch {
	case strings.Contains(msg, "get credentials"):
		return "(no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or try taskward without AWS with --ecs local)"
	case strings.Contains(msg, "connection refused"):
		return "(nothing listens at the ECS endpoint: check --ecs-endpoint, or start one with `taskward ecs-local --listen HOST:PORT`)"
	case strings.Contains(msg, "ClusterNotFoundException"):
		return "(the cluster does not exist in this account and region: check --cluster, taskward.yaml's clusters and region)"
	}
	return ""
}
