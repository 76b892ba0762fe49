package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/go-git/go-git/v5"
	"github.com/spf13/pflag"

	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/reconcile"
)

// syncFlags are the flags of diff and apply.
type syncFlags struct {
	renderFlags
	ecsFlags
	repo   string
	output string
	commit string
}

func (f *syncFlags) add(fs *pflag.FlagSet) {
	f.renderFlags.add(fs)
	f.ecsFlags.add(fs)
	fs.Lookup("cluster").Usage = "only this ECS `CLUSTER` (default: every one of taskward.yaml's clusters, one after another in its order)"
	fs.StringVar(&f.repo, "repo", ".", "GitOps repo `DIR`")
	fs.StringVarP(&f.output, "output", "o", "text", "output: text (a unified diff of the reduced JSON) or json")
	fs.StringVar(&f.commit, "commit", "", "git commit `SHA` recorded in the taskward.dev/commit tag (default: the repo's HEAD, when it is a checkout)")
}

// desiredFromRepo loads and renders the repo into reconcile's input.
func desiredFromRepo(ctx context.Context, env *cmdEnv, f *syncFlags) (*manifests.Repo, []reconcile.Desired, int) {
	repo, probs := manifests.LoadDir(f.repo)
	printProblems(env.stderr, probs)
	if repo == nil {
		return nil, nil, exitError
	}
	r := manifests.NewRenderer(repo.Config, repo.Policies, manifests.WithImageSource(f.imageSource(ctx)))
	rendered, probs := r.RenderAll(ctx, repo.Tasks)
	printProblems(env.stderr, probs)
	if rendered == nil {
		return nil, nil, exitError
	}
	return repo, toDesired(rendered), exitOK
}

func toDesired(rendered []*manifests.Rendered) []reconcile.Desired {
	out := make([]reconcile.Desired, len(rendered))
	for i, rd := range rendered {
		out[i] = reconcile.Desired{Family: rd.Family, SourcePath: rd.Path, Definition: rd.Doc}
	}
	return out
}

// headCommit returns the HEAD commit of the Git checkout holding dir, or "".
func headCommit(dir string) string {
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return ""
	}
	h, err := r.Head()
	if err != nil {
		return ""
	}
	return h.Hash().String()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == ""
}

func cliLogger(env *cmdEnv) *slog.Logger {
	return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// clusterSync is one cluster's diff or apply. With several clusters, --output json prints
// {"clusters": [clusterSync, ...]}; with one it keeps the {"plan", "apply"} it always had.
type clusterSync struct {
	Cluster string                 `json:"cluster"`
	Plan    *reconcile.PlanResult  `json:"plan"`
	Apply   *reconcile.ApplyResult `json:"apply,omitempty"`
	Error   string                 `json:"error,omitempty"`

	err error // reading live state or planning failed, or a family's apply did
}

// writeSyncJSON prints the results: the plan and apply of the only cluster as before, or
// one entry per cluster, each naming its cluster. A single cluster whose live state could
// not be read prints nothing (the error is on stderr), as before.
func writeSyncJSON(w io.Writer, results []*clusterSync) error {
	var v any
	switch {
	case len(results) > 1:
		v = struct {
			Clusters []*clusterSync `json:"clusters"`
		}{results}
	case results[0].Plan == nil:
		return nil
	default:
		v = struct {
			Plan  *reconcile.PlanResult  `json:"plan"`
			Apply *reconcile.ApplyResult `json:"apply,omitempty"`
		}{results[0].Plan, results[0].Apply}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writePlanText prints a plan and, after an apply, what was done per family.
func writePlanText(w io.Writer, plan *reconcile.PlanResult, res *reconcile.ApplyResult) error {
	if err := plan.WriteText(w, isTerminal(w)); err != nil {
		return err
	}
	if res != nil {
		for _, f := range res.Families {
			switch {
			case f.Err != nil:
				fmt.Fprintf(w, "FAILED %s: %v\n", f.Family, f.Err)
			case f.Action == reconcile.ActionNoop, f.Action == reconcile.ActionUpdateService:
				// update-service registers nothing: Registered is the revision it already had.
			case f.Reused:
				fmt.Fprintf(w, "applied %s: reused %s (already carries this content)\n", f.Family, f.Registered)
			case f.Registered != "":
				fmt.Fprintf(w, "applied %s: registered %s\n", f.Family, f.Registered)
			}
			for _, s := range f.UpdatedServices {
				fmt.Fprintf(w, "applied %s: service %s updated\n", f.Family, s)
			}
			for _, d := range f.Deregistered {
				fmt.Fprintf(w, "applied %s: deregistered %s\n", f.Family, d)
			}
		}
	}
	return nil
}

func init() {
	register(&command{
		name:    "diff",
		summary: "show what apply would change in ECS; exit 1 when changes are pending",
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			var f syncFlags
			f.add(fs)
			prune := fs.Bool("prune", false, "also show families that apply --prune would deregister")
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				return runSync(ctx, env, &f, *prune, true, false)
			}
		},
	})
	register(&command{
		name:    "apply",
		summary: "make ECS match the repo: register changed task definitions, update services",
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			var f syncFlags
			f.add(fs)
			prune := fs.Bool("prune", false, "deregister taskward-managed families the repo no longer has (never when the repo renders to nothing)")
			dry := fs.Bool("dry-run", false, "plan only, change nothing (exit 1 when changes are pending, like diff)")
			wait := fs.Bool("wait", false, "wait until the updated services are stable")
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				return runSync(ctx, env, &f, *prune, *dry, *wait)
			}
		},
	})
}

