package controller

import (
	"sort"
	"time"

	"github.com/taskward/taskward/reconcile"
)

// Finding is one drift found by a scan, or a defender's runtime event.
type Finding = reconcile.Finding

func key(f Finding) string { return string(f.Kind) + "|" + f.Resource }

// Alert is a finding's state change, as sent to notifiers.
type Alert struct {
	Finding
	// State is "firing" or "resolved".
	State string    `json:"state"`
	Time  time.Time `json:"time"`
	// Extra carries a runtime event's fields (program, rule, task) for reconcile.DriftRuntime.
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
		k := key(f)
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
