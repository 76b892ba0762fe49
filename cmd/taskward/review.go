package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/spf13/pflag"

	"github.com/taskward/taskward/internal/awsecs"
	"github.com/taskward/taskward/internal/gitfs"
	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/reconcile"
	"github.com/taskward/taskward/webhook"
)

// reviewFlags are the flags of `taskward review`.
type reviewFlags struct {
	renderFlags
	ecsFlags
	repo, base, head string
	path             string
	noPlan           bool
}

func init() {
	register(&command{
		name:    "review",
		summary: "review a commit as a pull request: checks and the plan against ECS, as Markdown; exit 1 when a check fails",
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			f := &reviewFlags{}
			f.renderFlags.add(fs)
			f.ecsFlags.add(fs)
			fs.Lookup("cluster").Usage = "plan against ECS `CLUSTER` only (default: every one of taskward.yaml's clusters)"
			fs.StringVar(&f.repo, "repo", ".", "GitOps repo `DIR` (a Git checkout when --head is given)")
			fs.StringVar(&f.path, "path", "", "`DIR` of the GitOps repo inside --repo, as the controller's --path (default: its top)")
			fs.StringVar(&f.head, "head", "", "commit, branch or tag to review (default: the working tree of --repo)")
			fs.StringVar(&f.base, "base", "", "commit, branch or tag the change is against, to list the changed files (needs --head)")
			fs.BoolVar(&f.noPlan, "no-plan", false, "do not read live ECS: checks only")
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				return runReview(ctx, env, args, f)
			}
		},
	})
}

func runReview(ctx context.Context, env *cmdEnv, args []string, f *reviewFlags) int {
	fail := func(err error) int {
		fmt.Fprintf(env.stderr, "taskward review: %s\n", webhook.ScrubText(err.Error()))
		return exitError
	}
	if len(args) > 0 {
		return fail(fmt.Errorf("unexpected arguments %q", args))
	}
	if f.base != "" && f.head == "" {
		return fail(errors.New("--base needs --head (the working tree has no commit to compare)"))
	}
	log := env.log

	fsys, head, changed, err := reviewSource(f)
	if err != nil {
		return fail(err)
	}
	cfg := repoConfig(fsys)

	opts := []webhook.PrepareOption{webhook.WithImageSource(f.imageSource(ctx))}
	note := ""
	if !f.noPlan {
		// One client for every cluster, made on the first plan: nothing is started or
		// dialled when the head does not render.
		var (
			client  *ecs.Client
			cerr    error
			cleanup = func() {}
		)
		defer func() { cleanup() }()
		connect := func(ctx context.Context) (*ecs.Client, error) {
			if client == nil && cerr == nil {
				var done func()
				if client, done, cerr = f.client(ctx, log, cfg.DeclaredRegion(), cfg.Clusters); cerr == nil {
					cleanup = done
				}
			}
			return client, cerr
		}
		var planners []webhook.ClusterPlanner
		for _, cl := range f.clustersOr(cfg.Clusters) {
			planners = append(planners, webhook.ClusterPlanner{Cluster: cl, Plan: func(ctx context.Context, desired []reconcile.Desired) (*reconcile.PlanResult, error) {
				c, err := connect(ctx)
				if err != nil {
					return nil, err
				}
				return webhook.PlannerFor(reconcile.New(c, reconcile.WithCluster(cl), reconcile.WithLogger(log)))(ctx, desired)
			}})
		}
		opts = append(opts, webhook.WithPlanners(planners...))
		if f.mode == awsecs.ModeLocal && f.endpoint == "" && f.state == "" {
			note = "against a fresh in-process ecslocal: there is no live state, so every family is new; use --ecs aws for the plan against your account"
		}
	}
	in := webhook.Prepare(ctx, fsys, opts...)
	in.Head, in.Base, in.Changed = head, f.base, changed
	if note != "" && len(in.Plans) > 0 {
		in.PlanNote = note
	}
	rep := webhook.Review(ctx, in)
	if _, err := fmt.Fprint(env.stdout, rep.Markdown()); err != nil {
		return fail(err)
	}
	fmt.Fprintln(env.stderr, "taskward review:", rep.Summary())
	switch {
	case ctx.Err() != nil, rep.PlanErrors() > 0:
		return exitError
	case rep.Failed():
		return exitChanges
	}
	return exitOK
}

