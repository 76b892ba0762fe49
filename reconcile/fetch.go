package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/taskward/taskward/internal/ojson"
)

// describeServicesBatch is DescribeServices' limit per call.
const describeServicesBatch = 10

// Live reads the live state Plan needs for desired: the latest ACTIVE revision of each
// desired family (and, with prune, of every family, to find the managed ones) and the
// cluster's services. Revisions already in the cache are not described again. An error
// in any call fails the whole read: planning from a partial view would register families
// that exist.
func (r *Reconciler) Live(ctx context.Context, desired []Desired) (*Live, error) {
	live := &Live{Cluster: r.cluster, Families: map[string]*LiveFamily{}}
	want := make(map[string]bool, len(desired))
	for _, d := range desired {
		if d.Service == nil {
			want[d.Family] = true
		}
	}

	var toDescribe []string // ARNs, or family names with LookupDescribe
	if r.lookup == LookupList || r.prune {
		if err := r.listActive(ctx, live); err != nil {
			return nil, err
		}
		for name, lf := range live.Families {
			if r.lookup == LookupDescribe && want[name] {
				continue
			}
			if want[name] || r.prune {
				toDescribe = append(toDescribe, lf.Active[0])
			}
		}
	}
	if r.lookup == LookupDescribe {
		for name := range want {
			toDescribe = append(toDescribe, name)
		}
	}
	slices.Sort(toDescribe)

	var mu sync.Mutex
	err := forEach(ctx, r.concurrency, toDescribe, func(ctx context.Context, ref string) error {
		rev := r.cached(ref)
		if rev == nil {
			var err error
			rev, err = r.describe(ctx, ref)
			if errors.Is(err, errFamilyNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		mu.Lock()
		defer mu.Unlock()
		lf := live.Families[rev.Family]
		if lf == nil {
			lf = &LiveFamily{Family: rev.Family, Active: []string{rev.ARN}}
			live.Families[rev.Family] = lf
		}
		lf.Latest = rev
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := r.lastApplied(ctx, live, want); err != nil {
		return nil, err
	}
	live.Services, err = r.services(ctx)
	if err != nil {
		return nil, err
	}
	return live, nil
}

// lastAppliedDepth bounds how many revisions below the latest are described to find the
// one taskward last registered: out-of-band revisions on top of it are rare and few.
const lastAppliedDepth = 10

// lastApplied sets LastApplied of each desired family: Latest when taskward registered
// it (the steady state: no call), else the newest managed revision among the next
// lastAppliedDepth ACTIVE ones (described once per ARN for the Reconciler's life).
func (r *Reconciler) lastApplied(ctx context.Context, live *Live, want map[string]bool) error {
	for name := range want {
		lf := live.Families[name]
		if lf == nil || lf.Latest == nil {
			continue
		}
		if lf.Latest.Managed() {
			lf.LastApplied = lf.Latest
			continue
		}
		for i, arn := range lf.Active {
			if i > lastAppliedDepth {
				break
			}
			if arn == lf.Latest.ARN {
				continue
			}
			rev := r.cached(arn)
			if rev == nil {
				var err error
				if rev, err = r.describe(ctx, arn); err != nil {
					return err
				}
			}
			if rev.Managed() {
				lf.LastApplied = rev
				break
			}
		}
	}
	return nil
}

// listActive pages through every ACTIVE revision, newest first, into live.Families.
func (r *Reconciler) listActive(ctx context.Context, live *Live) error {
	in := &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusActive, Sort: types.SortOrderDesc, MaxResults: aws.Int32(100)}
	for {
		out, err := r.client.ListTaskDefinitions(ctx, in)
		if err != nil {
			return fmt.Errorf("list task definitions: %w", err)
		}
		for _, arn := range out.TaskDefinitionArns {
			family, _, err := ParseTaskDefinitionARN(arn)
			if err != nil {
				return fmt.Errorf("list task definitions: %w", err)
			}
			lf := live.Families[family]
			if lf == nil {
				lf = &LiveFamily{Family: family}
				live.Families[family] = lf
			}
			lf.Active = append(lf.Active, arn)
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	// DESC already puts the newest revision first; sort anyway so that the order does not
	// depend on how an implementation breaks ties.
	for _, lf := range live.Families {
		slices.SortFunc(lf.Active, func(a, b string) int {
			_, ra, _ := ParseTaskDefinitionARN(a)
			_, rb, _ := ParseTaskDefinitionARN(b)
			return rb - ra
		})
	}
	return nil
}

var errFamilyNotFound = errors.New("task definition not found")

// describe fetches one revision (by ARN, or the latest ACTIVE of a family by name) with
// its tags, from the raw response, and caches it.
func (r *Reconciler) describe(ctx context.Context, ref string) (*Revision, error) {
	var raw rawCapture
	_, err := r.client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref),
		Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	}, captureBody(&raw))
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("describe task definition %s: %w (%w)", ref, errFamilyNotFound, err)
		}
		return nil, fmt.Errorf("describe task definition %s: %w", ref, err)
	}
	rev, err := revisionFromBody(raw.body)
	if err != nil {
		return nil, fmt.Errorf("describe task definition %s: %w", ref, err)
	}
	r.remember(rev)
	return rev, nil
}

