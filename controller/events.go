package controller

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/taskward/taskward/internal/defenderevent"
)

// DefenderEvent is one event as the defender sends it. The controller validates it
// strictly: it comes from inside a task that may be compromised.
type DefenderEvent = defenderevent.Event

// Limits on what a defender may send.
const (
	maxEventsBody   = 256 << 10 // bytes per request
	maxEventsBatch  = 500       // events per request
	maxEventField   = 4096      // bytes per string field
	runtimeAlertTTL = 10 * time.Minute
	// maxRuntimeKeys bounds the de-duplication memory: a compromised task holding the token
	// could otherwise send endless distinct programs. Past it, events are counted, not alerted.
	maxRuntimeKeys = 10000
)

func validateEvent(e *DefenderEvent) error {
	switch e.Action {
	case defenderevent.ActionBlocked, defenderevent.ActionAlerted, defenderevent.ActionKilled:
	default:
		return fmt.Errorf("action %q: must be blocked, alerted or killed", e.Action)
	}
	if e.Rule == "" || e.Program == "" {
		return errors.New("rule and program are required")
	}
	if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
		return fmt.Errorf("time %q: must be RFC 3339", e.Time)
	}
	for _, s := range append([]string{e.Rule, e.Reason, e.Policy, e.Program, e.Invoked, e.User, e.Cwd, e.Container, e.TaskARN, e.Family, e.Revision, e.Image, e.ImageDigest}, append(e.Argv, e.Parents...)...) {
		if len(s) > maxEventField {
			return fmt.Errorf("a field is longer than %d bytes", maxEventField)
		}
	}
	if len(e.Argv) > 256 || len(e.Parents) > 64 {
		return errors.New("argv or parents too long")
	}
	return nil
}

// eventIntake serves POST /v1/events: blocked and killed events become alerts with the
// task's context (once per task, rule and program in a window, so a loop cannot flood the
// notifiers); every event is counted by action.
type eventIntake struct {
	c    *Controller
	mu   sync.Mutex
	seen map[string]time.Time
}

func newEventIntake(c *Controller) *eventIntake {
	return &eventIntake{c: c, seen: map[string]time.Time{}}
}

func (in *eventIntake) reject(w http.ResponseWriter, code int, reason, msg string) {
	in.c.metrics.eventsRejected.WithLabelValues(reason).Inc()
	http.Error(w, msg, code)
}

func (in *eventIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		in.reject(w, http.StatusMethodNotAllowed, "method", "POST only")
		return
	}
	if len(in.c.eventsToken) == 0 {
		in.reject(w, http.StatusServiceUnavailable, "no-token", "events are not accepted: the controller has no events token configured")
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	// Compare digests so that neither the content nor the length of the token leaks
	// through timing (ConstantTimeCompare returns early on a length mismatch).
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256(in.c.eventsToken)
	if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		in.reject(w, http.StatusUnauthorized, "auth", "bad or missing bearer token")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		in.reject(w, http.StatusUnsupportedMediaType, "content-type", "Content-Type must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventsBody))
	if err != nil {
		in.reject(w, http.StatusRequestEntityTooLarge, "size", fmt.Sprintf("body over %d bytes", maxEventsBody))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var batch []DefenderEvent
	if err := dec.Decode(&batch); err != nil {
		in.reject(w, http.StatusBadRequest, "malformed", "body must be a JSON array of events")
		return
	}
	if len(batch) > maxEventsBatch {
		in.reject(w, http.StatusRequestEntityTooLarge, "size", fmt.Sprintf("more than %d events", maxEventsBatch))
		return
	}
	for i := range batch {
		if err := validateEvent(&batch[i]); err != nil {
			in.reject(w, http.StatusBadRequest, "invalid", fmt.Sprintf("event %d: %v", i, err))
			return
		}
	}
	for i := range batch {
		in.take(&batch[i])
	}
	w.WriteHeader(http.StatusAccepted)
}

func (in *eventIntake) take(e *DefenderEvent) {
	in.c.metrics.events.WithLabelValues(e.Action).Inc()
	in.c.log.Info("defender event", "action", e.Action, "rule", e.Rule, "program", e.Program, "task", e.TaskARN, "family", e.Family, "container", e.Container)
	if e.Action == "alerted" {
		return
	}
	now := in.c.now()
	key := e.TaskARN + "|" + e.Rule + "|" + e.Program
	in.mu.Lock()
	last, dup := in.seen[key]
	if dup && now.Sub(last) <= runtimeAlertTTL {
		in.mu.Unlock()
		return
	}
	if len(in.seen) >= maxRuntimeKeys {
		for k, t := range in.seen { // forget expired keys, then check again
			if now.Sub(t) > runtimeAlertTTL {
				delete(in.seen, k)
			}
		}
	}
	if len(in.seen) >= maxRuntimeKeys {
		in.mu.Unlock()
		in.c.metrics.eventsRejected.WithLabelValues("alert-flood").Inc()
		return
	}
	in.seen[key] = now
	in.mu.Unlock()
	in.c.dispatch.enqueue(Alert{
		Finding: Finding{Kind: KindRuntime, Resource: e.TaskARN, Family: e.Family, Revision: e.Revision,
			Detail: fmt.Sprintf("%s %s in container %s: %s (rule %s)", e.Action, e.Program, e.Container, e.Reason, e.Rule)},
		State: "firing", Time: now,
		Extra: map[string]string{"action": e.Action, "rule": e.Rule, "program": e.Program, "container": e.Container, "user": e.User, "image": e.Image},
	})
}
