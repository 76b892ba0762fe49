package webhook

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/taskward/taskward/manifests"
	"github.com/taskward/taskward/reconcile"
)

// ReviewInput is what a review looks at: the head of a pull request loaded and rendered
// (or the problems that stopped it), and optionally its plans against live ECS, one per
// cluster. [Prepare] builds one from a file system; tests build them by hand.
type ReviewInput struct {
	// Head and Base name what is reviewed, for the report's header: commit ids, refs, or
	// "working tree". Base may be empty.
	Head, Base string
	// Changed lists the files that differ between base and head (optional).
	Changed []string

	// Tasks are the task definitions as written in Git, for the container checks; when the
	// repo does not load, the files that parse on their own.
	Tasks    []*manifests.TaskDef
	Policies int // how many policies loaded
	// Problems are every load and render problem, errors and warnings.
	Problems manifests.Problems
	// Rendered are the tasks that rendered.
	Rendered []*manifests.Rendered

	// Plans are the plans against live ECS, one per cluster, in the order they were
	// planned (the report keeps it); empty when nothing was planned.
	Plans []ClusterPlan
	// PlanNote says what the plans were computed against, or why there are none. It is
	// about the whole review: every cluster is planned from the same rendered commit.
	PlanNote string
}

// ClusterPlan is the plan of the reviewed commit against one cluster's live state, or why
// there is none. Task definitions belong to the region and services to a cluster, so the
// plans of one review differ mostly in their service updates.
type ClusterPlan struct {
	Cluster string
	Plan    *reconcile.PlanResult // nil when planning failed
	Err     error                 // why planning failed (live ECS could not be read)
}

// Report is the outcome of a review. Every string in it is scrubbed.
type Report struct {
	Head, Base string
	Changed    []string
	Tasks      int // task definitions checked
	Containers int // containers checked
	Protected  int // containers that would run under the defender
	Policies   int
	// Findings are sorted: failures first, then by file, path and message.
	Findings []Finding
	// Plans summarize the plans, one per cluster, in the input's order.
	Plans    []ClusterPlanSummary
	PlanNote string
	// NotRun says, per check, why it did not run, or ran on part of the repo only: the
	// checks that work on rendered task definitions (protection, trusted images) cannot
	// run on what does not render. A check listed here is never reported as passed.
	NotRun map[Check]string
}

// ClusterPlanSummary is one cluster's plan as the report shows it: Plan, or Err.
type ClusterPlanSummary struct {
	Cluster string
	Plan    *PlanSummary // nil when planning failed
	Err     string
}

// PlanSummary is the plan, reduced to what a reviewer reads.
type PlanSummary struct {
	Register  []PlanItem // families that would get a new revision
	Services  []PlanItem // services that would move to another revision
	Prune     []PlanItem // families that would be deregistered
	Unchanged int
}

// PlanItem is one line of the plan.
type PlanItem struct {
	Family string
	Source string // file in the repo
	Detail string // reason, changed fields, from -> to
}

