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
	state    *desiredState // the desired state in force: this commit's, or the last good one
	syncs    []*reconcile.ClusterSync
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
		{"prepare", c.prepare},
		{"sync", c.sync},
		{"health", c.health},
		{"report", c.report},
	}
}

// Reconcile runs one reconcile now, after any in progress. A cancelled ctx lets the
// current phase finish (its ECS calls are not cut off half-way) and skips the rest.
func (c *Controller) Reconcile(ctx context.Context, reason string) {
	c.reconcileMu.Lock()
	defer c.reconcileMu.Unlock()
	start := c.now()
	cy := &cycle{reason: reason}
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
	c.metrics.reconcileSeconds.WithLabelValues(string(result)).Observe(c.now().Sub(start).Seconds())
	c.metrics.reconciles.WithLabelValues(string(result)).Inc()
	c.log.Info("reconcile done", "reason", reason, "result", string(result), "duration", c.now().Sub(start).String())
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

// prepare loads and renders the fetched commit (reconcile.Prepare, as the CLI and reviews
// do). Sets Status.Commit, or Status.BrokenCommit and Problems when it does not load or
// render: nothing from it is used and the last good desired state stays in force.
func (c *Controller) prepare(ctx context.Context, cy *cycle) error {
	if cy.snapshot == nil || cy.state != nil {
		return nil
	}
	prep := reconcile.Prepare(ctx, cy.snapshot.FS, c.images)
	if prep.Err() != nil {
		c.brokenCommit(cy, prep.Problems)
		return c.continueWithGood(cy)
	}
	next := &desiredState{snapshot: cy.snapshot, repo: prep.Repo, desired: prep.Desired,
		drift: reconcile.NewDriftClassifier(prep.Repo.Config, cy.snapshot.ID, prep.Desired)}
	c.good, cy.state = next, next
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
	for _, p := range probs.Errors() {
		c.log.Error("problem in commit", "commit", cy.snapshot.ID, "file", p.File, "line", p.Line, "path", p.Path, "error", scrub.String(p.Msg))
	}
	c.setStatus(func(s *Status) { s.BrokenCommit, s.Problems = cy.snapshot.ID, lines })
}

func (c *Controller) continueWithGood(cy *cycle) error {
	if c.good == nil {
		return errStop
	}
	cy.state = c.good
	return nil
}

// sync plans the desired state against every cluster and applies what the plans do not
// hold. Without self-heal, the plans hold out-of-band changes to resources whose desired
// content is what taskward last applied (read from ECS tags, so a restart or --once knows
// it): they are reported out of sync, not reverted; a commit that changes the resource
// applies it. Sets each family's sync state.
func (c *Controller) sync(ctx context.Context, cy *cycle) error {
	if cy.state == nil {
		return errStop
	}
	var recs []*reconcile.Reconciler
	for _, cl := range c.clusterList() {
		recs = append(recs, c.reconciler(cl, cy.state.snapshot.ID))
	}
	cy.syncs = reconcile.SyncClusters(ctx, recs, cy.state.desired, false)
	for _, cs := range cy.syncs {
		if cs.Err != nil {
			cy.failed = true
			c.log.Error("sync failed", "cluster", cs.Cluster, "error", scrub.Error(cs.Err))
		}
		if cs.Apply == nil {
			continue
		}
		cy.applied = true
		for _, f := range cs.Apply.Resources {
			if f.Err != nil {
				cy.failed = true
				c.log.Error("apply failed", "cluster", cs.Cluster, "resource", f.Name, "error", scrub.Error(f.Err))
			} else if f.Action != reconcile.ActionNoop {
				c.log.Info("applied", "cluster", cs.Cluster, "kind", string(f.Kind), "resource", f.Name, "action", string(f.Action), "revision", f.Registered, "services", f.UpdatedServices)
			}
		}
	}
	if !cy.failed {
		c.setStatus(func(s *Status) { s.LastApplied = cy.state.snapshot.ID })
	}
	c.setFamilies(cy)
	return nil
}

// setFamilies computes each desired family's sync state from the clusters' plans and
// apply results: Failed if any cluster failed it (or could not be read), OutOfSync if
// any cluster has a pending action, else Synced.
func (c *Controller) setFamilies(cy *cycle) {
	var fams []FamilyState
	if cy.state != nil {
		for _, d := range cy.state.desired {
			if d.Service != nil {
				continue // services in Git have their health (Status.Services)
			}
			fs := FamilyState{Family: d.Family, Path: d.SourcePath, Sync: reconcile.Synced}
			for _, cs := range cy.syncs {
				if cs.Err != nil {
					fs.Sync, fs.LastError = reconcile.SyncFailed, fmt.Sprintf("cluster %s: %s", cs.Cluster, scrub.Error(cs.Err))
					continue
				}
				key := reconcile.ResourceKey{Kind: reconcile.KindTaskDefinition, Name: d.Family}
				if fp := cs.Plan.Resource(key); fp != nil {
					if fp.Action != reconcile.ActionNoop && fs.Sync == reconcile.Synced {
						fs.Sync, fs.Action = reconcile.OutOfSync, fp.Action
					}
					fs.Revision = fp.LatestARN
					if h := fp.Held(); h != "" {
						fs.Reason = fmt.Sprintf("cluster %s: %s", cs.Cluster, h)
					}
				}
				if r := cs.Apply.Resource(key); r != nil {
					switch {
					case r.Err != nil:
						fs.Sync, fs.LastError = reconcile.SyncFailed, scrub.Error(r.Err)
					case fs.Sync != reconcile.SyncFailed && fs.Reason == "":
						// Applied: in sync now; the plan's action is history, not pending work.
						fs.Sync, fs.Action = reconcile.Synced, ""
						if r.Registered != "" {
							fs.Revision = r.Registered
						}
					}
				}
			}
			fams = append(fams, fs)
		}
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].Family < fams[j].Family })
	c.setStatus(func(s *Status) { s.Families = fams })
}

// report computes the overall result and readiness, in this one place: ready once a
// reconcile has read live state and applied (or had nothing to apply) without error. The
// result agrees with the families: it is never "synced" above a family out of sync
// ("applied" says what this reconcile did, the families what remains).
func (c *Controller) report(ctx context.Context, cy *cycle) error {
	outOfSync := false
	for _, f := range c.Status().Families {
		outOfSync = outOfSync || f.Sync == reconcile.OutOfSync
	}
	result := reconcile.ResultSynced
	switch {
	case cy.failed:
		result = reconcile.ResultFailed
	case cy.broken:
		result = reconcile.ResultBrokenCommit
	case cy.applied:
		result = reconcile.ResultApplied // what this reconcile did; families say what remains
	case outOfSync:
		result = reconcile.ResultOutOfSync
	}
	c.setStatus(func(s *Status) {
		s.Result, s.LastReconcile = result, c.now()
		if result == reconcile.ResultSynced || result == reconcile.ResultApplied || result == reconcile.ResultOutOfSync {
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
