package controller

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/internal/ojson"
	"github.com/taskward/taskward/internal/scrub"
	"github.com/taskward/taskward/manifests"
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
				if f.Cluster == cl && f.Kind != KindRuntime {
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
	c.dispatch.enqueue(alerts...)
	counts := map[string]int{KindUnprotected: 0, KindOutOfSync: 0, KindUnmanaged: 0}
	for _, f := range findings {
		counts[f.Kind]++
	}
	for k, n := range counts {
		c.metrics.drift.WithLabelValues(k).Set(float64(n))
	}
	c.setStatus(func(s *Status) { s.Drift, s.ScanErrors, s.LastScan = findings, scanErrs, c.now() })
	return findings
}

// withRuntime keeps runtime-event alerts out of the scan's resolve logic: they resolve
// on their own schedule, not because a scan did not see them.
func withRuntime(findings []Finding, b *alertBook) []Finding {
	out := findings
	for _, f := range b.firing {
		if f.Kind == KindRuntime {
			out = append(out, f)
		}
	}
	return out
}

// workload is one thing running a task definition: a service or a standalone task.
type workload struct {
	resource, what, taskDef string
}

func (c *Controller) scanCluster(ctx context.Context, cluster string) ([]Finding, error) {
	rec := c.reconciler(cluster, c.good.snapshot.ID)
	services, err := rec.Services(ctx)
	if err != nil {
		return nil, err
	}
	var work []workload
	for _, s := range services {
		work = append(work, workload{resource: s.ARN, what: "service " + s.Name, taskDef: s.TaskDefinition})
	}
	tasks, err := c.standaloneTasks(ctx, cluster)
	if err != nil {
		return nil, err
	}
	work = append(work, tasks...)

	desired := map[string]reconcile.Desired{}
	for _, d := range c.good.desired {
		desired[d.Family] = d
	}
	var out []Finding
	for _, w := range work {
		rev, err := rec.Revision(ctx, w.taskDef)
		if err != nil {
			return nil, err
		}
		base := Finding{Resource: w.resource, Cluster: cluster, Family: rev.Family, Revision: rev.ARN}
		d, managed := desired[rev.Family]
		if !managed {
			f := base
			f.Kind = KindUnmanaged
			f.Detail = fmt.Sprintf("%s runs %s, a family the Git repo does not have", w.what, shortARN(rev.ARN))
			out = append(out, f)
		}
		if why := c.unprotected(rev.Family, rev.Definition, d.Definition); len(why) > 0 {
			f := base
			f.Kind = KindUnprotected
			f.Detail = fmt.Sprintf("%s runs %s: %s", w.what, shortARN(rev.ARN), strings.Join(why, "; "))
			out = append(out, f)
		}
		if managed {
			if want := c.good.hash(d); rev.ContentHash() != want {
				f := base
				f.Kind = KindOutOfSync
				f.Detail = fmt.Sprintf("%s runs %s, which differs from %s in Git (%s)", w.what, shortARN(rev.ARN), d.SourcePath, c.good.snapshot.ID)
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// standaloneTasks lists RUNNING tasks not started by a service.
func (c *Controller) standaloneTasks(ctx context.Context, cluster string) ([]workload, error) {
	var arns []string
	p := ecs.NewListTasksPaginator(c.client, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: types.DesiredStatusRunning})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		arns = append(arns, page.TaskArns...)
	}
	var out []workload
	for batch := range slices.Chunk(arns, 100) { // DescribeTasks takes at most 100
		res, err := c.client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch})
		if err != nil {
			return nil, fmt.Errorf("describe tasks: %w", err)
		}
		for _, t := range res.Tasks {
			if strings.HasPrefix(aws.ToString(t.Group), "service:") || strings.HasPrefix(aws.ToString(t.StartedBy), "ecs-svc/") {
				continue // the service's own task: the service is scanned
			}
			out = append(out, workload{resource: aws.ToString(t.TaskArn), what: "task " + shortARN(aws.ToString(t.TaskArn)), taskDef: aws.ToString(t.TaskDefinitionArn)})
		}
	}
	return out, nil
}

// unprotected checks a live task definition itself: the init container is there with the
// configured defender image, every application container not skipped by taskward.yaml
// starts through the defender, and carries a policy, the repo's when the family is managed.
func (c *Controller) unprotected(family string, live, desired *ojson.Value) []string {
	cfg := c.good.repo.Config
	var why []string
	cds := live.Get("containerDefinitions")
	var init *ojson.Value
	for _, cd := range arr(cds) {
		if cd.Get("name").StringOr("") == manifests.InitContainerName {
			init = cd
		}
	}
	switch {
	case init == nil:
		why = append(why, "no "+manifests.InitContainerName+" init container")
	case init.Get("image").StringOr("") != cfg.Defender.Image:
		why = append(why, fmt.Sprintf("defender image %s, not the configured %s", init.Get("image").StringOr(""), cfg.Defender.Image))
	}
	wantPolicy := map[string]string{}
	for _, cd := range arr(desired.Get("containerDefinitions")) {
		wantPolicy[cd.Get("name").StringOr("")] = envValue(cd, manifests.EnvPolicy)
	}
	for _, cd := range arr(cds) {
		name := cd.Get("name").StringOr("")
		if name == manifests.InitContainerName || cfg.Skipped(family, name, cd.Get("image").StringOr("")) != nil {
			continue
		}
		ep, _ := cd.Get("entryPoint").Strings()
		if !slices.Equal(ep, manifests.DefenderEntryPoint) {
			why = append(why, fmt.Sprintf("container %s does not start through the defender", name))
			continue
		}
		got := envValue(cd, manifests.EnvPolicy)
		switch want, managed := wantPolicy[name]; {
		case got == "":
			why = append(why, fmt.Sprintf("container %s has no policy (%s stripped)", name, manifests.EnvPolicy))
		case managed && want != "" && got != want:
			why = append(why, fmt.Sprintf("container %s runs a policy that is not the repo's", name))
		}
	}
	return why
}

func arr(v *ojson.Value) []*ojson.Value {
	if v == nil || v.Kind != ojson.Array {
		return nil
	}
	return v.Arr
}

func envValue(cd *ojson.Value, name string) string {
	for _, kv := range arr(cd.Get("environment")) {
		if kv.Get("name").StringOr("") == name {
			return kv.Get("value").StringOr("")
		}
	}
	return ""
}

func shortARN(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// hash returns the content hash of a desired definition, computed once per good state.
func (s *desiredState) hash(d reconcile.Desired) string {
	if s.hashes == nil {
		s.hashes = map[string]string{}
	}
	h, ok := s.hashes[d.Family]
	if !ok {
		h = reconcile.ContentHash(d.Definition)
		s.hashes[d.Family] = h
	}
	return h
}
