package reconcile

import (
	"cmp"
	"strings"
)

// The status vocabulary: every state taskward reports has one type and one spelling,
// used by the CLI, the controller's /status, its page and metrics, alerts and reviews.

// ResourceKind is the kind of resource a plan, a finding or a health is about.
type ResourceKind string

const (
	KindTaskDefinition ResourceKind = "task-definition" // keyed by family
	KindService        ResourceKind = "service"         // keyed by service name
)

// Noun is how messages name the kind: "family web", "service web".
func (k ResourceKind) Noun() string {
	if k == KindTaskDefinition {
		return "family"
	}
	return string(k)
}

// ResourceKey identifies a resource of a plan.
type ResourceKey struct {
	Kind ResourceKind `json:"kind"`
	Name string       `json:"name"`
}

func (k ResourceKey) String() string { return string(k.Kind) + "/" + k.Name }

// Compare orders keys by kind (task definitions first: services run them), then name.
func (k ResourceKey) Compare(o ResourceKey) int {
	if c := cmp.Compare(kindOrder(k.Kind), kindOrder(o.Kind)); c != 0 {
		return c
	}
	return strings.Compare(k.Name, o.Name)
}

func kindOrder(k ResourceKind) int {
	if k == KindTaskDefinition {
		return 0
	}
	return 1
}

// SyncState says whether a resource in ECS is what Git says (Argo CD's first axis).
type SyncState string

const (
	Synced     SyncState = "Synced"
	OutOfSync  SyncState = "OutOfSync"
	SyncFailed SyncState = "Failed" // the last apply of this resource failed
)

// Health says whether a service works (Argo CD's second axis).
type Health string

const (
	Healthy     Health = "Healthy"     // latest deployment COMPLETED on the desired revision, running = desired
	Progressing Health = "Progressing" // a deployment is IN_PROGRESS
	Degraded    Health = "Degraded"    // rollout FAILED or rolled back, or tasks stopping
	Missing     Health = "Missing"     // in Git, not in ECS
	Unknown     Health = "Unknown"     // not known (live state not read)
)

// Result is the outcome of one reconcile (controller) or sync (CLI).
type Result string

const (
	ResultSynced       Result = "synced"        // nothing to do
	ResultApplied      Result = "applied"       // changes applied without error
	ResultOutOfSync    Result = "out-of-sync"   // changes pending, not applied (no new commit, no self-heal)
	ResultFailed       Result = "failed"        // live state could not be read, or an apply failed
	ResultBrokenCommit Result = "broken-commit" // the commit does not load or render: nothing applied
)

// DriftKind is the kind of a drift finding (DESIGN.md decision 8), or of a defender's
// runtime event.
type DriftKind string

const (
	DriftUnprotected DriftKind = "unprotected"
	DriftOutOfSync   DriftKind = "out-of-sync"
	DriftUnmanaged   DriftKind = "unmanaged"
	DriftRuntime     DriftKind = "runtime"
	// AlertDegraded is not drift: the kind of the alert a Degraded service fires.
	AlertDegraded DriftKind = "degraded"
)

// DriftKinds are the kinds a drift scan reports, in a stable order (metrics list them all).
var DriftKinds = []DriftKind{DriftUnprotected, DriftOutOfSync, DriftUnmanaged}
