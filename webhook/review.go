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
// (or the problems that stopped it), and optionally the plan against live ECS. [Prepare]
// builds one from a file system; tests build them by hand.
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

	// Plan is the reconcile plan against live ECS; nil when there is none.
	Plan *reconcile.PlanResult
	// PlanErr is why planning failed (live ECS could not be read).
	PlanErr error
	// PlanNote says what the plan was computed against, or why there is none.
	PlanNote string
	Cluster  string
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
	// Plan summarizes the plan; nil when there is none.
	Plan     *PlanSummary
	PlanNote string
	PlanErr  string
	Cluster  string
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
		in = &ReviewInput{PlanErr: errNoInput}
	}
	rep := &Report{Head: in.Head, Base: in.Base, Changed: append([]string(nil), in.Changed...),
		Tasks: len(in.Tasks), Policies: in.Policies, PlanNote: in.PlanNote, Cluster: in.Cluster}
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
	if in.Plan != nil {
		rep.Plan = summarizePlan(in.Plan)
	}
	if in.PlanErr != nil {
		rep.PlanErr = in.PlanErr.Error()
	}

	// Scrub everything that came from the repo or from ECS.
	s := newScrubber(secrets)
	for i := range rep.Findings {
		f := &rep.Findings[i]
		f.File, f.Path, f.Container, f.Message = s.Scrub(f.File), s.Scrub(f.Path), s.Scrub(f.Container), s.Scrub(f.Message)
	}
	if rep.Plan != nil {
		for _, l := range [][]PlanItem{rep.Plan.Register, rep.Plan.Services, rep.Plan.Prune} {
			for i := range l {
				l[i].Family, l[i].Source, l[i].Detail = s.Scrub(l[i].Family), s.Scrub(l[i].Source), s.Scrub(l[i].Detail)
			}
		}
	}
	rep.PlanErr, rep.PlanNote = s.Scrub(rep.PlanErr), s.Scrub(rep.PlanNote)
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
	for _, f := range p.Families {
		item := PlanItem{Family: f.Family, Source: f.SourcePath}
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
	switch {
	case r.Plan != nil:
		fmt.Fprintf(&b, "; plan: %d register, %d service updates, %d prune", len(r.Plan.Register), len(r.Plan.Services), len(r.Plan.Prune))
	case r.PlanErr != "":
		b.WriteString("; no plan (ECS error)")
	}
	return truncate(b.String(), MaxSummary)
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
