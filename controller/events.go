package controller

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/taskward/taskward/internal/defenderevent"
	"github.com/taskward/taskward/reconcile"
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
	// could otherwise send endless distinct programs. Past it, alerts still fire, unremembered:
	// a full memory must never hide another task's first alert.
	maxRuntimeKeys = 10000
	// maxKeysPerTask bounds what one task (source address and task ARN) may remember. Past it,
	// that task's new programs are counted, not alerted, and one flood alert says so.
	maxKeysPerTask = 200
	// sweepEvery spaces the scans that forget expired keys, which cost a pass over the memory.
	sweepEvery = time.Second
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
//
// The token is shared by every task, so a compromised task can send anything in its name
// or another's. The memory is therefore keyed by the request's source address as well as the
// task ARN the event claims, bounded per task, and never suppresses when full: a task that
// floods hides only its own further programs (and raises a flood alert), never another
// task's alerts.
type eventIntake struct {
	c         *Controller
	mu        sync.Mutex
	blocked   map[string]blockedExec // the last blocked program by task ARN, for health reasons
	seen      map[string]runtimeKey  // by source|task|rule|program, and source|task|flood
	perTask   map[string]int         // remembered keys by source|task
	lastSweep time.Time
}

// runtimeKey is one remembered alert: when it fired and which task it counts against.
type runtimeKey struct {
	at    time.Time
	task  string
	flood bool // the flood alert's key, not counted in perTask
}

func newEventIntake(c *Controller) *eventIntake {
	return &eventIntake{c: c, seen: map[string]runtimeKey{}, perTask: map[string]int{}, blocked: map[string]blockedExec{}}
}

// blockedExec is the last program the defender blocked in a task, as it reported it.
type blockedExec struct {
	program, rule string
	at            time.Time
}

// maxBlockedTasks bounds the tasks whose last blocked program is remembered.
const maxBlockedTasks = 4096

// rememberBlocked keeps e's program and rule as its task's last blocked one; in.mu held.
// When full, entries older than runtimeAlertTTL go first, then the oldest.
func (in *eventIntake) rememberBlocked(e *DefenderEvent, now time.Time) {
	if e.TaskARN == "" {
		return
	}
	if _, ok := in.blocked[e.TaskARN]; !ok && len(in.blocked) >= maxBlockedTasks {
		oldest := ""
		for k, b := range in.blocked {
			if now.Sub(b.at) > runtimeAlertTTL {
				delete(in.blocked, k)
			} else if oldest == "" || b.at.Before(in.blocked[oldest].at) {
				oldest = k
			}
		}
		if len(in.blocked) >= maxBlockedTasks {
			delete(in.blocked, oldest)
		}
	}
	in.blocked[e.TaskARN] = blockedExec{program: e.Program, rule: e.Rule, at: now}
}

// lastBlocked returns the last program the defender reported blocking in a task.
func (in *eventIntake) lastBlocked(taskARN string) (blockedExec, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	b, ok := in.blocked[taskARN]
	return b, ok
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
	if !in.c.bearerOK(r) {
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
	source, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		source = r.RemoteAddr
	}
	for i := range batch {
		in.take(&batch[i], source)
	}
	w.WriteHeader(http.StatusAccepted)
}

// take counts e, received from source (the request's address), and alerts on a blocked or
// killed one unless the same source, task, rule and program alerted within runtimeAlertTTL.
func (in *eventIntake) take(e *DefenderEvent, source string) {
	in.c.metrics.events.WithLabelValues(e.Action).Inc()
	in.c.log.Info("defender event", "action", e.Action, "rule", e.Rule, "program", e.Program, "task", e.TaskARN, "family", e.Family, "container", e.Container, "source", source)
	if e.Action == "alerted" {
		return
	}
	now := in.c.now()
	task := source + "|" + e.TaskARN
	key := task + "|" + e.Rule + "|" + e.Program
	in.mu.Lock()
	in.rememberBlocked(e, now)
	if k, dup := in.seen[key]; dup && now.Sub(k.at) <= runtimeAlertTTL {
		in.mu.Unlock()
		return
	}
	if in.perTask[task] >= maxKeysPerTask || len(in.seen) >= maxRuntimeKeys {
		in.sweep(now)
	}
	alert := Alert{
		Finding: Finding{Kind: reconcile.DriftRuntime, Resource: e.TaskARN, Family: e.Family, Revision: e.Revision,
			Detail: fmt.Sprintf("%s %s in container %s: %s (rule %s)", e.Action, e.Program, e.Container, e.Reason, e.Rule)},
		State: "firing", Time: now,
		Extra: map[string]string{"action": e.Action, "rule": e.Rule, "program": e.Program, "container": e.Container, "user": e.User, "image": e.Image, "source": source},
	}
	switch _, known := in.seen[key]; {
	case known: // expired: fires again, still counted against its task
	case in.perTask[task] >= maxKeysPerTask:
		// This task's own flood: its further programs are counted, and one alert per TTL says so.
		in.c.metrics.eventsRejected.WithLabelValues("alert-flood").Inc()
		flood := task + "|flood"
		if k, ok := in.seen[flood]; ok && now.Sub(k.at) <= runtimeAlertTTL {
			in.mu.Unlock()
			return
		}
		in.seen[flood] = runtimeKey{at: now, task: task, flood: true}
		in.mu.Unlock()
		alert.Detail = fmt.Sprintf("task %s (from %s) reported more than %d distinct blocked programs in %v; further ones are counted, not alerted (last: %s)", e.TaskARN, source, maxKeysPerTask, runtimeAlertTTL, alert.Detail)
		alert.Extra["rule"] = "alert-flood"
		in.c.dispatch.enqueue(alert)
		return
	case len(in.seen) >= maxRuntimeKeys:
		// Full of other tasks' keys: alert without remembering rather than hide this one.
		in.mu.Unlock()
		in.c.dispatch.enqueue(alert)
		return
	default:
		in.perTask[task]++
	}
	in.seen[key] = runtimeKey{at: now, task: task}
	in.mu.Unlock()
	in.c.dispatch.enqueue(alert)
}

// sweep forgets expired keys, at most once per sweepEvery. Precondition: in.mu is held.
func (in *eventIntake) sweep(now time.Time) {
	if now.Sub(in.lastSweep) < sweepEvery {
		return
	}
	in.lastSweep = now
	for k, v := range in.seen {
		if now.Sub(v.at) > runtimeAlertTTL {
			delete(in.seen, k)
			if !v.flood {
				if in.perTask[v.task]--; in.perTask[v.task] <= 0 {
					delete(in.perTask, v.task)
				}
			}
		}
	}
}

// bearerOK reports whether r carries the events token as its bearer token. Digests are
// compared, so that neither the content nor the length of the token leaks through timing
// (ConstantTimeCompare returns early on a length mismatch). No token configured: false.
func (c *Controller) bearerOK(r *http.Request) bool {
	if len(c.eventsToken) == 0 {
		return false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256(c.eventsToken)
	return ok && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