// revisionFromBody reads a DescribeTaskDefinition or RegisterTaskDefinition response:
// {"taskDefinition": {...}, "tags": [...]}.
func revisionFromBody(body []byte) (*Revision, error) {
	if body == nil {
		return nil, errNoRawBody
	}
	v, err := ojson.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("response body: %w", err)
	}
	td := v.Get("taskDefinition")
	if td == nil || td.Kind != ojson.Object {
		return nil, errors.New("response has no taskDefinition object")
	}
	arn := td.Get("taskDefinitionArn").StringOr("")
	tags := map[string]string{}
	if t := v.Get("tags"); t != nil && t.Kind == ojson.Array {
		for _, e := range t.Arr {
			tags[e.Get("key").StringOr("")] = e.Get("value").StringOr("")
		}
		if len(t.Arr) > 0 {
			td.Set("tags", t)
		}
	}
	return NewRevision(arn, td, tags)
}

// services lists the cluster's services and describes them in batches of ten.
func (r *Reconciler) services(ctx context.Context) ([]Service, error) {
	var arns []string
	in := &ecs.ListServicesInput{Cluster: aws.String(r.cluster), MaxResults: aws.Int32(100)}
	for {
		out, err := r.client.ListServices(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list services of cluster %s: %w", r.cluster, err)
		}
		arns = append(arns, out.ServiceArns...)
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	var batches [][]string
	for b := range slices.Chunk(arns, describeServicesBatch) {
		batches = append(batches, b)
	}
	var mu sync.Mutex
	var all []Service
	err := forEach(ctx, r.concurrency, batches, func(ctx context.Context, batch []string) error {
		var raw rawCapture
		out, err := r.client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(r.cluster), Services: batch,
			Include: []types.ServiceField{types.ServiceFieldTags}}, captureBody(&raw))
		if err != nil {
			return fmt.Errorf("describe services of cluster %s: %w", r.cluster, err)
		}
		rawByARN := map[string]*ojson.Value{}
		if v, perr := ojson.Parse(raw.body); perr == nil {
			for _, sv := range v.Get("services").Arr {
				rawByARN[sv.Get("serviceArn").StringOr("")] = sv
			}
		}
		// failures (reason MISSING) are services deleted since the list: nothing to do.
		mu.Lock()
		defer mu.Unlock()
		for _, s := range out.Services {
			if aws.ToString(s.Status) != "ACTIVE" {
				continue
			}
			td := aws.ToString(s.TaskDefinition)
			family, _, _ := ParseTaskDefinitionARN(td)
			ctrl := "ECS"
			if s.DeploymentController != nil {
				ctrl = string(s.DeploymentController.Type)
			}
			tags := map[string]string{}
			for _, t := range s.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			svc := Service{Name: aws.ToString(s.ServiceName), ARN: aws.ToString(s.ServiceArn),
				TaskDefinition: td, Family: family, DeploymentController: ctrl, Tags: tags,
				DesiredCount: s.DesiredCount, RunningCount: s.RunningCount, Raw: rawByARN[aws.ToString(s.ServiceArn)]}
			for _, d := range s.Deployments {
				svc.Deployments = append(svc.Deployments, Deployment{ID: aws.ToString(d.Id), Status: aws.ToString(d.Status),
					TaskDefinition: aws.ToString(d.TaskDefinition), RolloutState: string(d.RolloutState),
					Reason: aws.ToString(d.RolloutStateReason), FailedTasks: d.FailedTasks})
			}
			for _, e := range s.Events {
				svc.Events = append(svc.Events, aws.ToString(e.Message))
			}
			all = append(all, svc)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b Service) int { return cmpString(a.Name, b.Name) })
	if err := r.markAutoScaled(ctx, all); err != nil {
		return nil, err
	}
	return all, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// forEach runs fn over items with at most n in flight and returns every error, joined.
// The first error stops items not yet started; a cancelled ctx does too.
func forEach[T any](parent context.Context, n int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	if len(errs) == 0 {
		return parent.Err()
	}
	return errors.Join(errs...)
}
