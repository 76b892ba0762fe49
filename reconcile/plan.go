package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
)

// Action is what apply does for one family.
type Action string

const (
	ActionNoop          Action = "noop"           // live matches Git, every service runs the latest revision
	ActionRegister      Action = "register"       // new or changed: register a revision, then move the family's services to it
	ActionUpdateService Action = "update-service" // live matches Git, but a service runs another revision
	ActionPrune         Action = "prune"          // taskward-managed family removed from Git: deregister its ACTIVE revisions
)

// PlanOptions are the decisions Plan leaves to the caller.
type PlanOptions struct {
	// Prune deregisters families that ECS has tagged managed-by=taskward and Git no longer
	// has. Off by default; refused for an empty desired set.
	Prune bool
	// KeepOutOfBand holds (reports, does not revert) out-of-band changes: a revision
	// registered or a service moved outside taskward, for a family whose desired content
	// is what taskward last applied (read from ECS tags, so it survives restarts). A
	// commit that changes the family applies it. The controller without --self-heal sets
	// it; the CLI's apply reverts, as a person running it asks.
	KeepOutOfBand bool
	// Retry applies again content whose rollout failed on a service (its
	// taskward.dev/rollout-failed tag); without it that content is held until Git changes.
	Retry bool
}

// PlanResult is the outcome of [Plan]: one entry per resource, sorted by kind, then name
// (gitops-engine keys its sync by resource the same way).
type PlanResult struct {
	Resources []ResourcePlan `json:"resources"`
}

// ResourcePlan is the plan for one resource: a task-definition family, or a service.
type ResourcePlan struct {
	Kind ResourceKind `json:"kind"`
	Name string       `json:"name"` // the family, or the service name
	// Family is the task-definition family the resource is, or runs.
	Family      string   `json:"family"`
	SourcePath  string   `json:"sourcePath,omitempty"`
	Action      Action   `json:"action"`
	ContentHash string   `json:"contentHash,omitempty"` // of the desired definition
	LatestARN   string   `json:"latestArn,omitempty"`   // latest ACTIVE live revision, if any
	Reason      string   `json:"reason,omitempty"`
	Changes     []Change `json:"changes,omitempty"` // desired vs latest live revision
	// ServiceUpdates move services to the target revision: LatestARN for update-service,
	// the revision the register creates for register.
	ServiceUpdates []ServiceUpdate `json:"serviceUpdates,omitempty"`
	// Deregister lists the ACTIVE revision ARNs a prune deregisters.
	Deregister []string `json:"deregister,omitempty"`
	Notes      []string `json:"notes,omitempty"` // things the plan saw but will not act on
	// Hold says why the register is not applied (an out-of-band change kept, see
	// PlanOptions.KeepOutOfBand); the action is what reverting would do.
	Hold string `json:"hold,omitempty"`

	desired *ojson.Value    // the rendered definition, for apply
	service *DesiredService // a service in Git, for apply
	diff    *FieldDiff
}

// ServiceUpdate is one UpdateService call.
type ServiceUpdate struct {
	Service string `json:"service"` // name
	ARN     string `json:"arn"`
	From    string `json:"from"` // revision ARN it runs now
	To      string `json:"to,omitempty"`
	// Hold says why this update is not applied: an out-of-band change kept, or content
	// whose rollout failed on this service.
	Hold string `json:"hold,omitempty"`
}

// Diff returns the field diff behind a register action (nil for the others).
func (f *ResourcePlan) Diff() *FieldDiff { return f.diff }

// HasChanges reports whether applying the plan would change anything: the command exits 1
// for a pending plan and 0 for an empty one.
func (p *PlanResult) HasChanges() bool {
	for _, f := range p.Resources {
		if f.Action != ActionNoop {
			return true
		}
	}
	return false
}

// Key identifies the resource.
func (f *ResourcePlan) Key() ResourceKey { return ResourceKey{Kind: f.Kind, Name: f.Name} }

// Actionable reports whether apply would do anything: a change that is not held.
func (p *PlanResult) Actionable() bool {
	for i := range p.Resources {
		if p.Resources[i].actionable() {
			return true
		}
	}
	return false
}

