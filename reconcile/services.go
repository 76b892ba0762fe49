package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/internal/ojson"
)

// Services in Git (services/*.json, CreateService input): plan and apply create them,
// update the fields UpdateService can change, report the ones it cannot as needing a
// replacement, and with prune delete the services taskward created that Git no longer has.

// Actions on services.
const (
	ActionCreate  Action = "create"  // the service is in Git, not in the cluster
	ActionUpdate  Action = "update"  // UpdateService-able fields differ
	ActionReplace Action = "replace" // a field ECS cannot change in place differs: not applied
	ActionDelete  Action = "delete"  // prune: taskward created it, Git no longer has it
)

// DesiredService is one service as Git wants it.
type DesiredService struct {
	Name       string
	Cluster    string // "" for every cluster
	Family     string // the task definition family it runs
	SourcePath string
	Definition *ojson.Value // CreateService input, as in Git
}

// updatableFields are the CreateService fields UpdateService takes too, with the value
// ECS gives each when it is left out (so that a just-applied service diffs clean).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
var updatableFields = []struct {
	name string
	def  string // JSON
}{
	{"capacityProviderStrategy", `[]`},
	{"deploymentConfiguration", `{"deploymentCircuitBreaker":{"enable":false,"rollback":false},"maximumPercent":200,"minimumHealthyPercent":100}`},
	{"enableECSManagedTags", `false`},
	{"enableExecuteCommand", `false`},
	{"healthCheckGracePeriodSeconds", `0`},
	{"loadBalancers", `[]`},
	{"networkConfiguration", `null`},
	{"placementConstraints", `[]`},
	{"placementStrategy", `[]`},
	{"platformVersion", `null`},
	{"propagateTags", `"NONE"`},
	{"serviceRegistries", `[]`},
}

// replaceFields are CreateService fields UpdateService cannot change: a difference needs
// a new service (ECS's own answer is to create one and delete the old).
var replaceFields = []struct{ name, def string }{
	{"launchType", `null`},
	{"schedulingStrategy", `"REPLICA"`},
	{"role", `null`},
	{"deploymentController", `{"type":"ECS"}`},
}

// fieldValue is v's field name as compared: absent or null is the ECS default; an object
// is overlaid on the default's object, and only the keys Git may set are kept from live
// (server-added members are not drift).
func fieldValue(v *ojson.Value, name, def string) *ojson.Value {
	d, _ := ojson.Parse([]byte(def))
	f := v.Get(name)
	if f.IsNull() {
		return d
	}
	if f.Kind == ojson.Object && d.Kind == ojson.Object {
		out := d.Clone()
		for _, m := range f.Obj {
			if m.Value.Kind == ojson.Object && out.Get(m.Key) != nil && out.Get(m.Key).Kind == ojson.Object {
				merged := out.Get(m.Key).Clone()
				for _, mm := range m.Value.Obj {
					merged.Set(mm.Key, mm.Value)
				}
				out.Set(m.Key, merged)
				continue
			}
			out.Set(m.Key, m.Value)
		}
		return out
	}
	return f
}

// sameField compares a field of desired and live, keeping from live's objects only the
// keys desired (with defaults) has.
func sameField(desired, live *ojson.Value, name, def string) bool {
	d, l := fieldValue(desired, name, def), fieldValue(live, name, def)
	return string(canonical(normalizeService(d)).Marshal()) == string(canonical(normalizeService(l)).Marshal())
}

// prune keeps from l only the object members d has (recursively).
func prune(l, d *ojson.Value) *ojson.Value {
	if l == nil || d == nil || l.Kind != ojson.Object || d.Kind != ojson.Object {
		return l
	}
	out := ojson.NewObject()
	for _, m := range l.Obj {
		if dv := d.Get(m.Key); dv != nil {
			out.Set(m.Key, prune(m.Value, dv))
		}
	}
	return out
}

