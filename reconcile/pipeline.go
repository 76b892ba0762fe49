package reconcile

import (
	"context"
	"errors"
	"io/fs"

	"github.com/taskward/taskward/manifests"
)

// The pipeline every caller runs: load → render → desired ([Prepare]), then live → plan →
// apply per cluster ([SyncClusters]) and, for apply --wait, [WaitClusters]. The CLI (diff,
// apply, review), the controller and pull-request reviews call these and nothing else, so
// a broken repo is the same broken repo everywhere (exit 2, "broken-commit").

// Prepared is one commit (or working tree) taken through load, render and desired.
type Prepared struct {
	// Repo is the loaded repo, nil when it does not load.
	Repo *manifests.Repo
	// Rendered are the task definitions that rendered (all of them when Desired is set).
	Rendered []*manifests.Rendered
	// Problems are every load and render problem, errors and warnings, sorted.
	Problems manifests.Problems
	// Desired is reconcile's input, nil unless the repo loaded and every task rendered:
	// a broken commit applies nothing. An empty repo gives an empty, non-nil set.
	Desired []Desired
}

// ErrBrokenCommit is [Prepared.Err]'s error: the repo does not load, or a task does not
// render. The problems say which file and field.
var ErrBrokenCommit = errors.New("the repo does not load or render: nothing from it is applied")

// Err is nil when the repo loaded and rendered, else ErrBrokenCommit joined with the
// problems.
func (p *Prepared) Err() error {
	if p.Desired != nil {
		return nil
	}
	return errors.Join(ErrBrokenCommit, p.Problems.Err())
}

// Clusters are the clusters the repo's taskward.yaml names (never empty once loaded: it
// defaults to "default"); nil when the repo did not load.
func (p *Prepared) Clusters() []string {
	if p.Repo == nil {
		return nil
	}
	return p.Repo.Config.Clusters
}

// Prepare loads the repo in fsys (a checkout through os.DirFS, or a commit tree through
// internal/gitfs) and renders every task definition with images as the image-config
// source (nil: taskward.yaml overrides only). Every problem of every file is collected:
// when the repo does not load nothing is rendered; when a task does not render the others
// still are (a review checks them), but Desired stays nil.
func Prepare(ctx context.Context, fsys fs.FS, images manifests.ImageSource) *Prepared {
	repo, probs := manifests.Load(fsys)
	return prepare(ctx, repo, probs, images)
}

// PrepareDir is [Prepare] for a directory on disk (a checkout).
func PrepareDir(ctx context.Context, dir string, images manifests.ImageSource) *Prepared {
	repo, probs := manifests.LoadDir(dir)
	return prepare(ctx, repo, probs, images)
}

func prepare(ctx context.Context, repo *manifests.Repo, probs manifests.Problems, images manifests.ImageSource) *Prepared {
	p := &Prepared{}
	p.Problems = append(p.Problems, probs...)
	if repo == nil {
		p.Problems.Sort()
		return p
	}
	p.Repo = repo
	r := manifests.NewRenderer(repo.Config, repo.Policies, manifests.WithImageSource(images))
	failed := false
	for _, td := range repo.Tasks {
		if err := ctx.Err(); err != nil {
			p.Problems = append(p.Problems, &manifests.Problem{File: td.Path, Msg: err.Error()})
			failed = true
			break
		}
		rd, ps := r.Render(ctx, td)
		p.Problems = append(p.Problems, ps...)
		if rd == nil {
			failed = true
			continue
		}
		p.Rendered = append(p.Rendered, rd)
	}
	p.Problems.Sort()
	if failed || p.Problems.Err() != nil {
		return p
	}
	p.Desired = make([]Desired, 0, len(p.Rendered)+len(repo.Services))
	for _, rd := range p.Rendered {
		p.Desired = append(p.Desired, Desired{Family: rd.Family, SourcePath: rd.Path, Definition: rd.Doc})
	}
	for _, sd := range repo.Services {
		p.Desired = append(p.Desired, Desired{Family: sd.Family, SourcePath: sd.Path,
			Service: &DesiredService{Name: sd.Name, Cluster: sd.Cluster, Family: sd.Family, SourcePath: sd.Path, Definition: sd.Doc}})
	}
	return p
}

// ClusterSync is one cluster's part of a sync: its plan, what apply did, or why neither
// happened.
type ClusterSync struct {
	Cluster string       `json:"cluster"`
	Plan    *PlanResult  `json:"plan"`
	Apply   *ApplyResult `json:"apply,omitempty"`
	// Err is why the cluster could not be planned or applied as a whole (live state not
	// read, a refused prune, ctx ended). Per-resource failures are in Apply.
	Err error `json:"-"`
	// Wait is what [WaitClusters] found wrong with the rollouts (RolloutErrors joined).
	Wait error `json:"-"`
}

// Failed returns Err, else the joined per-resource apply errors and rollout errors, else
// nil.
func (c *ClusterSync) Failed() error {
	if c.Err != nil {
		return c.Err
	}
	var errs []error
	if c.Apply != nil {
		errs = append(errs, c.Apply.Err())
	}
	return errors.Join(append(errs, c.Wait)...)
}

// SyncClusters plans desired against each reconciler's cluster and, unless dryRun,
// applies each plan, one cluster after another in the order given, sharing nothing but
// ECS: task definitions belong to the region, so the first cluster registers a changed
// family and the next ones find that revision by its content hash and only move their own
// services (run concurrently, two clusters could both register it). A cluster that fails
// does not stop the next one. ctx ending stops before the next cluster.
func SyncClusters(ctx context.Context, recs []*Reconciler, desired []Desired, dryRun bool) []*ClusterSync {
	out := make([]*ClusterSync, 0, len(recs))
	for _, r := range recs {
		cs := &ClusterSync{Cluster: r.cluster}
		if err := ctx.Err(); err != nil {
			cs.Err = err
		} else {
			cs.Plan, cs.Apply, cs.Err = r.Sync(ctx, desired, dryRun)
		}
		out = append(out, cs)
	}
	return out
}
