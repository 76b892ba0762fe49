package defender

import (
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskward/taskward/internal/defenderevent"
)

// Actions of an event.
const (
	ActionBlocked = defenderevent.ActionBlocked
	ActionAlerted = defenderevent.ActionAlerted
	ActionKilled  = defenderevent.ActionKilled
)

// Bounds on an event's size: CloudWatch Logs accepts events up to 256 KiB, but a log line
// should be readable and an attacker controls argv.
const (
	maxEventArgs    = 32
	maxEventArgLen  = 256
	maxEventArgvLen = 2048
	maxParents      = 8
)

// Event is one JSON line on stderr (the wire form shared with the controller).
type Event = defenderevent.Event

// boundArgv copies argv within the event bounds, marking cuts with "...".
func boundArgv(argv []string) []string {
	out := make([]string, 0, min(len(argv), maxEventArgs))
	total := 0
	for i, a := range argv {
		if i == maxEventArgs || total >= maxEventArgvLen {
			out = append(out, "...")
			break
		}
		if len(a) > maxEventArgLen {
			a = a[:maxEventArgLen] + "..."
		}
		if total+len(a) > maxEventArgvLen {
			a = a[:maxEventArgvLen-total] + "..."
		}
		total += len(a)
		out = append(out, a)
	}
	return out
}

// Reporter writes events as JSON lines to a writer and, optionally, to an HTTP sink.
// Report never blocks: the tracer thread calls it while a tracee is stopped, so lines go
// through a bounded queue and are dropped (and counted) when it is full.
type Reporter struct {
	lines   chan []byte
	done    chan struct{}
	http    *httpSink
	meta    atomic.Pointer[TaskMetadata]
	policy  string
	mu      sync.Mutex
	limits  map[string]*bucket
	seen    map[string]bool // rule and program of every event written (firstOf)
	dropped atomic.Int64    // lines dropped because the stderr queue was full
	now     func() time.Time
}

// ReporterOption configures a Reporter.
type ReporterOption func(*Reporter)

// WithHTTPSink also POSTs events in batches to url with a bearer token.
func WithHTTPSink(url, token string) ReporterOption {
	return func(r *Reporter) {
		if url != "" {
			r.http = newHTTPSink(url, token)
		}
	}
}

// WithPolicyName names the policy in every event.
func WithPolicyName(name string) ReporterOption { return func(r *Reporter) { r.policy = name } }

// NewReporter starts a reporter writing to w.
func NewReporter(w io.Writer, opts ...ReporterOption) *Reporter {
	r := &Reporter{lines: make(chan []byte, 1024), done: make(chan struct{}), limits: map[string]*bucket{}, seen: map[string]bool{}, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	go func() {
		defer close(r.done)
		for b := range r.lines {
			w.Write(b)
		}
	}()
	if r.http != nil && r.http.err != nil {
		// Said before the program starts, on a line of its own; events go to stderr only.
		r.lines <- freshLine([]byte("taskward-defender: events sink off: " + r.http.err.Error()))
		r.http = nil
	}
	if r.http != nil {
		go r.http.run()
	}
	return r
}

// SetMetadata attaches task metadata to every later event.
func (r *Reporter) SetMetadata(m *TaskMetadata) { r.meta.Store(m) }

// Report writes e, unless its rule is over the rate limit. The first event of each
// program under each rule is written in full whatever the limit, so that a flood of
// harmless blocks cannot hide a different, real one.
func (r *Reporter) Report(e *Event) {
	now := r.now()
	r.mu.Lock()
	b := r.limits[e.Rule]
	if b == nil {
		b = &bucket{tokens: burstEvents, last: now}
		r.limits[e.Rule] = b
	}
	ok := b.take(now)
	if !ok && r.firstOf(e) {
		b.suppressed-- // counted by take, written after all
		ok = true
	} else if ok {
		r.firstOf(e)
	}
	if ok {
		e.Suppressed, b.suppressed = b.suppressed, 0
	}
	r.mu.Unlock()
	if !ok {
		return
	}
	e.Time = now.UTC().Format(time.RFC3339Nano)
	e.Argv = boundArgv(e.Argv)
	e.Policy = r.policy
	if m := r.meta.Load(); m != nil {
		e.Container, e.TaskARN, e.Family, e.Revision, e.Image, e.ImageDigest = m.Container, m.TaskARN, m.Family, m.Revision, m.Image, m.ImageDigest
	}
	js, err := json.Marshal(e)
	if err != nil {
		return
	}
	line := freshLine(js)
	select {
	case r.lines <- line:
	default:
		r.dropped.Add(1)
	}
	if r.http != nil {
		r.http.enqueue(js)
	}
}

// maxSeen bounds the rule/program pairs firstOf remembers: past it, the rate limit alone
// decides (an attacker making endless new programs gets the limit, not unbounded memory).
const maxSeen = 4096

// firstOf reports whether e is the first event of its rule and program (with the name it
// was invoked as: busybox as sh and as wget are different programs), and remembers it.
// Precondition: r.mu is held.
func (r *Reporter) firstOf(e *Event) bool {
	key := e.Rule + "\x00" + e.Program + "\x00" + e.Invoked
	if r.seen[key] || len(r.seen) >= maxSeen {
		return false
	}
	r.seen[key] = true
	return true
}

// Stats says how many events were dropped: by a full stderr queue, and by the HTTP sink
// (full queue or delivery given up).
func (r *Reporter) Stats() (stderrDropped, httpDropped, httpSent int64) {
	if r.http != nil {
		httpDropped, httpSent = r.http.dropped.Load(), r.http.sent.Load()
	}
	return r.dropped.Load(), httpDropped, httpSent
}

// Close flushes what is queued, waiting at most timeout, and writes a summary line if
// events were dropped. Report must not be called after Close.
func (r *Reporter) Close(timeout time.Duration) {
	deadline := time.After(timeout)
	if r.http != nil {
		r.http.close(deadline)
	}
	sd, hd, _ := r.Stats()
	if sd > 0 || hd > 0 {
		b, _ := json.Marshal(map[string]any{"time": r.now().UTC().Format(time.RFC3339Nano), "action": "dropped", "stderr": sd, "http": hd})
		select {
		case r.lines <- freshLine(b):
		default:
		}
	}
	close(r.lines)
	select {
	case <-r.done:
	case <-deadline:
	}
}

// freshLine is an event's stderr line: the program writes to the same stderr, and the
// defender cannot see whether its last write ended a line, so every event starts with a
// newline of its own. Never glued to a partial line, an event still cannot be told from a
// line the program forged: stderr events are informational, and the HTTP sink (whose
// collector holds the token) is the record to trust.
func freshLine(js []byte) []byte {
	line := make([]byte, 0, len(js)+2)
	line = append(line, '\n')
	line = append(line, js...)
	return append(line, '\n')
}

// Rate limit per rule: a burst, then a steady rate, so a fork bomb of blocked execs costs a
// few lines per second, with the count of the rest in "suppressed".
const (
	burstEvents  = 20
	eventsPerSec = 5
)

type bucket struct {
	tokens     float64
	last       time.Time
	suppressed int
}

func (b *bucket) take(now time.Time) bool {
	b.tokens = min(burstEvents, b.tokens+now.Sub(b.last).Seconds()*eventsPerSec)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	b.suppressed++
	return false
}