func (f *ResourcePlan) actionable() bool {
	if f.Action == ActionNoop {
		return false
	}
	switch f.Action {
	case ActionRegister:
		if f.Hold == "" {
			return true
		}
	case ActionCreate, ActionUpdate:
		return f.Hold == ""
	case ActionPrune, ActionDelete:
		return true
	case ActionReplace:
		return false
	}
	for _, su := range f.ServiceUpdates {
		if su.Hold == "" {
			return true
		}
	}
	return false
}

// Held returns why (part of) the resource's change is held, or "".
func (f *ResourcePlan) Held() string {
	if f.Hold != "" {
		return f.Hold
	}
	for _, su := range f.ServiceUpdates {
		if su.Hold != "" {
			return su.Hold
		}
	}
	return ""
}

// Resource returns the plan of the resource key, or nil (also for a nil plan).
func (p *PlanResult) Resource(k ResourceKey) *ResourcePlan {
	if p == nil {
		return nil
	}
	for i := range p.Resources {
		if p.Resources[i].Key() == k {
			return &p.Resources[i]
		}
	}
	return nil
}

// Count returns the number of resources per action.
func (p *PlanResult) Count() map[Action]int {
	n := map[Action]int{}
	for _, f := range p.Resources {
		n[f.Action]++
	}
	return n
}

// ErrPruneEmptyDesired is returned by Plan when pruning is asked for and the desired set is
// empty: an empty or broken checkout must not deregister everything taskward manages.
var ErrPruneEmptyDesired = errors.New("refusing to prune: the desired set is empty (empty or broken checkout?)")

// Plan decides, per family, what apply must do to make live match desired. It is pure: it
// reads its arguments and nothing else, and does not modify them.
//
// A family is registered when it has no ACTIVE revision, or when its latest revision
// differs from desired ([Diff] not empty) and does not carry desired's content hash. The
// hash check makes apply idempotent across crashes: a revision registered by a run that
// died before updating services is recognised and reused, not registered again.
func Plan(desired []Desired, live *Live, opts PlanOptions) (*PlanResult, error) {
	if opts.Prune && len(desired) == 0 {
		return nil, ErrPruneEmptyDesired
	}
	if live == nil {
		live = &Live{}
	}
	if err := checkDesired(desired); err != nil {
		return nil, err
	}
	servicesByFamily := map[string][]Service{}
	for _, s := range live.Services {
		servicesByFamily[s.Family] = append(servicesByFamily[s.Family], s)
	}
	p := &PlanResult{}
	want := map[string]bool{}
	p.Resources = append(p.Resources, planServices(desired, live, opts)...)
	for _, d := range desired {
		if d.Service != nil {
			continue
		}
		want[d.Family] = true
		p.Resources = append(p.Resources, planTaskDefinition(d, live.Families[d.Family], servicesByFamily[d.Family], opts))
	}
	if opts.Prune {
		for name, lf := range live.Families {
			if want[name] || !lf.Latest.Managed() {
				continue
			}
			fp := ResourcePlan{
				Kind: KindTaskDefinition, Name: name, Family: name, Action: ActionPrune, LatestARN: lf.Latest.ARN,
				SourcePath: lf.Latest.Tags[TagSource],
				Reason:     "managed by taskward, no longer in Git",
				Deregister: slices.Clone(lf.Active),
			}
			if len(fp.Deregister) == 0 {
				fp.Deregister = []string{lf.Latest.ARN}
			}
			for _, s := range servicesByFamily[name] {
				fp.Notes = append(fp.Notes, fmt.Sprintf("service %s still runs %s; deregistering does not stop it", s.Name, s.TaskDefinition))
			}
			p.Resources = append(p.Resources, fp)
		}
	}
	slices.SortFunc(p.Resources, func(a, b ResourcePlan) int { return a.Key().Compare(b.Key()) })
	return p, nil
}

