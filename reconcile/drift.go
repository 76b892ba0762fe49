package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/manifests"
)

// Finding is one drift: something running in ECS that is not what Git says.
type Finding struct {
	Kind     DriftKind `json:"kind"`
	Resource string    `json:"resource"` // service or task ARN
	Cluster  string    `json:"cluster"`
	Family   string    `json:"family,omitempty"`
	// Revision is the task definition ARN the resource runs; a new revision re-fires.
	Revision string `json:"revision,omitempty"`
	Detail   string `json:"detail"`
}

// Workload is one thing running a task definition: a service, or a task no service
// started, with the revision it runs described.
type Workload struct {
	Resource string // service or task ARN
	What     string // "service web", "task 0123…"
	Revision *Revision
	Service  *Service // for a service: as described, to compare with a service in Git
}

// Workloads reads what runs in the Reconciler's cluster: every ACTIVE service and every
// RUNNING task no service started, each with its revision (described once per ARN for
// the Reconciler's life).
func (r *Reconciler) Workloads(ctx context.Context) ([]Workload, error) {
	services, err := r.services(ctx)
	if err != nil {
		return nil, err
	}
	type ref struct {
		resource, what, taskDef string
		svc                     *Service
	}
	var refs []ref
	for i, s := range services {
		refs = append(refs, ref{s.ARN, "service " + s.Name, s.TaskDefinition, &services[i]})
	}
	var arns []string
	p := ecs.NewListTasksPaginator(r.client, &ecs.ListTasksInput{Cluster: aws.String(r.cluster), DesiredStatus: types.DesiredStatusRunning})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		arns = append(arns, page.TaskArns...)
	}
	for batch := range slices.Chunk(arns, 100) { // DescribeTasks takes at most 100
		res, err := r.client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.cluster), Tasks: batch})
		if err != nil {
			return nil, fmt.Errorf("describe tasks: %w", err)
		}
		for _, t := range res.Tasks {
			if strings.HasPrefix(aws.ToString(t.Group), "service:") || strings.HasPrefix(aws.ToString(t.StartedBy), "ecs-svc/") {
				continue // a service's own task: the service is looked at
			}
			arn := aws.ToString(t.TaskArn)
			refs = append(refs, ref{arn, "task " + ShortARN(arn), aws.ToString(t.TaskDefinitionArn), nil})
		}
	}
	out := make([]Workload, 0, len(refs))
	for _, w := range refs {
		rev, err := r.Revision(ctx, w.taskDef)
		if err != nil {
			return nil, err
		}
		out = append(out, Workload{Resource: w.resource, What: w.what, Revision: rev, Service: w.svc})
	}
	return out, nil
}

// DriftClassifier classifies workloads against one good commit's desired state. It is
// pure: tables in, findings out; the controller only schedules it.
type DriftClassifier struct {
	cfg      *manifests.Config
	commit   string
	desired  map[string]Desired
	hash     map[string]string // family -> content hash of the desired definition
	services []*DesiredService
}

// NewDriftClassifier prepares the desired side once (content hashes) for commit.
func NewDriftClassifier(cfg *manifests.Config, commit string, desired []Desired) *DriftClassifier {
	c := &DriftClassifier{cfg: cfg, commit: commit, desired: map[string]Desired{}, hash: map[string]string{}}
	for _, d := range desired {
		if d.Service != nil {
			c.services = append(c.services, d.Service)
			continue
		}
		c.desired[d.Family] = d
		c.hash[d.Family] = ContentHash(d.Definition)
	}
	return c
}

// Classify returns the drift of the cluster's workloads: unmanaged (a family Git does not
// have), unprotected (the render contract, as manifests defines it, is not met) and
// out-of-sync (a managed family running other content than Git's).
func (c *DriftClassifier) Classify(cluster string, work []Workload) []Finding {
	var out []Finding
	for _, w := range work {
		rev := w.Revision
		base := Finding{Resource: w.Resource, Cluster: cluster, Family: rev.Family, Revision: rev.ARN}
		d, managed := c.desired[rev.Family]
		if !managed {
			f := base
			f.Kind = DriftUnmanaged
			f.Detail = fmt.Sprintf("%s runs %s, a family the Git repo does not have", w.What, ShortARN(rev.ARN))
			out = append(out, f)
		}
		if why := c.cfg.Unprotected(rev.Family, rev.Definition, d.Definition); len(why) > 0 {
			f := base
			f.Kind = DriftUnprotected
			f.Detail = fmt.Sprintf("%s runs %s: %s", w.What, ShortARN(rev.ARN), strings.Join(why, "; "))
			out = append(out, f)
		}
		if managed && rev.ContentHash() != c.hash[rev.Family] {
			f := base
			f.Kind = DriftOutOfSync
			f.Detail = fmt.Sprintf("%s runs %s, which differs from %s in Git (%s)", w.What, ShortARN(rev.ARN), d.SourcePath, c.commit)
			out = append(out, f)
		}
		if w.Service != nil {
			if ds := c.service(cluster, w.Service.Name); ds != nil {
				if fields := serviceDrift(ds, w.Service); len(fields) > 0 {
					f := base
					f.Kind = DriftOutOfSync
					f.Detail = fmt.Sprintf("%s: %s differ from %s in Git (%s)", w.What, strings.Join(fields, ", "), ds.SourcePath, c.commit)
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// service returns the service in Git of that name for cluster, or nil.
func (c *DriftClassifier) service(cluster, name string) *DesiredService {
	for _, ds := range c.services {
		if ds.Name == name && (ds.Cluster == "" || ds.Cluster == cluster) {
			return ds
		}
	}
	return nil
}

// ShortARN is the last part of an ARN: "web:3" for a task definition, the task id for a
// task.
func ShortARN(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
