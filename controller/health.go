package controller

import (
	"context"
	"fmt"
	"sort"

	"github.com/taskward/taskward/internal/scrub"
	"github.com/taskward/taskward/reconcile"
)

// health reads the services of the desired families in every cluster, after sync, and
// sets their health (Status.Services, the taskward_service_health metric, the Degraded
// alerts). A Degraded service's reason names the newest stopped task of the failed
// deployment (stoppedReason, exit codes) and the program the defender reported blocking in
// it. A rollout that failed is recorded on the service (taskward.dev/rollout-failed), so
// no later run, restarted or not, applies that content to it again (no flapping).
func (c *Controller) health(ctx context.Context, cy *cycle) error {
	if cy.state == nil {
		return nil
	}
	want := map[string]bool{}
	for _, d := range cy.state.desired {
		want[d.Family] = true
	}
	var all []reconcile.ServiceHealth
	var degraded []Finding
	for _, cl := range c.clusterList() {
		rec := c.reconciler(cl, cy.state.snapshot.ID)
		services, err := rec.Services(ctx)
		if err != nil {
			c.log.Warn("reading service health failed", "cluster", cl, "error", scrub.Error(err))
			continue
		}
		have := map[string]bool{}
		for _, s := range services {
			have[s.Name] = true
		}
		for _, d := range cy.state.desired {
			if ds := d.Service; ds != nil && (ds.Cluster == "" || ds.Cluster == cl) && !have[ds.Name] {
				all = append(all, reconcile.ServiceHealth{Cluster: cl, Service: ds.Name, Family: ds.Family, Health: reconcile.Missing,
					Reason: fmt.Sprintf("%s is in Git, not in cluster %s", ds.SourcePath, cl)})
			}
		}
		for _, s := range services {
			if !want[s.Family] {
				continue
			}
			h := reconcile.ClassifyHealth(cl, s)
			if h.Health == reconcile.Degraded {
				h.Reason = c.degradedReason(ctx, rec, s, h)
				if h.FailedContent != "" && s.Tags[reconcile.TagRolloutFailed] != h.FailedContent {
					if err := rec.MarkRolloutFailed(ctx, s.ARN, h.FailedContent); err != nil {
						c.log.Warn("cannot record the failed rollout on the service", "service", s.Name, "error", scrub.Error(err))
					}
				}
				degraded = append(degraded, Finding{Kind: reconcile.AlertDegraded, Resource: s.ARN, Cluster: cl, Family: s.Family,
					Revision: h.FailedDeployment + s.TaskDefinition, Detail: fmt.Sprintf("service %s is Degraded: %s", s.Name, h.Reason)})
			}
			h.Reason = scrub.String(h.Reason)
			all = append(all, h)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Cluster != all[j].Cluster {
			return all[i].Cluster < all[j].Cluster
		}
		return all[i].Service < all[j].Service
	})
	c.dispatch.enqueue(c.healthBook.update(degraded, c.now())...)
	c.metrics.serviceHealth.Reset()
	for _, h := range all {
		c.metrics.serviceHealth.WithLabelValues(h.Cluster, h.Service, string(h.Health)).Set(1)
	}
	c.setStatus(func(s *Status) { s.Services = all })
	return nil
}

// degradedReason adds to a Degraded service's reason why its tasks stopped: the newest
// stopped task of the failed (or else the PRIMARY) deployment, and the program the
// defender blocked in one of them, from the events this controller received.
func (c *Controller) degradedReason(ctx context.Context, rec *reconcile.Reconciler, s reconcile.Service, h reconcile.ServiceHealth) string {
	reason := h.Reason
	dep := h.FailedDeployment
	if dep == "" && len(s.Deployments) > 0 {
		dep = s.Deployments[0].ID
	}
	if dep == "" {
		return reason
	}
	stopped, err := rec.StoppedTasks(ctx, dep)
	if err != nil {
		c.log.Warn("cannot read the stopped tasks", "service", s.Name, "error", scrub.Error(err))
		return reason
	}
	if len(stopped) > 0 {
		reason += fmt.Sprintf("; newest stopped task %s: %s", reconcile.ShortARN(stopped[0].ARN), stopped[0].Describe())
	}
	for _, t := range stopped {
		if b, ok := c.events.lastBlocked(t.ARN); ok {
			reason += fmt.Sprintf("; the defender blocked %s (rule %s) in task %s", b.program, b.rule, reconcile.ShortARN(t.ARN))
			break
		}
	}
	return reason
}