// normalizeService sorts what ECS treats as sets: subnets and security groups.
func normalizeService(v *ojson.Value) *ojson.Value {
	v = v.Clone()
	if aw := v.Get("awsvpcConfiguration"); aw != nil && aw.Kind == ojson.Object {
		for _, k := range []string{"subnets", "securityGroups"} {
			if l := aw.Get(k); l != nil && l.Kind == ojson.Array {
				slices.SortFunc(l.Arr, func(a, b *ojson.Value) int { return strings.Compare(a.StringOr(""), b.StringOr("")) })
			}
		}
		if aw.Get("assignPublicIp").IsNull() {
			aw.Set("assignPublicIp", ojson.NewString("DISABLED"))
		}
	}
	return v
}

// serviceDrift lists the fields of a live service that differ from its file in Git: the
// ones plan would update or replace, and desiredCount when Git sets it and no Application
// Auto Scaling scalable target owns it. The plan and the drift scan share it.
func serviceDrift(ds *DesiredService, s *Service) []string {
	var fields []string
	for _, f := range append(slices.Clone(replaceFields), updatableFields...) {
		if !sameField(ds.Definition, s.Raw, f.name, f.def) {
			fields = append(fields, f.name)
		}
	}
	if n := ds.Definition.Get("desiredCount"); !n.IsNull() && !s.AutoScaled && s.Raw.Get("desiredCount") != nil && string(n.Marshal()) != string(s.Raw.Get("desiredCount").Marshal()) {
		fields = append(fields, "desiredCount")
	}
	return fields
}

// serviceHash identifies a service file's content (canonical JSON).
func serviceHash(ds *DesiredService) string {
	sum := sha256.Sum256(canonical(ds.Definition).Marshal())
	return "sha256:" + hex.EncodeToString(sum[:])
}

func changePaths(cs []Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Path)
	}
	return strings.Join(out, ", ")
}

// planServices plans the desired services of live's cluster.
func planServices(desired []Desired, live *Live, opts PlanOptions) []ResourcePlan {
	byName := map[string]*Service{}
	for i := range live.Services {
		byName[live.Services[i].Name] = &live.Services[i]
	}
	var out []ResourcePlan
	want := map[string]bool{}
	for _, d := range desired {
		ds := d.Service
		if ds == nil || (ds.Cluster != "" && ds.Cluster != live.Cluster) {
			continue
		}
		want[ds.Name] = true
		rp := ResourcePlan{Kind: KindService, Name: ds.Name, Family: ds.Family, SourcePath: ds.SourcePath, Action: ActionNoop, service: ds}
		s := byName[ds.Name]
		if s == nil {
			rp.Action, rp.Reason = ActionCreate, "not in cluster "+live.Cluster
			out = append(out, rp)
			continue
		}
		rp.LatestARN = s.ARN
		if n := ds.Definition.Get("desiredCount"); !n.IsNull() {
			switch {
			case s.AutoScaled:
				rp.Notes = append(rp.Notes, fmt.Sprintf("%s (scalable target %s): left at %d, Git's %s is not applied",
					NoteAutoScaled, scalableResourceID(live.Cluster, s.Name), s.DesiredCount, n.Marshal()))
			case s.AutoScalingWarning != "":
				rp.Notes = append(rp.Notes, "warning: "+s.AutoScalingWarning)
			}
		}
		var replace []string
		for _, f := range serviceDrift(ds, s) {
			if slices.ContainsFunc(replaceFields, func(r struct{ name, def string }) bool { return r.name == f }) {
				replace = append(replace, f)
			} else {
				rp.Changes = append(rp.Changes, Change{Path: f})
			}
		}
		switch {
		case len(rp.Changes) > 0 && len(replace) == 0 && opts.KeepOutOfBand && s.Tags[TagServiceHash] == serviceHash(ds):
			// The file is what taskward last applied: the differences were made outside.
			rp.Action, rp.Reason = ActionUpdate, "service settings changed outside taskward"
			rp.Hold = fmt.Sprintf("out-of-band change of %s: %s is unchanged since taskward applied it (commit %s); not reverted without self-heal",
				changePaths(rp.Changes), ds.SourcePath, orUnknown(s.Tags[TagCommit]))
		case len(replace) > 0:
			rp.Action = ActionReplace
			rp.Hold = fmt.Sprintf("%s cannot be changed in place: create a service with another name, move traffic, then remove this one from Git (prune deletes it)", strings.Join(replace, ", "))
			rp.Reason = "needs replacement"
		case len(rp.Changes) > 0:
			rp.Action, rp.Reason = ActionUpdate, "service settings changed"
		}
		out = append(out, rp)
	}
	if opts.Prune {
		for _, s := range live.Services {
			if want[s.Name] || s.Tags[TagManagedBy] != ManagedByValue || !strings.HasPrefix(s.Tags[TagSource], "services/") {
				continue
			}
			out = append(out, ResourcePlan{Kind: KindService, Name: s.Name, Family: s.Family, SourcePath: s.Tags[TagSource], LatestARN: s.ARN,
				Action: ActionDelete, Reason: "created by taskward from Git, no longer in Git: scaled to 0, then deleted"})
		}
	}
	return out
}

