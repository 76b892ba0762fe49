package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
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

func writePlan(env *cmdEnv, output string, plan *reconcile.PlanResult, res *reconcile.ApplyResult) error {
	if output == "json" {
		b, err := json.MarshalIndent(struct {
			Plan  *reconcile.PlanResult  `json:"plan"`
			Apply *reconcile.ApplyResult `json:"apply,omitempty"`
		}{plan, res}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.stdout, "%s\n", b)
		return err
	}
	if err := plan.WriteText(env.stdout, isTerminal(env.stdout)); err != nil {
		return err
	}
	if res != nil {
		for _, f := range res.Families {
			switch {
			case f.Err != nil:
				fmt.Fprintf(env.stdout, "FAILED %s: %v\n", f.Family, f.Err)
			case f.Action == reconcile.ActionNoop:
			case f.Reused:
				fmt.Fprintf(env.stdout, "applied %s: reused %s (already carries this content)\n", f.Family, f.Registered)
			case f.Registered != "":
				fmt.Fprintf(env.stdout, "applied %s: registered %s\n", f.Family, f.Registered)
			}
			for _, s := range f.UpdatedServices {
				fmt.Fprintf(env.stdout, "applied %s: service %s updated\n", f.Family, s)
			}
			for _, d := range f.Deregistered {
				fmt.Fprintf(env.stdout, "applied %s: deregistered %s\n", f.Family, d)
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

// runSync is diff (dryRun) and apply. Exit codes: 0 nothing to do or applied, 1 changes
// pending (dry run), 2 error.
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
	cluster := f.clusterOr(repo.Config.Clusters)
	rec := reconcile.New(client, reconcile.WithPrune(prune), reconcile.WithCluster(cluster),
		reconcile.WithCommit(commit), reconcile.WithLogger(log))
	plan, res, err := rec.Sync(ctx, desired, dryRun)
	if plan != nil {
		if werr := writePlan(env, f.output, plan, res); werr != nil {
			fmt.Fprintf(env.stderr, "taskward: %v\n", werr)
			return exitError
		}
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward: %s\n", ecsErrorHint(err))
		return exitError
	}
	if res != nil && res.Err() != nil {
		return exitError
	}
	if dryRun {
		if plan.HasChanges() {
			return exitChanges
		}
		return exitOK
	}
	if wait && res != nil {
		if err := waitStable(ctx, client, cluster, res); err != nil {
			fmt.Fprintf(env.stderr, "taskward: %v\n", err)
			return exitError
		}
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