// reviewSource returns the file system to review and what to call it: the working tree of
// --repo, or the tree of the --head commit read straight from the object store (nothing
// is checked out). With --base, changed lists the paths that differ from base to head.
func reviewSource(f *reviewFlags) (fsys fs.FS, head string, changed []string, err error) {
	fsys, head, changed, err = reviewRoot(f)
	if err != nil || f.path == "" || f.path == "." {
		return fsys, head, changed, err
	}
	// The directory the controller's --path applies: what a merge of head would deploy.
	p := strings.Trim(filepath.ToSlash(f.path), "/")
	if !fs.ValidPath(p) {
		return nil, "", nil, fmt.Errorf("--path %q: a relative path inside the repository, without ..", f.path)
	}
	if st, err := fs.Stat(fsys, p); err != nil || !st.IsDir() {
		return nil, "", nil, fmt.Errorf("--path %q: no such directory in %s: if this change moves or removes the GitOps directory, the controller's --path must move with it", f.path, head)
	}
	sub, err := fs.Sub(fsys, p)
	if err != nil {
		return nil, "", nil, fmt.Errorf("--path %q: %w", f.path, err)
	}
	return sub, head, changed, nil
}

// reviewRoot is reviewSource for the whole repository.
func reviewRoot(f *reviewFlags) (fsys fs.FS, head string, changed []string, err error) {
	if f.head == "" {
		if err := manifests.CheckDir(f.repo); err != nil {
			return nil, "", nil, fmt.Errorf("--repo %s: %w", f.repo, err)
		}
		label := "working tree"
		if sha := headCommit(f.repo); sha != "" {
			label = "working tree of " + sha[:7]
		}
		fsys, err := manifests.DirFS(f.repo)
		if err != nil {
			return nil, "", nil, fmt.Errorf("--repo %s: %w", f.repo, err)
		}
		return fsys, label, nil, nil
	}
	r, err := git.PlainOpen(f.repo)
	if err != nil {
		return nil, "", nil, fmt.Errorf("--repo %s: %w", f.repo, err)
	}
	hc, err := resolveCommit(r, f.head)
	if err != nil {
		return nil, "", nil, fmt.Errorf("--head: %w", err)
	}
	gfs, err := gitfs.FromCommit(r.Storer, hc)
	if err != nil {
		return nil, "", nil, fmt.Errorf("--head %s: %w", f.head, err)
	}
	head = hc.Hash.String()[:7]
	if f.head != head && f.head != hc.Hash.String() {
		head = f.head + " (" + head + ")"
	}
	if f.base != "" {
		bc, err := resolveCommit(r, f.base)
		if err != nil {
			return nil, "", nil, fmt.Errorf("--base: %w", err)
		}
		if changed, err = changedPaths(bc, hc); err != nil {
			return nil, "", nil, err
		}
	}
	return gfs, head, changed, nil
}

func resolveCommit(r *git.Repository, ref string) (*object.Commit, error) {
	h, err := r.ResolveRevision(plumbing.Revision(ref))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	c, err := r.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return c, nil
}

// changedPaths lists the files that differ between two commits' trees, sorted.
func changedPaths(base, head *object.Commit) ([]string, error) {
	bt, err := base.Tree()
	if err != nil {
		return nil, err
	}
	ht, err := head.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(bt, ht)
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", base.Hash.String()[:7], head.Hash.String()[:7], err)
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range changes {
		for _, p := range []string{c.From.Name, c.To.Name} {
			if p != "" && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// repoConfig reads taskward.yaml for the region and clusters the plan needs; a broken or
// missing one gives the defaults (Prepare reports its problems).
func repoConfig(fsys fs.FS) *manifests.Config {
	b, err := fs.ReadFile(fsys, manifests.ConfigFile)
	if err != nil {
		return manifests.DefaultConfig()
	}
	cfg, _ := manifests.ParseConfig(manifests.ConfigFile, b)
	if cfg == nil {
		return manifests.DefaultConfig()
	}
	return cfg
}