// applyService creates, updates or deletes one service. target is the revision its
// family's plan settled on (registered, or the latest).
func (r *Reconciler) applyService(ctx context.Context, rp *ResourcePlan, target string, out *ResourceResult) error {
	switch rp.Action {
	case ActionCreate:
		body := rp.service.Definition.Clone()
		body.Set("cluster", ojson.NewString(r.cluster))
		body.Set("taskDefinition", ojson.NewString(target))
		tags := [][2]string{{TagManagedBy, ManagedByValue}, {TagSource, tagValue(rp.SourcePath)}, {TagServiceHash, serviceHash(rp.service)}}
		if r.commit != "" {
			tags = append(tags, [2]string{TagCommit, tagValue(r.commit)})
		}
		body.Set("tags", withTaskwardTags(body, tags))
		var in ecs.CreateServiceInput
		raw := body.Marshal()
		if err := json.Unmarshal(raw, &in); err != nil {
			return fmt.Errorf("does not fit the CreateService shape: %w", err)
		}
		if _, err := r.client.CreateService(ctx, &in, sendBody(raw)); err != nil {
			return err
		}
		out.UpdatedServices = append(out.UpdatedServices, rp.Name)
		out.Registered = target
	case ActionUpdate:
		body := ojson.NewObject()
		body.Set("cluster", ojson.NewString(r.cluster))
		body.Set("service", ojson.NewString(rp.Name))
		for _, c := range rp.Changes {
			v := rp.service.Definition.Get(c.Path)
			if v.IsNull() {
				for _, f := range updatableFields {
					if f.name == c.Path {
						v, _ = ojson.Parse([]byte(f.def))
					}
				}
			}
			if !v.IsNull() {
				body.Set(c.Path, v)
			}
		}
		var in ecs.UpdateServiceInput
		raw := body.Marshal()
		if err := json.Unmarshal(raw, &in); err != nil {
			return fmt.Errorf("does not fit the UpdateService shape: %w", err)
		}
		if _, err := r.client.UpdateService(ctx, &in, sendBody(raw)); err != nil {
			return err
		}
		out.UpdatedServices = append(out.UpdatedServices, rp.Name)
		tags := []types.Tag{{Key: aws.String(TagServiceHash), Value: aws.String(serviceHash(rp.service))}}
		if r.commit != "" {
			tags = append(tags, types.Tag{Key: aws.String(TagCommit), Value: aws.String(tagValue(r.commit))})
		}
		if _, err := r.client.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(rp.LatestARN), Tags: tags}); err != nil {
			r.log.WarnContext(ctx, "cannot tag the service with what taskward applied; its out-of-band changes will be reverted", "service", rp.Name, "error", err)
		}
	case ActionDelete:
		if _, err := r.client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(r.cluster), Service: aws.String(rp.LatestARN), DesiredCount: aws.Int32(0)}); err != nil {
			return fmt.Errorf("scale to 0: %w", err)
		}
		if _, err := r.client.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(r.cluster), Service: aws.String(rp.LatestARN)}); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		out.Deregistered = append(out.Deregistered, rp.LatestARN)
	case ActionReplace:
		return errors.New(rp.Hold)
	}
	return nil
}
