package controller

import (
	"time"

	"github.com/taskward/taskward/reconcile"
)

// Status is what /status serves and the HTML page shows.
type Status struct {
	Source string `json:"source"`
	// Commit is the last good commit (the one whose desired state is in force).
	Commit        string `json:"commit,omitempty"`
	CommitMessage string `json:"commitMessage,omitempty"`
	// LastApplied is the commit of the last reconcile that applied (or had nothing to
	// apply) without error. Informational: what was applied is read from ECS's tags.
	LastApplied string `json:"lastApplied,omitempty"`
	// SourceError is the last fetch failure, if the last fetch failed.
	SourceError string `json:"sourceError,omitempty"`
	// BrokenCommit is a fetched commit that does not load or render; nothing from it is
	// applied. Problems lists what is wrong with it, file by file.
	BrokenCommit string   `json:"brokenCommit,omitempty"`
	Problems     []string `json:"problems,omitempty"`

	Ready         bool             `json:"ready"`
	Result        reconcile.Result `json:"result,omitempty"`
	LastReconcile time.Time        `json:"lastReconcile,omitzero"`
	LastScan      time.Time        `json:"lastScan,omitzero"`
	// NextScan is when the drift schedule scans next (zero outside Run).
	NextScan time.Time     `json:"nextScan,omitzero"`
	Families []FamilyState `json:"families"`
	// Services are the health of every service of the desired families, by cluster.
	Services   []reconcile.ServiceHealth `json:"services"`
	Drift      []Finding                 `json:"drift"`
	ScanErrors []string                  `json:"scanErrors,omitempty"`
}

// FamilyState is one family's sync state.
type FamilyState struct {
	Family    string              `json:"family"`
	Path      string              `json:"path"`
	Sync      reconcile.SyncState `json:"sync"`
	Action    reconcile.Action    `json:"action,omitempty"` // what the last plan said
	Revision  string              `json:"revision,omitempty"`
	LastError string              `json:"lastError,omitempty"`
	// Reason says why an OutOfSync family is not applied: an out-of-band change kept
	// without --self-heal, or content whose rollout failed.
	Reason string `json:"reason,omitempty"`
}

func (s *Status) clone() *Status {
	c := *s
	c.Problems = append([]string(nil), s.Problems...)
	c.Families = append([]FamilyState(nil), s.Families...)
	c.Services = append([]reconcile.ServiceHealth(nil), s.Services...)
	c.Drift = append([]Finding(nil), s.Drift...)
	c.ScanErrors = append([]string(nil), s.ScanErrors...)
	return &c
}

// Degraded counts the Degraded services.
func (s *Status) Degraded() int {
	n := 0
	for _, h := range s.Services {
		if h.Health == reconcile.Degraded {
			n++
		}
	}
	return n
}