// runSync is diff (dryRun) and apply, for --cluster or else every cluster of taskward.yaml.
// Exit codes: 0 nothing to do or applied, 1 changes pending (dry run) in any cluster, 2 an
// error in any cluster (the other clusters are still diffed or applied).
func runSync(ctx context.Context, env *cmdEnv, f *syncFlags, prune, dryRun, wait bool) int {
	if f.output != "text" && f.output != "json" {
		fmt.Fprintf(env.stderr, "--output %q: use text or json\n", f.output)
		return exitError
	}
	repo, desired, code := desiredFromRepo(ctx, env, f)
	if repo == nil {
		return code
	}
	log := cliLogger(env)
	client, done, err := f.client(ctx, log, repo.Config.DeclaredRegion(), repo.Config.Clusters)
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward: %v\n", err)
		return exitError
	}
	defer done()
	commit := f.commit
	if commit == "" {
		commit = headCommit(f.repo)
	}
	clusters := f.clustersOr(repo.Config.Clusters)
	multi := len(clusters) > 1
	// prefix names the cluster in errors when there are several.
	prefix := func(cluster string) string {
		if multi {
			return "cluster " + cluster + ": "
		}
		return ""
	}

	// One cluster after another, in the repo's order, sharing the client: task definitions
	// belong to the region, so the first cluster registers a changed family and the next
	// ones find that revision by its content hash and only move their own services. Run
	// concurrently, two clusters could both register it.
	results := make([]*clusterSync, len(clusters))
	for i, cluster := range clusters {
		rec := reconcile.New(client, reconcile.WithPrune(prune), reconcile.WithCluster(cluster),
			reconcile.WithCommit(commit), reconcile.WithLogger(log))
		cs := &clusterSync{Cluster: cluster}
		cs.Plan, cs.Apply, cs.err = rec.Sync(ctx, desired, dryRun)
		results[i] = cs
		if f.output == "text" {
			if multi {
				if i > 0 {
					fmt.Fprintln(env.stdout)
				}
				fmt.Fprintf(env.stdout, "==> cluster %s <==\n", cluster)
			}
			if cs.Plan != nil {
				if werr := writePlanText(env.stdout, cs.Plan, cs.Apply); werr != nil {
					fmt.Fprintf(env.stderr, "taskward: %v\n", werr)
					return exitError
				}
			}
		}
		if cs.err != nil {
			fmt.Fprintf(env.stderr, "taskward: %s%s\n", prefix(cluster), ecsErrorHint(cs.err))
		} else if cs.Apply != nil {
			cs.err = cs.Apply.Err() // printed as FAILED lines
		}
		if cs.err != nil {
			cs.Error = cs.err.Error()
		}
	}
	if f.output == "json" {
		if werr := writeSyncJSON(env.stdout, results); werr != nil {
			fmt.Fprintf(env.stderr, "taskward: %v\n", werr)
			return exitError
		}
	}
	// As with one cluster, a cluster whose apply failed is not waited for.
	if wait && !dryRun {
		for _, cs := range results {
			if cs.err != nil || cs.Apply == nil {
				continue
			}
			if cs.err = waitStable(ctx, client, cs.Cluster, cs.Apply); cs.err != nil {
				fmt.Fprintf(env.stderr, "taskward: %s%v\n", prefix(cs.Cluster), cs.err)
			}
		}
	}

	var failed []string
	changes := false
	for _, cs := range results {
		if cs.err != nil {
			failed = append(failed, cs.Cluster)
		}
		changes = changes || (cs.Plan != nil && cs.Plan.HasChanges())
	}
	switch {
	case len(failed) > 0:
		if multi {
			fmt.Fprintf(env.stderr, "taskward: %d of %d clusters failed: %s\n", len(failed), len(clusters), strings.Join(failed, ", "))
		}
		return exitError
	case dryRun && changes:
		return exitChanges
	}
	return exitOK
}

func waitStable(ctx context.Context, client *ecs.Client, cluster string, res *reconcile.ApplyResult) error {
	var services []string
	for _, f := range res.Families {
		services = append(services, f.UpdatedServices...)
	}
	if len(services) == 0 {
		return nil
	}
	w := ecs.NewServicesStableWaiter(client)
	for i := 0; i < len(services); i += 10 { // DescribeServices takes 10 at a time
		batch := services[i:min(i+10, len(services))]
		if err := w.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch}, 15*time.Minute); err != nil {
			return fmt.Errorf("waiting for services to be stable: %w", err)
		}
	}
	return nil
}
