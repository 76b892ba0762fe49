// Package defenderevent is the wire form of a defender event: one JSON line on the
// defender's stderr, and one element of the batches it POSTs to the controller's
// /v1/events. The defender writes it and the controller reads it, so the type lives here,
// once. It imports only the standard library (the defender's dependency budget).
package defenderevent

// Actions of an event.
const (
	ActionBlocked = "blocked" // the exec failed with EACCES
	ActionAlerted = "alerted" // the exec ran and is reported
	ActionKilled  = "killed"  // the process was killed (the EXEC-time check failed)
)

// Event is one event. Field names are stable: alert rules match them.
type Event struct {
	Time        string   `json:"time"`
	Action      string   `json:"action"`
	Rule        string   `json:"rule"`
	Reason      string   `json:"reason"`
	Policy      string   `json:"policy,omitempty"`
	PID         int      `json:"pid"`
	PPID        int      `json:"ppid"`
	Program     string   `json:"program"`
	Invoked     string   `json:"invoked,omitempty"`
	Argv        []string `json:"argv"`
	User        string   `json:"user,omitempty"`
	Cwd         string   `json:"cwd,omitempty"`
	Parents     []string `json:"parents,omitempty"` // "pid:comm", nearest first
	Container   string   `json:"container,omitempty"`
	TaskARN     string   `json:"taskArn,omitempty"`
	Family      string   `json:"family,omitempty"`
	Revision    string   `json:"revision,omitempty"`
	Image       string   `json:"image,omitempty"`
	ImageDigest string   `json:"imageDigest,omitempty"`
	// Suppressed counts events of the same rule dropped by the rate limit since the last
	// one that was written.
	Suppressed int `json:"suppressed,omitempty"`
}
