package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/spf13/pflag"

	"github.com/taskward/taskward/reconcile"
)

// syncFlags are the flags of diff and apply.
type syncFlags struct {
	renderFlags
	ecsFlags
	repo     string
	output   string
	commit   string
	waitPoll time.Duration
	retry    bool
}

func (f *syncFlags) add(fs *pflag.FlagSet) {
	f.renderFlags.add(fs)
	f.ecsFlags.add(fs)
	fs.Lookup("cluster").Usage = "only this ECS `CLUSTER` (default: every one of taskward.yaml's clusters, one after another in its order)"
	fs.StringVar(&f.repo, "repo", ".", "GitOps repo `DIR`")
	fs.StringVarP(&f.output, "output", "o", "text", "output: text (a unified diff of the reduced JSON) or json")
}

// prepareRepo runs load → render → desired on --repo, printing every problem. nil when
// the repo is broken (exit 2, as everywhere).
func prepareRepo(ctx context.Context, env *cmdEnv, f *syncFlags) *reconcile.Prepared {
	p := reconcile.PrepareDir(ctx, f.repo, f.imageSource(ctx))
	printProblems(env.stderr, p.Problems)
	if p.Err() != nil {
		return nil
	}
	return p
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

// clusterSync is one cluster's diff or apply as --output json prints it. With several
// clusters, it prints {"clusters": [clusterSync, ...]}; with one, the {"plan", "apply"}
// it always had.
type clusterSync struct {
	*reconcile.ClusterSync
	Error string `json:"error,omitempty"`
}

// writeSyncJSON prints the results: the plan and apply of the only cluster as before, or
// one entry per cluster, each naming its cluster. A single cluster whose live state could
// not be read prints nothing (the error is on stderr), as before.
func writeSyncJSON(w io.Writer, syncs []*reconcile.ClusterSync) error {
	results := make([]*clusterSync, len(syncs))
	for i, cs := range syncs {
		results[i] = &clusterSync{ClusterSync: cs}
		if err := cs.Failed(); err != nil {
			results[i].Error = err.Error()
		}
	}
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
		for _, f := range res.Resources {
			switch {
			case f.Err != nil:
				fmt.Fprintf(w, "FAILED %s: %v\n", f.Name, f.Err)
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
			fs.BoolVar(&f.retry, "retry", false, "apply again content whose rollout failed on a service (held otherwise until the family changes in Git)")
			dry := fs.Bool("dry-run", false, "plan only, change nothing (exit 1 when changes are pending, like diff)")
			// Only apply registers, so only apply records a commit.
			fs.StringVar(&f.commit, "commit", "", "git commit `SHA` recorded in the taskward.dev/commit tag (default: the repo's HEAD, when it is a checkout)")
			wait := fs.Bool("wait", false, "wait until the updated services' rollouts complete; exit 2 naming ECS's reason when one fails or is rolled back")
			fs.DurationVar(&f.waitPoll, "wait-interval", 6*time.Second, "time between checks of --wait")
			_ = fs.MarkHidden("wait-interval")
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
	prep := prepareRepo(ctx, env, f)
	if prep == nil {
		return exitError
	}
	cfg := prep.Repo.Config
	log := env.log
	client, done, err := f.client(ctx, log, cfg.DeclaredRegion(), cfg.Clusters)
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward: %v\n", err)
		return exitError
	}
	defer done()
	commit := f.commit
	if commit == "" {
		commit = headCommit(f.repo)
	}
	clusters := f.clustersOr(cfg.Clusters)
	multi := len(clusters) > 1
	// prefix names the cluster in errors when there are several.
	prefix := func(cluster string) string {
		if multi {
			return "cluster " + cluster + ": "
		}
		return ""
	}
	var recs []*reconcile.Reconciler
	for _, cl := range clusters {
		recs = append(recs, reconcile.New(client, reconcile.WithPrune(prune), reconcile.WithCluster(cl), reconcile.WithRetry(f.retry),
			reconcile.WithCommit(commit), reconcile.WithLogger(log)))
	}
	results := reconcile.SyncClusters(ctx, recs, prep.Desired, dryRun)
	for i, cs := range results {
		if f.output == "text" {
			if multi {
				if i > 0 {
					fmt.Fprintln(env.stdout)
				}
				fmt.Fprintf(env.stdout, "==> cluster %s <==\n", cs.Cluster)
			}
			if cs.Plan != nil {
				if werr := writePlanText(env.stdout, cs.Plan, cs.Apply); werr != nil {
					fmt.Fprintf(env.stderr, "taskward: %v\n", werr)
					return exitError
				}
			}
		}
		if cs.Err != nil { // per-resource failures are the FAILED lines
			fmt.Fprintf(env.stderr, "taskward: %s%s\n", prefix(cs.Cluster), ecsErrorHint(cs.Err))
		}
	}
	if f.output == "json" {
		if werr := writeSyncJSON(env.stdout, results); werr != nil {
			fmt.Fprintf(env.stderr, "taskward: %v\n", werr)
			return exitError
		}
	}
	if wait && !dryRun {
		// A cluster whose apply failed is not waited for; a failed or rolled-back rollout
		// fails its cluster, naming ECS's reason.
		if err := reconcile.WaitClusters(ctx, client, results, reconcile.WaitOptions{Poll: f.waitPoll}); err != nil {
			for _, e := range unjoin(err) {
				fmt.Fprintf(env.stderr, "taskward: %v\n", e)
			}
		}
	}

	var failed []string
	changes := false
	for _, cs := range results {
		if cs.Failed() != nil {
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

// unjoin splits an errors.Join error into its parts, one line each.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
