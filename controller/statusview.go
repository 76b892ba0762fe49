package controller

import (
	"slices"
	"strings"

	"github.com/taskward/taskward/reconcile"
)

// statusView is what the status page shows: the status, reduced for a person. One row
// per resource with all its findings, short names (service web, web:3) with the ARN on
// hover, counts per kind, and what to do about each kind of finding.
type statusView struct {
	S         *Status
	Verdict   string
	Families  []familyView
	Counts    []kindCount
	Resources []resourceView
}

type familyView struct {
	FamilyState
	RevisionARN string
}

type kindCount struct {
	Kind reconcile.DriftKind
	N    int
}

type resourceView struct {
	Cluster, Name, ARN    string
	Revision, RevisionARN string
	Findings              []Finding
	Hints                 []string
}

// driftHints says what to do about each kind of finding.
var driftHints = map[reconcile.DriftKind]string{
	reconcile.DriftOutOfSync:   "Commit the change to Git if it is wanted; otherwise run the controller with --self-heal (or taskward apply) to put Git's version back.",
	reconcile.DriftUnprotected: "Deploy it from Git through taskward, which injects the defender; a container that must run without it goes under skip in taskward.yaml, with a reason.",
	reconcile.DriftUnmanaged:   "Add its task definition to tasks/ in Git so taskward protects and manages it, or delete the service if nobody needs it.",
	reconcile.DriftRuntime:     "Look at the event: the program, its parents and the task. A program the application needs goes in the policy's allow list.",
}

func newStatusView(st *Status) *statusView {
	v := &statusView{S: st, Verdict: string(st.Result)}
	if v.Verdict == "" {
		v.Verdict = "starting"
	}
	for _, f := range st.Families {
		v.Families = append(v.Families, familyView{FamilyState: f, RevisionARN: f.Revision})
		v.Families[len(v.Families)-1].Revision = shortRevision(f.Revision)
	}
	counts := map[reconcile.DriftKind]int{}
	byResource := map[string]int{}
	for _, f := range st.Drift {
		counts[f.Kind]++
		i, ok := byResource[f.Resource]
		if !ok {
			i = len(v.Resources)
			byResource[f.Resource] = i
			v.Resources = append(v.Resources, resourceView{Cluster: f.Cluster, Name: shortResource(f.Resource), ARN: f.Resource,
				Revision: shortRevision(f.Revision), RevisionARN: f.Revision})
		}
		r := &v.Resources[i]
		r.Findings = append(r.Findings, f)
		if h := driftHints[f.Kind]; h != "" && !slices.Contains(r.Hints, h) {
			r.Hints = append(r.Hints, h)
		}
	}
	for _, k := range append(append([]reconcile.DriftKind(nil), reconcile.DriftKinds...), reconcile.DriftRuntime) {
		if counts[k] > 0 {
			v.Counts = append(v.Counts, kindCount{k, counts[k]})
		}
	}
	return v
}

// shortRevision turns a task definition ARN into family:revision.
func shortRevision(arn string) string {
	if _, rest, ok := strings.Cut(arn, ":task-definition/"); ok {
		return rest
	}
	return arn
}

// shortResource turns a service or task ARN into "service NAME" or "task ID".
func shortResource(arn string) string {
	for _, kind := range []string{"service", "task"} {
		if _, rest, ok := strings.Cut(arn, ":"+kind+"/"); ok {
			return kind + " " + rest[strings.LastIndexByte(rest, '/')+1:]
		}
	}
	return arn
}