// Review runs every check over in and summarizes its plan. It is pure: it reads in and
// nothing else (ctx is only checked for cancellation between tasks).
func Review(ctx context.Context, in *ReviewInput) *Report {
	if in == nil {
		in = &ReviewInput{PlanNote: "no plan: nothing to review"}
	}
	rep := &Report{Head: in.Head, Base: in.Base, Changed: append([]string(nil), in.Changed...),
		Tasks: len(in.Tasks), Policies: in.Policies, PlanNote: in.PlanNote}
	var secrets []string
	for _, td := range in.Tasks {
		if ctx.Err() != nil {
			break
		}
		fs, sv := checkTask(td)
		rep.Findings = append(rep.Findings, fs...)
		secrets = append(secrets, sv...)
		rep.Containers += len(arr(td.Doc.Get("containerDefinitions")))
	}
	for _, p := range in.Problems {
		sev := Failure
		if p.Warning {
			sev = Warning
		}
		rep.Findings = append(rep.Findings, Finding{Check: classify(p), Severity: sev, File: p.File, Line: p.Line, Path: p.Path, Message: p.Msg})
	}
	for _, rd := range in.Rendered {
		for _, c := range rd.Containers {
			if c.Protected {
				rep.Protected++
				continue
			}
			rep.Findings = append(rep.Findings, Finding{Check: CheckProtection, Severity: Warning, File: rd.Path, Container: c.Name,
				Message: fmt.Sprintf("container %q would run unprotected: skipped by taskward.yaml (%s)", c.Name, orNone(c.SkipReason))})
		}
	}
	if rendered, tasks := len(in.Rendered), len(in.Tasks); rendered < tasks {
		why := "not run: no task definition rendered"
		if rendered > 0 {
			why = fmt.Sprintf("ran on %d of %d task definitions: the others do not render", rendered, tasks)
		}
		rep.NotRun = map[Check]string{CheckProtection: why, CheckImages: why}
	} else if tasks == 0 && in.Problems.Err() != nil {
		// Nothing loaded because of errors (not a GitOps repo, say): the checks over
		// task definitions looked at nothing.
		why := "not run: no task definition loaded"
		rep.NotRun = map[Check]string{CheckProtection: why, CheckImages: why, CheckPrivileges: why, CheckSecrets: why, CheckReadOnly: why}
	}
	for _, cp := range in.Plans {
		cs := ClusterPlanSummary{Cluster: cp.Cluster}
		switch {
		case cp.Err != nil:
			cs.Err = cp.Err.Error()
		case cp.Plan != nil:
			cs.Plan = summarizePlan(cp.Plan)
		default:
			cs.Err = "the planner returned no plan" // a Planner that returned (nil, nil)
		}
		rep.Plans = append(rep.Plans, cs)
	}

	// Scrub everything that came from the repo or from ECS.
	s := newScrubber(secrets)
	for i := range rep.Findings {
		f := &rep.Findings[i]
		f.File, f.Path, f.Container, f.Message = s.Scrub(f.File), s.Scrub(f.Path), s.Scrub(f.Container), s.Scrub(f.Message)
	}
	for i := range rep.Plans {
		cs := &rep.Plans[i]
		cs.Cluster, cs.Err = s.Scrub(cs.Cluster), s.Scrub(cs.Err)
		if cs.Plan == nil {
			continue
		}
		for _, l := range [][]PlanItem{cs.Plan.Register, cs.Plan.Services, cs.Plan.Prune} {
			for i := range l {
				l[i].Family, l[i].Source, l[i].Detail = s.Scrub(l[i].Family), s.Scrub(l[i].Source), s.Scrub(l[i].Detail)
			}
		}
	}
	rep.PlanNote = s.Scrub(rep.PlanNote)
	rep.Head, rep.Base = s.Scrub(rep.Head), s.Scrub(rep.Base)
	for i := range rep.Changed {
		rep.Changed[i] = s.Scrub(rep.Changed[i])
	}

	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Message < b.Message
	})
	return rep
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

// maxChangedPaths bounds the field paths listed per registered family.
const maxChangedPaths = 8

func summarizePlan(p *reconcile.PlanResult) *PlanSummary {
	ps := &PlanSummary{}
	for _, f := range p.Resources {
		item := PlanItem{Family: f.Family, Source: f.SourcePath}
		if f.Kind == reconcile.KindService && f.Action != reconcile.ActionNoop {
			item.Family = "service " + f.Name
			item.Detail = string(f.Action) + ": " + f.Reason
			if f.Hold != "" {
				item.Detail += " (" + f.Hold + ")"
			}
			for _, c := range f.Changes {
				item.Detail += "; " + c.Path
			}
			ps.Services = append(ps.Services, item)
			continue
		}
		switch f.Action {
		case reconcile.ActionNoop:
			ps.Unchanged++
			continue
		case reconcile.ActionRegister:
			// Field paths only: values may hold secrets and live values are not ours to show.
			var paths []string
			for _, c := range f.Changes {
				paths = append(paths, c.Path)
			}
			switch {
			case f.LatestARN == "":
				item.Detail = "new family"
			case len(paths) > maxChangedPaths:
				item.Detail = fmt.Sprintf("%d fields change: %s, and %d more", len(paths), strings.Join(paths[:maxChangedPaths], ", "), len(paths)-maxChangedPaths)
			case len(paths) > 0:
				item.Detail = fmt.Sprintf("%d fields change: %s", len(paths), strings.Join(paths, ", "))
			default:
				item.Detail = f.Reason
			}
			ps.Register = append(ps.Register, item)
		case reconcile.ActionPrune:
			item.Detail = fmt.Sprintf("%s; %d revisions deregistered", f.Reason, len(f.Deregister))
			ps.Prune = append(ps.Prune, item)
		}
		for _, su := range f.ServiceUpdates {
			to := su.To
			if to == "" {
				to = "the new revision"
			}
			ps.Services = append(ps.Services, PlanItem{Family: f.Family, Source: f.SourcePath,
				Detail: fmt.Sprintf("service %s: %s → %s", su.Service, revOf(su.From), revOf(to))})
		}
		for _, n := range f.Notes {
			if f.Action == reconcile.ActionPrune {
				ps.Prune[len(ps.Prune)-1].Detail += "; " + n
			}
		}
	}
	return ps
}

