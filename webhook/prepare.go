package webhook

import (
	"context"
	"io/fs"
	"path"

	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/reconcile"
)

// Planner computes the reconcile plan of a desired set against live ECS.
type Planner func(ctx context.Context, desired []reconcile.Desired) (*reconcile.PlanResult, error)

// PlannerFor plans with rec through the pipeline apply runs (reconcile.SyncClusters, as a
// dry run): its Live read (cached by ARN) and its Plan options (prune).
func PlannerFor(rec *reconcile.Reconciler) Planner {
	return func(ctx context.Context, desired []reconcile.Desired) (*reconcile.PlanResult, error) {
		cs := reconcile.SyncClusters(ctx, []*reconcile.Reconciler{rec}, desired, true)[0]
		return cs.Plan, cs.Err
	}
}

// ClusterPlanner plans against one cluster.
type ClusterPlanner struct {
	Cluster string
	Plan    Planner
}

type prepareOptions struct {
	images      manifests.ImageSource
	planners    []ClusterPlanner
	plannersFor func(clusters []string) []ClusterPlanner
}

// PrepareOption configures [Prepare].
type PrepareOption func(*prepareOptions)

// WithImageSource sets where image configs come from (default: taskward.yaml overrides only).
func WithImageSource(s manifests.ImageSource) PrepareOption {
	return func(o *prepareOptions) { o.images = s }
}

// WithPlanners plans against live ECS when the head renders cleanly: once per cluster,
// one after the other, in the order given, which is the report's order. The caller
// chooses the clusters: those apply reconciles. [WithPlannersFor] chooses them from the
// commit's taskward.yaml instead.
func WithPlanners(ps ...ClusterPlanner) PrepareOption {
	return func(o *prepareOptions) { o.planners = append(o.planners, ps...) }
}

// WithPlannersFor plans like [WithPlanners], with the planners f returns for the clusters
// of the loaded commit's own taskward.yaml (manifests.Config.Clusters, never empty: it
// defaults to "default"). A pull request that adds or removes a cluster is then planned
// against the clusters its merge would apply to. f is called only when there is a plan to
// make; its planners come after those of WithPlanners.
func WithPlannersFor(f func(clusters []string) []ClusterPlanner) PrepareOption {
	return func(o *prepareOptions) { o.plannersFor = f }
}

// Prepare loads and renders the repo in fsys (a checkout, or a commit tree through
// internal/gitfs) and, when everything renders, plans it. It collects problems instead
// of stopping at them, so that one report shows all of them:
//
//   - the repo does not load (a broken policy, taskward.yaml or task file): every task
//     file that parses on its own is still checked, and nothing is rendered or planned;
//   - some tasks do not render: the others are rendered (for the protection check), and
//     nothing is planned: a broken commit applies nothing;
//   - planning against a cluster fails: its error is kept in its [ClusterPlan], and the
//     other clusters are still planned.
func Prepare(ctx context.Context, fsys fs.FS, opts ...PrepareOption) *ReviewInput {
	var o prepareOptions
	for _, f := range opts {
		f(&o)
	}
	in := &ReviewInput{}
	if !isGitOpsRepo(fsys) {
		// Nothing to check is not "passed": the review looked at the wrong directory.
		in.Problems = manifests.Problems{{File: ".", Msg: "not a GitOps repo: it has neither " + manifests.ConfigFile + " nor " +
			manifests.TasksDir + "/; point the review at the GitOps directory (taskward review --path DIR, or --repo)"}}
		in.PlanNote = "no plan: not a GitOps repo"
		return in
	}
	prep := reconcile.Prepare(ctx, fsys, o.images)
	in.Problems, in.Rendered = prep.Problems, prep.Rendered
	switch {
	case prep.Repo == nil:
		in.Tasks = parseTasksAlone(fsys)
		in.PlanNote = "no plan: the repo does not load"
		return in
	case ctx.Err() != nil:
		in.Tasks = prep.Repo.Tasks
		in.PlanNote = "no plan: " + ctx.Err().Error()
		return in
	}
	in.Tasks = prep.Repo.Tasks
	in.Policies = len(prep.Repo.Policies)
	if prep.Err() != nil {
		in.PlanNote = "no plan: not every task definition renders"
		return in
	}
	planners := o.planners
	if o.plannersFor != nil {
		planners = append(planners, o.plannersFor(prep.Clusters())...)
	}
	if len(planners) == 0 {
		in.PlanNote = "no plan: live ECS not consulted"
		return in
	}
	for _, cp := range planners {
		plan, err := cp.Plan(ctx, prep.Desired)
		in.Plans = append(in.Plans, ClusterPlan{Cluster: cp.Cluster, Plan: plan, Err: err})
	}
	return in
}

// parseTasksAlone parses every tasks/**/*.json file on its own, for the container checks of
// a repo that does not load as a whole. Their problems are already in Load's.
func parseTasksAlone(fsys fs.FS) []*manifests.TaskDef {
	var out []*manifests.TaskDef
	n, total := 0, int64(0)
	_ = fs.WalkDir(fsys, manifests.TasksDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".json" {
			return nil
		}
		if n++; n > manifests.MaxRepoFiles {
			return fs.SkipAll
		}
		st, err := d.Info()
		if err != nil || !st.Mode().IsRegular() || st.Size() > manifests.MaxTaskFileBytes {
			return nil
		}
		if total += st.Size(); total > manifests.MaxRepoBytes { // Load's bound, which it reported
			return fs.SkipAll
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil
		}
		if td, _ := manifests.ParseTaskDef(p, b); td != nil {
			out = append(out, td)
		}
		return nil
	})
	return out
}

// isGitOpsRepo reports whether fsys looks like a GitOps repo: it has taskward.yaml or a
// tasks/ directory.
func isGitOpsRepo(fsys fs.FS) bool {
	for _, name := range []string{manifests.ConfigFile, manifests.TasksDir} {
		if _, err := fs.Stat(fsys, name); err == nil {
			return true
		}
	}
	return false
}
