package controller

import (
	"sort"
	"time"
)

// Drift kinds (DESIGN.md decision 8), and the kind of a defender's runtime event.
const (
	KindUnprotected = "unprotected"
	KindOutOfSync   = "out-of-sync"
	KindUnmanaged   = "unmanaged"
	KindRuntime     = "runtime"
)

// Finding is one drift found by a scan.
type Finding struct {
	Kind     string `json:"kind"`
	Resource string `json:"resource"` // service or task ARN
	Cluster  string `json:"cluster"`
	Family   string `json:"family,omitempty"`
	// Revision is the task definition ARN the resource runs; a new revision re-fires.
	Revision string `json:"revision,omitempty"`
	Detail   string `json:"detail"`
}

func (f Finding) key() string { return f.Kind + "|" + f.Resource }

// Alert is a finding's state change, as sent to notifiers.
type Alert struct {
	Finding
	// State is "firing" or "resolved".
	State string    `json:"state"`
	Time  time.Time `json:"time"`
	// Extra carries a runtime event's fields (program, rule, task) for KindRuntime.
	Extra map[string]string `json:"extra,omitempty"`
}

// alertBook remembers which findings have fired, so that each fires once per resource
// and kind, again when its revision changes, and resolves once when it goes away.
type alertBook struct {
	firing map[string]Finding
}

func newAlertBook() *alertBook { return &alertBook{firing: map[string]Finding{}} }

// update takes a scan's complete findings and returns the alerts to send.
func (b *alertBook) update(findings []Finding, now time.Time) []Alert {
	var out []Alert
	seen := map[string]bool{}
	for _, f := range findings {
		k := f.key()
		seen[k] = true
		prev, ok := b.firing[k]
		if ok && prev.Revision == f.Revision {
			continue
		}
		b.firing[k] = f
		out = append(out, Alert{Finding: f, State: "firing", Time: now})
	}
	var gone []string
	for k := range b.firing {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	for _, k := range gone {
		f := b.firing[k]
		delete(b.firing, k)
		out = append(out, Alert{Finding: f, State: "resolved", Time: now})
	}
	return out
}