// revOf shortens a task definition ARN to family:revision.
func revOf(arn string) string {
	if fam, rev, err := reconcile.ParseTaskDefinitionARN(arn); err == nil {
		return fmt.Sprintf("%s:%d", fam, rev)
	}
	return arn
}

// Failed reports whether any check failed or the review could not run.
func (r *Report) Failed() bool {
	return r.Failures() > 0
}

// Failures counts the failed findings.
func (r *Report) Failures() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Failure {
			n++
		}
	}
	return n
}

// Warnings counts the warnings.
func (r *Report) Warnings() int { return len(r.Findings) - r.Failures() }

// byCheck counts failures and warnings per check.
func (r *Report) byCheck() map[Check][2]int {
	m := map[Check][2]int{}
	for _, f := range r.Findings {
		c := m[f.Check]
		c[f.Severity]++
		m[f.Check] = c
	}
	return m
}

// MaxSummary is the longest Summary: a GitHub commit status description is cut at 140.
const MaxSummary = 140

// Summary is one line for the commit status description, at most 140 characters.
func (r *Report) Summary() string {
	var b strings.Builder
	if r.Failed() {
		counts := r.byCheck()
		var parts []string
		for _, c := range Checks {
			if n := counts[c.Check][Failure]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, c.Check))
			}
		}
		fmt.Fprintf(&b, "%d failed (%s)", r.Failures(), strings.Join(parts, ", "))
	} else {
		fmt.Fprintf(&b, "passed: %d/%d containers protected", r.Protected, r.Containers)
	}
	if w := r.Warnings(); w > 0 {
		fmt.Fprintf(&b, ", %d warnings", w)
	}
	b.WriteString(r.planSummary())
	return truncate(b.String(), MaxSummary)
}

// planSummary is the plan part of [Report.Summary]. With one cluster it reads as it did
// before reviews planned every cluster. With several, a family registered or pruned in
// more than one plan counts once (task definitions are regional: apply registers it
// once), service updates add up (services belong to a cluster), and failed clusters are
// counted.
func (r *Report) planSummary() string {
	failed := r.PlanErrors()
	switch {
	case len(r.Plans) == 0:
		return ""
	case failed == len(r.Plans) && failed == 1:
		return "; no plan (ECS error)"
	case failed == len(r.Plans):
		return fmt.Sprintf("; no plan (ECS error on %d clusters)", failed)
	}
	register, prune := map[string]bool{}, map[string]bool{}
	services := 0
	for _, cs := range r.Plans {
		if cs.Plan == nil {
			continue
		}
		for _, it := range cs.Plan.Register {
			register[it.Family] = true
		}
		for _, it := range cs.Plan.Prune {
			prune[it.Family] = true
		}
		services += len(cs.Plan.Services)
	}
	var on string
	switch {
	case len(r.Plans) == 1:
	case failed > 0:
		on = fmt.Sprintf(" (%d of %d clusters, %s)", len(r.Plans)-failed, len(r.Plans), plural(failed, "ECS error"))
	default:
		on = fmt.Sprintf(" (%d clusters)", len(r.Plans))
	}
	return fmt.Sprintf("; plan%s: %d register, %d service updates, %d prune", on, len(register), services, len(prune))
}

// PlanErrors counts the clusters whose plan failed.
func (r *Report) PlanErrors() int {
	n := 0
	for _, cs := range r.Plans {
		if cs.Err != "" {
			n++
		}
	}
	return n
}

// truncate cuts s to at most n bytes on a rune boundary, ending in "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
