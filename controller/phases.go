package controller

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/taskward/taskward/internal/scrub"
	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/reconcile"
)

// cycle is one reconcile's working state, passed from phase to phase.
type cycle struct {
	reason   string
	snapshot *Snapshot     // fetched this cycle (nil when the fetch failed)
	next     *desiredState // loaded and rendered from snapshot, when it is good
	state    *desiredState // the desired state in force: next, or the last good one
	plans    map[string]*reconcile.PlanResult
	applied  bool
	failed   bool
	broken   bool
}

// phase is one step of a reconcile. It returns errStop to end the cycle early (nothing
// more can be done), having set the status that says why.
type phase struct {
	name string
	run  func(ctx context.Context, cy *cycle) error
}

func (c *Controller) phases() []phase {
	return []phase{
		{"fetch", c.fetch},
		{"load", c.load},
		{"render", c.render},
		{"diff", c.diff},
		{"apply", c.apply},
		{"report", c.report},
	}
}

// Reconcile runs one reconcile now, after any in progress. A cancelled ctx lets the
// current phase finish (its ECS calls are not cut off half-way) and skips the rest.
func (c *Controller) Reconcile(ctx context.Context, reason string) {
	c.reconcileMu.Lock()
	defer c.reconcileMu.Unlock()
	start := c.now()
	cy := &cycle{reason: reason, plans: map[string]*reconcile.PlanResult{}}
	phaseCtx := context.WithoutCancel(ctx)
	for _, p := range c.phases() {
		if ctx.Err() != nil && p.name != "report" {
			c.log.Info("stopping before phase", "phase", p.name, "reason", "shutdown")
			cy.failed = true
			continue
		}
		pctx, cancel := context.WithTimeout(phaseCtx, 10*time.Minute)
		err := p.run(pctx, cy)
		cancel()
		if err == errStop {
			if p.name != "report" {
				_ = c.report(phaseCtx, cy)
			}
			break
		}
	}
	result := c.Status().Result
	c.metrics.reconcileSeconds.WithLabelValues(result).Observe(c.now().Sub(start).Seconds())
	c.metrics.reconciles.WithLabelValues(result).Inc()
	c.log.Info("reconcile done", "reason", reason, "result", result, "duration", c.now().Sub(start).String())
}

// fetch brings the source up to date. Sets Status.SourceError; on failure the last good
// commit stays in force (never "the repo is empty").
func (c *Controller) fetch(ctx context.Context, cy *cycle) error {
	snap, err := c.src.Fetch(ctx)
	if err != nil {
		msg := scrub.Error(err)
		if c.good == nil {
			c.log.Warn("fetch failed; no commit was fetched yet, so nothing is applied", "source", c.src.String(), "error", msg)
		} else {
			c.log.Warn("fetch failed; keeping the last good commit", "source", c.src.String(), "error", msg)
		}
		c.setStatus(func(s *Status) { s.SourceError = msg })
		if c.good == nil {
			cy.failed = true
			return errStop
		}
		cy.state = c.good
		return nil
	}
	c.setStatus(func(s *Status) { s.SourceError = "" })
	cy.snapshot = snap
	if c.good != nil && c.good.snapshot.ID == snap.ID {
		cy.state = c.good
	}
	return nil
}

// load loads the fetched commit's repo. Sets Status.BrokenCommit and Problems when it does
// not load: its desired state is not used and the last good one stays in force.
func (c *Controller) load(ctx context.Context, cy *cycle) error {
	if cy.snapshot == nil || cy.state != nil {
		return nil
	}
	repo, probs := manifests.Load(cy.snapshot.FS)
	if repo == nil {
		c.brokenCommit(cy, probs)
		return c.continueWithGood(cy)
	}
	cy.next = &desiredState{snapshot: cy.snapshot, repo: repo}
	return nil
}

// render renders the loaded repo. Same status rules as load.
func (c *Controller) render(ctx context.Context, cy *cycle) error {
	if cy.next == nil {
		return nil
	}
	r := manifests.NewRenderer(cy.next.repo.Config, cy.next.repo.Policies, manifests.WithImageSource(c.images))
	rendered, probs := r.RenderAll(ctx, cy.next.repo.Tasks)
	if rendered == nil {
		cy.next = nil
		c.brokenCommit(cy, probs)
		return c.continueWithGood(cy)
	}
	for _, rd := range rendered {
		cy.next.desired = append(cy.next.desired, reconcile.Desired{Family: rd.Family, SourcePath: rd.Path, Definition: rd.Doc})
	}
	c.good, cy.state = cy.next, cy.next
	c.setStatus(func(s *Status) {
		s.Commit, s.CommitMessage = cy.snapshot.ID, firstLine(cy.snapshot.Message)
		s.BrokenCommit, s.Problems = "", nil
	})
	return nil
}

