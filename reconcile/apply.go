package reconcile

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/taskward/taskward/internal/ojson"
)

// ApplyResult reports what Apply did, per resource, in the plan's order.
type ApplyResult struct {
	Resources []ResourceResult `json:"resources"`
}

// ResourceResult is one resource's outcome.
type ResourceResult struct {
	Kind   ResourceKind `json:"kind"`
	Name   string       `json:"name"`
	Family string       `json:"family"`
	Action Action       `json:"action"`
	// Registered is the revision the family's services now target: the one registered,
	// or, when Reused, the existing revision that already carried the content hash.
	Registered      string   `json:"registered,omitempty"`
	Reused          bool     `json:"reused,omitempty"`
	UpdatedServices []string `json:"updatedServices,omitempty"`
	Deregistered    []string `json:"deregistered,omitempty"`
	Err             error    `json:"-"`
}

// Resource returns the result of the resource key, or nil (also for a nil result).
func (r *ApplyResult) Resource(k ResourceKey) *ResourceResult {
	if r == nil {
		return nil
	}
	for i := range r.Resources {
		if r.Resources[i].Kind == k.Kind && r.Resources[i].Name == k.Name {
			return &r.Resources[i]
		}
	}
	return nil
}

// Err returns the families' errors joined (each a *ResourceError), or nil.
func (r *ApplyResult) Err() error {
	var errs []error
	for _, f := range r.Resources {
		if f.Err != nil {
			errs = append(errs, f.Err)
		}
	}
	return errors.Join(errs...)
}

// Apply carries out a plan: families run concurrently (bounded by WithConcurrency) and
// independently, so one family's failure is reported in its ResourceResult and the others
// go on. For a register it first checks whether the family's latest revision already
// carries the desired content hash (a run that crashed after registering, or a concurrent
// one) and reuses it; otherwise it registers with the taskward.dev tags. Then it moves the
// family's services to the revision. The returned error is ctx's, if it ended the run;
// per-family errors are in the result (ApplyResult.Err).
func (r *Reconciler) Apply(ctx context.Context, plan *PlanResult) (*ApplyResult, error) {
	res := &ApplyResult{Resources: make([]ResourceResult, len(plan.Resources))}
	// Two waves: task definitions first, then services in Git, which run the revisions
	// the first wave settled on.
	r.applyWave(ctx, plan, res, KindTaskDefinition, nil)
	targets := map[string]string{} // family -> revision its services run
	for i, fp := range plan.Resources {
		if fp.Kind != KindTaskDefinition {
			continue
		}
		switch out := res.Resources[i]; {
		case out.Err != nil:
		case out.Registered != "":
			targets[fp.Family] = out.Registered
		case fp.Action == ActionRegister && fp.Hold != "":
			for _, su := range fp.ServiceUpdates {
				targets[fp.Family] = cmp.Or(su.To, targets[fp.Family])
			}
		case fp.Action != ActionRegister:
			targets[fp.Family] = fp.LatestARN
		}
	}
	r.applyWave(ctx, plan, res, KindService, targets)
	return res, ctx.Err()
}

// applyWave applies the actionable resources of one kind, concurrently.
func (r *Reconciler) applyWave(ctx context.Context, plan *PlanResult, res *ApplyResult, kind ResourceKind, targets map[string]string) {
	sem := make(chan struct{}, r.concurrency)
	var wg sync.WaitGroup
	for i := range plan.Resources {
		fp := &plan.Resources[i]
		if fp.Kind != kind {
			continue
		}
		res.Resources[i] = ResourceResult{Kind: fp.Kind, Name: fp.Name, Family: fp.Family, Action: fp.Action}
		if !fp.actionable() {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			res.Resources[i].Err = &ResourceError{Key: fp.Key(), SourcePath: fp.SourcePath, Op: string(fp.Action), Err: ctx.Err()}
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if kind == KindService {
				target := targets[fp.Family]
				if target == "" && fp.Action == ActionCreate {
					res.Resources[i].Err = &ResourceError{Key: fp.Key(), SourcePath: fp.SourcePath, Op: string(fp.Action),
						Err: fmt.Errorf("family %s has no revision to run (its register failed or is held)", fp.Family)}
					return
				}
				if err := r.applyService(ctx, fp, target, &res.Resources[i]); err != nil {
					res.Resources[i].Err = &ResourceError{Key: fp.Key(), SourcePath: fp.SourcePath, Op: string(fp.Action), Err: err}
					r.log.ErrorContext(ctx, "apply failed", "service", fp.Name, "op", string(fp.Action), "error", err)
				}
				return
			}
			r.applyResource(ctx, fp, &res.Resources[i])
		})
	}
	wg.Wait()
}

