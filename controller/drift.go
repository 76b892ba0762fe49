package controller

import (
	"context"
	"fmt"
	"sort"

	"github.com/taskward/taskward/internal/scrub"
	"github.com/taskward/taskward/reconcile"
)

// Scan looks at every service and standalone running task of the clusters, classifies
// drift, updates the status and metrics, and queues alerts for what changed. Task
// definitions are described once per ARN for the controller's life.
func (c *Controller) Scan(ctx context.Context) []Finding {
	c.reconcileMu.Lock()
	defer c.reconcileMu.Unlock()
	if c.good == nil {
		c.setStatus(func(s *Status) { s.ScanErrors = []string{"no good commit yet: nothing to compare with"} })
		return nil
	}
	var findings []Finding
	var scanErrs []string
	for _, cl := range c.clusterList() {
		fs, err := c.scanCluster(ctx, cl)
		if err != nil {
			scanErrs = append(scanErrs, fmt.Sprintf("cluster %s: %s", cl, scrub.Error(err)))
			// Keep what was firing for this cluster: a failed scan resolves nothing.
			for _, f := range c.book.firing {
				if f.Cluster == cl && f.Kind != reconcile.DriftRuntime {
					findings = append(findings, f)
				}
			}
			continue
		}
		findings = append(findings, fs...)
	}
	sort.Slice(findings, func(i, j int) bool {
		if findings[i].Resource != findings[j].Resource {
			return findings[i].Resource < findings[j].Resource
		}
		return findings[i].Kind < findings[j].Kind
	})
	alerts := c.book.update(withRuntime(findings, c.book), c.now())
	// One log line per finding when it appears (or moves to another revision) and when it
	// resolves, as the alerts go: a steady drift does not repeat every scan.
	for _, a := range alerts {
		if a.Kind == reconcile.DriftRuntime {
			continue // logged when the event arrives
		}
		msg := "drift found"
		if a.State == "resolved" {
			msg = "drift resolved"
		}
		c.log.Warn(msg, "kind", string(a.Kind), "cluster", a.Cluster, "resource", a.Resource, "revision", a.Revision, "detail", a.Detail)
	}
	for _, e := range scanErrs {
		c.log.Error("drift scan failed", "error", e)
	}
	c.dispatch.enqueue(alerts...)
	counts := map[reconcile.DriftKind]int{}
	for _, f := range findings {
		counts[f.Kind]++
	}
	for _, k := range reconcile.DriftKinds {
		c.metrics.drift.WithLabelValues(string(k)).Set(float64(counts[k]))
	}
	c.setStatus(func(s *Status) { s.Drift, s.ScanErrors, s.LastScan = findings, scanErrs, c.now() })
	return findings
}

// withRuntime keeps runtime-event alerts out of the scan's resolve logic: they resolve
// on their own schedule, not because a scan did not see them.
func withRuntime(findings []Finding, b *alertBook) []Finding {
	out := findings
	for _, f := range b.firing {
		if f.Kind == reconcile.DriftRuntime {
			out = append(out, f)
		}
	}
	return out
}

func (c *Controller) scanCluster(ctx context.Context, cluster string) ([]Finding, error) {
	work, err := c.reconciler(cluster, c.good.snapshot.ID).Workloads(ctx)
	if err != nil {
		return nil, err
	}
	return c.good.drift.Classify(cluster, work), nil
}