func (c *Controller) brokenCommit(cy *cycle, probs manifests.Problems) {
	cy.broken = true
	var lines []string
	for _, p := range probs.Errors() {
		lines = append(lines, scrub.String(p.Error()))
	}
	c.log.Error("commit does not load; nothing from it is applied", "commit", cy.snapshot.ID, "problems", len(lines))
	c.setStatus(func(s *Status) { s.BrokenCommit, s.Problems = cy.snapshot.ID, lines })
}

func (c *Controller) continueWithGood(cy *cycle) error {
	if c.good == nil {
		return errStop
	}
	cy.state = c.good
	return nil
}

// diff reads live ECS and plans, per cluster. Sets each family's sync state.
func (c *Controller) diff(ctx context.Context, cy *cycle) error {
	if cy.state == nil {
		return errStop
	}
	for _, cl := range c.clusterList() {
		rec := c.reconciler(cl, cy.state.snapshot.ID)
		live, err := rec.Live(ctx, cy.state.desired)
		if err != nil {
			cy.failed = true
			c.log.Error("reading live state failed", "cluster", cl, "error", scrub.Error(err))
			c.setFamilies(cy, nil, fmt.Sprintf("cluster %s: %s", cl, scrub.Error(err)))
			return errStop
		}
		plan, err := rec.Plan(cy.state.desired, live)
		if err != nil {
			cy.failed = true
			c.setFamilies(cy, nil, scrub.Error(err))
			return errStop
		}
		cy.plans[cl] = plan
	}
	return nil
}

// apply carries out the plans when the desired state comes from a commit not yet applied,
// or when self-heal is on; otherwise pending changes are reported as out of sync.
func (c *Controller) apply(ctx context.Context, cy *cycle) error {
	st := c.Status()
	doApply := st.LastApplied != cy.state.snapshot.ID || c.selfHeal
	results := map[string]reconcile.FamilyResult{}
	for _, cl := range c.clusterList() {
		plan := cy.plans[cl]
		if plan == nil || !plan.HasChanges() || !doApply {
			continue
		}
		rec := c.reconciler(cl, cy.state.snapshot.ID)
		res, err := rec.Apply(ctx, plan)
		if err != nil {
			cy.failed = true
		}
		if res != nil {
			for _, f := range res.Families {
				results[f.Family] = f
				if f.Err != nil {
					cy.failed = true
					c.log.Error("apply failed", "cluster", cl, "family", f.Family, "error", scrub.Error(f.Err))
				} else if f.Action != reconcile.ActionNoop {
					c.log.Info("applied", "cluster", cl, "family", f.Family, "action", string(f.Action), "revision", f.Registered, "services", f.UpdatedServices)
				}
			}
		}
		cy.applied = true
	}
	if doApply && !cy.failed {
		c.setStatus(func(s *Status) { s.LastApplied = cy.state.snapshot.ID })
	}
	c.setFamilies(cy, results, "")
	return nil
}

// setFamilies computes each desired family's sync state from the plans and apply results.
func (c *Controller) setFamilies(cy *cycle, results map[string]reconcile.FamilyResult, allErr string) {
	var fams []FamilyState
	if cy.state != nil {
		for _, d := range cy.state.desired {
			fs := FamilyState{Family: d.Family, Path: d.SourcePath, Sync: Synced}
			for _, plan := range cy.plans {
				for _, fp := range plan.Families {
					if fp.Family != d.Family {
						continue
					}
					if fp.Action != reconcile.ActionNoop {
						fs.Sync, fs.Action = OutOfSync, string(fp.Action)
					}
					fs.Revision = fp.LatestARN
				}
			}
			if r, ok := results[d.Family]; ok {
				switch {
				case r.Err != nil:
					fs.Sync, fs.LastError = Failed, scrub.Error(r.Err)
				default:
					// Applied: in sync now; the plan's action is history, not pending work.
					fs.Sync, fs.Action = Synced, ""
					if r.Registered != "" {
						fs.Revision = r.Registered
					}
				}
			}
			if allErr != "" {
				fs.Sync, fs.LastError = Failed, allErr
			}
			fams = append(fams, fs)
		}
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].Family < fams[j].Family })
	c.setStatus(func(s *Status) { s.Families = fams })
}

// report computes the overall result and readiness, in this one place: ready once a
// reconcile has read live state and applied (or had nothing to apply) without error.
func (c *Controller) report(ctx context.Context, cy *cycle) error {
	result := "synced"
	switch {
	case cy.failed:
		result = "failed"
	case cy.broken:
		result = "broken-commit"
	case cy.applied:
		result = "applied"
	}
	c.setStatus(func(s *Status) {
		s.Result, s.LastReconcile = result, c.now()
		if result == "synced" || result == "applied" {
			s.Ready = true
		}
	})
	return nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