func (r *Reconciler) applyResource(ctx context.Context, fp *ResourcePlan, out *ResourceResult) {
	fail := func(op string, err error) {
		out.Err = errors.Join(out.Err, &ResourceError{Key: fp.Key(), SourcePath: fp.SourcePath, Op: op, Err: err})
		r.log.ErrorContext(ctx, "apply failed", "family", fp.Family, "op", op, "error", err)
	}
	switch fp.Action {
	case ActionPrune:
		for _, arn := range fp.Deregister {
			if _, err := r.client.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
				fail("deregister", fmt.Errorf("%s: %w", arn, err))
				continue
			}
			out.Deregistered = append(out.Deregistered, arn)
			r.log.InfoContext(ctx, "deregistered", "family", fp.Family, "arn", arn)
		}
		return
	case ActionRegister:
		if fp.Hold != "" {
			break // services move to the revision with Git's content (su.To)
		}
		rev, reused, err := r.register(ctx, fp)
		if err != nil {
			fail("register", err)
			return // services stay on their revision
		}
		out.Registered, out.Reused = rev.ARN, reused
	case ActionUpdateService:
		out.Registered = fp.LatestARN
	}
	for _, su := range fp.ServiceUpdates {
		if su.Hold != "" {
			continue
		}
		to := su.To
		if to == "" {
			to = out.Registered
		}
		upd, err := r.client.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String(r.cluster), Service: aws.String(su.ARN), TaskDefinition: aws.String(to),
		})
		if err != nil {
			fail("update-service", fmt.Errorf("service %s: %w", su.Service, err))
			continue
		}
		out.UpdatedServices = append(out.UpdatedServices, su.Service)
		r.log.InfoContext(ctx, "updated service", "family", fp.Family, "service", su.Service, "taskDefinition", to)
		// Record on the service what taskward deployed to it, so that a restarted
		// controller tells its own changes from out-of-band ones. A crash before this
		// leaves the old record: the next run updates the service again (idempotent).
		// ECS refuses tags on services with the old ARN format: then that service's
		// out-of-band changes cannot be told apart, and are reverted as before.
		deployment := ""
		if upd.Service != nil {
			for _, d := range upd.Service.Deployments {
				if aws.ToString(d.Status) == "PRIMARY" {
					deployment = aws.ToString(d.Id)
				}
			}
		}
		if err := r.tagService(ctx, su.ARN, fp.ContentHash, deployment); err != nil {
			r.log.WarnContext(ctx, "cannot tag the service with what taskward deployed; its out-of-band changes will be reverted", "service", su.Service, "error", err)
		}
	}
}

// tagService records on a service the content hash taskward deployed to it, the commit
// and the deployment UpdateService started.
func (r *Reconciler) tagService(ctx context.Context, arn, hash, deployment string) error {
	tags := []types.Tag{{Key: aws.String(TagManagedBy), Value: aws.String(ManagedByValue)}, {Key: aws.String(TagContentHash), Value: aws.String(hash)}}
	if deployment != "" {
		tags = append(tags, types.Tag{Key: aws.String(TagDeployment), Value: aws.String(tagValue(deployment))})
	}
	if r.commit != "" {
		tags = append(tags, types.Tag{Key: aws.String(TagCommit), Value: aws.String(tagValue(r.commit))})
	}
	_, err := r.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
	return err
}

// MarkRolloutFailed tags a service with the content hash whose rollout failed there, so
// that Plan holds it (no re-apply of the same content, no flapping) until Git changes the
// family or a retry is asked for.
func (r *Reconciler) MarkRolloutFailed(ctx context.Context, serviceARN, hash string) error {
	_, err := r.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(serviceARN),
		Tags: []types.Tag{{Key: aws.String(TagRolloutFailed), Value: aws.String(hash)}}})
	return err
}

// register registers fp's definition, unless the family's latest revision already
// carries its content hash.
func (r *Reconciler) register(ctx context.Context, fp *ResourcePlan) (rev *Revision, reused bool, err error) {
	latest, err := r.describe(ctx, fp.Family)
	switch {
	case errors.Is(err, errFamilyNotFound):
	case err != nil:
		return nil, false, err
	case latest.Tags[TagContentHash] == fp.ContentHash:
		r.log.InfoContext(ctx, "latest revision already has the desired content; not registering again", "family", fp.Family, "arn", latest.ARN)
		return latest, true, nil
	}

	tags := [][2]string{{TagManagedBy, ManagedByValue}, {TagSource, tagValue(fp.SourcePath)}}
	if r.commit != "" {
		tags = append(tags, [2]string{TagCommit, tagValue(r.commit)})
	}
	tags = append(tags, [2]string{TagContentHash, fp.ContentHash})
	body, in, err := registerInput(fp.desired, tags)
	if err != nil {
		return nil, false, err
	}
	var raw rawCapture
	if _, err := r.client.RegisterTaskDefinition(ctx, in, sendBody(body), captureBody(&raw)); err != nil {
		return nil, false, err
	}
	rev, err = revisionFromBody(raw.body)
	if err != nil {
		return nil, false, fmt.Errorf("registered, but: %w", err)
	}
	r.remember(rev)
	r.log.InfoContext(ctx, "registered", "family", fp.Family, "arn", rev.ARN, "contentHash", fp.ContentHash)
	return rev, false, nil
}

// registerInput builds the request body from the rendered definition exactly as Git has it
// (unknown fields included; a describe wrapper and server fields removed, as ECS would
// reject them) with the taskward tags replacing any old ones, and the typed input the SDK
// validates. The body is what is sent (rawbody.go).
func registerInput(def *ojson.Value, tags [][2]string) ([]byte, *ecs.RegisterTaskDefinitionInput, error) {
	if def == nil {
		return nil, nil, errors.New("no definition")
	}
	c := def.Clone()
	unwrapDescribeOutput(c)
	dropServerFields(c)
	c.Set("tags", withTaskwardTags(c, tags))
	body := c.Marshal()
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, nil, fmt.Errorf("definition does not fit the RegisterTaskDefinition shape: %w", err)
	}
	if len(in.Tags) > 50 {
		return nil, nil, fmt.Errorf("%d tags with taskward's: ECS allows 50", len(in.Tags))
	}
	return body, &in, nil
}

// Sync is one reconcile: read live state, plan, and unless dryRun apply. The plan is
// returned even when apply fails; the error is the first phase's that stopped the run.
func (r *Reconciler) Sync(ctx context.Context, desired []Desired, dryRun bool) (*PlanResult, *ApplyResult, error) {
	live, err := r.Live(ctx, desired)
	if err != nil {
		return nil, nil, err
	}
	plan, err := r.Plan(desired, live)
	if err != nil || dryRun || !plan.Actionable() {
		return plan, nil, err
	}
	res, err := r.Apply(ctx, plan)
	return plan, res, err
}