func checkDesired(desired []Desired) error {
	seen := map[string]string{}
	var errs []error
	for _, d := range desired {
		if d.Service != nil {
			continue // checked by manifests
		}
		switch {
		case d.Family == "":
			errs = append(errs, fmt.Errorf("%s: desired definition without a family", d.SourcePath))
		case d.Definition == nil || d.Definition.Kind != ojson.Object:
			errs = append(errs, fmt.Errorf("%s: family %s: definition is not a JSON object", d.SourcePath, d.Family))
		default:
			if other, dup := seen[d.Family]; dup {
				errs = append(errs, fmt.Errorf("%s: family %s is also defined in %s", d.SourcePath, d.Family, other))
				continue
			}
			seen[d.Family] = d.SourcePath
			if f := familyOf(d.Definition); f != d.Family {
				errs = append(errs, fmt.Errorf("%s: family: definition says %q, expected %q", d.SourcePath, f, d.Family))
			}
		}
	}
	return errors.Join(errs...)
}

// familyOf reads the family of a definition, looking through a describe wrapper.
func familyOf(def *ojson.Value) string {
	if inner := def.Get("taskDefinition"); inner != nil && inner.Kind == ojson.Object {
		def = inner
	}
	return def.Get("family").StringOr("")
}

func planTaskDefinition(d Desired, lf *LiveFamily, services []Service, opts PlanOptions) ResourcePlan {
	reduced := Reduce(d.Definition)
	fp := ResourcePlan{Kind: KindTaskDefinition, Name: d.Family, Family: d.Family, SourcePath: d.SourcePath, ContentHash: hashReduced(reduced), desired: d.Definition}
	var target string
	// unchanged: taskward already applied Git's content for this family (its newest
	// registered revision carries the desired hash), so this commit does not change it.
	unchanged := lf != nil && lf.LastApplied != nil && lf.LastApplied.Tags[TagContentHash] == fp.ContentHash
	switch {
	case lf == nil || lf.Latest == nil:
		fp.Action, fp.Reason = ActionRegister, "no ACTIVE revision in ECS"
		fp.diff = diffReduced(reduced, nil)
		fp.Changes = fp.diff.Changes
	default:
		latest := lf.Latest
		fp.LatestARN = latest.ARN
		lr := latest.reduced
		if lr == nil {
			lr = Reduce(latest.Definition)
		}
		switch {
		case latest.hash == fp.ContentHash || (latest.hash == "" && hashReduced(lr) == fp.ContentHash):
			// Same canonical content: no diff to compute (the steady-state fast path).
		case latest.Tags[TagContentHash] == fp.ContentHash:
			fp.Reason = "latest revision carries the desired content hash"
		default:
			if diff := diffReduced(reduced, lr); !diff.Empty() {
				fp.Action, fp.Reason, fp.diff = ActionRegister, "definition changed", diff
				fp.Changes = diff.Changes
			}
		}
		if fp.Action == "" {
			target = latest.ARN
		}
		// What taskward last registered for the family already has Git's content: this
		// commit does not change the family, so a newer revision is an out-of-band change.
		if la := lf.LastApplied; fp.Action == ActionRegister && opts.KeepOutOfBand && unchanged && la != latest {
			fp.Hold = fmt.Sprintf("out-of-band change: %s was registered outside taskward after %s (commit %s), which has Git's content; not reverted without self-heal",
				ShortARN(latest.ARN), ShortARN(la.ARN), orUnknown(la.Tags[TagCommit]))
			target = la.ARN
		}
	}
	for _, s := range services {
		if target != "" && s.TaskDefinition == target {
			continue
		}
		if s.DeploymentController != "" && s.DeploymentController != "ECS" {
			fp.Notes = append(fp.Notes, fmt.Sprintf("service %s uses the %s deployment controller: not updated", s.Name, s.DeploymentController))
			continue
		}
		su := ServiceUpdate{Service: s.Name, ARN: s.ARN, From: s.TaskDefinition, To: target}
		why, failed := s.rolloutFailure()
		switch {
		case failed && s.Tags[TagContentHash] == fp.ContentHash && !opts.Retry:
			// Argo CD does not re-sync a failed commit either: no flapping.
			su.Hold = fmt.Sprintf("the rollout of Git's content to service %s failed (commit %s: %s); not applied again until a commit changes %s, or --retry",
				s.Name, orUnknown(s.Tags[TagCommit]), why, fp.Family)
		case failed && s.Tags[TagContentHash] == fp.ContentHash:
			// --retry: applied again.
		case !opts.KeepOutOfBand:
		case s.Tags[TagContentHash] == fp.ContentHash:
			su.Hold = fmt.Sprintf("out-of-band change: service %s runs %s, taskward deployed Git's content to it (commit %s); not reverted without self-heal",
				s.Name, ShortARN(s.TaskDefinition), orUnknown(s.Tags[TagCommit]))
		case s.Tags[TagContentHash] == "" && unchanged:
			// Not deployed by taskward, and this commit does not change the family: a
			// service created or moved outside taskward. (A service taskward deployed
			// older content to is moved: that is an apply a crash interrupted.)
			su.Hold = fmt.Sprintf("out-of-band change: service %s runs %s and was not deployed by taskward; %s is unchanged since taskward applied it, so it is not moved without self-heal",
				s.Name, ShortARN(s.TaskDefinition), fp.Family)
		}
		fp.ServiceUpdates = append(fp.ServiceUpdates, su)
	}
	slices.SortFunc(fp.ServiceUpdates, func(a, b ServiceUpdate) int { return strings.Compare(a.Service, b.Service) })
	if fp.Action == "" {
		fp.Action = ActionNoop
		if len(fp.ServiceUpdates) > 0 {
			fp.Action, fp.Reason = ActionUpdateService, "a service runs another revision"
		}
	}
	return fp
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// WriteText prints the plan for people: one line per family that changes, and the unified
// diff of each register (colour when color is set). Noop families are counted, not listed;
// the notes of a noop service are (a desiredCount left to Application Auto Scaling).
func (p *PlanResult) WriteText(w io.Writer, color bool) error {
	var b strings.Builder
	noop := 0
	for _, f := range p.Resources {
		if f.Action == ActionNoop {
			noop++
			if f.Kind == KindService {
				for _, n := range f.Notes {
					fmt.Fprintf(&b, "note: %s %s: %s\n", f.Kind.Noun(), f.Name, n)
				}
			}
			continue
		}
		// Task definitions keep the short form the output always had: "register web".
		if f.Kind == KindTaskDefinition {
			fmt.Fprintf(&b, "%s %s", f.Action, f.Name)
		} else {
			fmt.Fprintf(&b, "%s %s %s", f.Action, f.Kind.Noun(), f.Name)
		}
		if f.SourcePath != "" {
			fmt.Fprintf(&b, " (%s)", f.SourcePath)
		}
		if f.Reason != "" {
			fmt.Fprintf(&b, ": %s", f.Reason)
		}
		b.WriteByte('\n')
		if f.diff != nil {
			live := "live/" + f.Family
			if f.LatestARN != "" {
				live = f.LatestARN
			}
			b.WriteString(f.diff.Unified(live, "desired/"+f.SourcePath, color))
		}
		if f.Hold != "" {
			fmt.Fprintf(&b, "  held: %s\n", f.Hold)
		}
		for _, s := range f.ServiceUpdates {
			to := s.To
			if to == "" {
				to = "(new revision)"
			}
			fmt.Fprintf(&b, "  update-service %s: %s -> %s\n", s.Service, s.From, to)
			if s.Hold != "" {
				fmt.Fprintf(&b, "    held: %s\n", s.Hold)
			}
		}
		for _, a := range f.Deregister {
			fmt.Fprintf(&b, "  deregister %s\n", a)
		}
		for _, n := range f.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
	}
	fmt.Fprintf(&b, "%d unchanged, %d to register, %d to update services, %d to prune\n",
		noop, p.Count()[ActionRegister], p.Count()[ActionUpdateService], p.Count()[ActionPrune])
	_, err := io.WriteString(w, b.String())
	return err
}

// MarshalJSON encodes the plan for machines.
func (p *PlanResult) MarshalJSON() ([]byte, error) {
	type plain PlanResult
	return json.Marshal((*plain)(p))
}
