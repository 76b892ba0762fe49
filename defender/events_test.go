package defender

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBoundArgv(t *testing.T) {
	long := strings.Repeat("a", 5000)
	many := make([]string, 100)
	for i := range many {
		many[i] = "x"
	}
	for _, tc := range []struct {
		name string
		in   []string
		max  int // max total bytes
		n    int // max entries
	}{
		{"short", []string{"ls", "-l"}, 10, 2},
		{"one long value", []string{"sh", long}, maxEventArgLen + 10, 2},
		{"many values", many, 200, maxEventArgs + 1},
		{"long total", []string{long, long, long, long, long, long, long, long, long, long, long, long}, maxEventArgvLen + 64, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := boundArgv(tc.in)
			total := 0
			for _, a := range got {
				total += len(a)
			}
			if total > tc.max || len(got) > tc.n {
				t.Fatalf("bounded argv has %d values, %d bytes", len(got), total)
			}
		})
	}
}

// TestRateLimitPerRule: a flood of one rule is cut to the burst, counted in "suppressed",
// and does not silence another rule.
func TestRateLimitPerRule(t *testing.T) {
	var buf syncBuf
	r := NewReporter(&buf)
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	for i := 0; i < 1000; i++ {
		r.Report(&Event{Action: ActionBlocked, Rule: "drift"})
	}
	r.Report(&Event{Action: ActionBlocked, Rule: "packageManagers"})
	now = now.Add(time.Second)
	r.Report(&Event{Action: ActionBlocked, Rule: "drift"})
	r.Close(time.Second)
	lines := eventLines(buf.String())
	if len(lines) != burstEvents+2 {
		t.Fatalf("%d lines, want %d", len(lines), burstEvents+2)
	}
	var last Event
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if last.Rule != "drift" || last.Suppressed != 1000-burstEvents {
		t.Fatalf("last event %+v: want drift with %d suppressed", last, 1000-burstEvents)
	}
}

// TestHTTPSink: events arrive in batches with the bearer token; a failing endpoint is
// retried; what cannot be delivered is counted, never blocking Report.
func TestHTTPSink(t *testing.T) {
	var mu sync.Mutex
	var got []Event
	fail := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var batch []Event
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &batch); err != nil {
			t.Errorf("batch is not a JSON array: %v", err)
		}
		got = append(got, batch...)
	}))
	defer srv.Close()
	r := NewReporter(io.Discard, WithHTTPSink(srv.URL, "tok"))
	r.http.backoffMin = 10 * time.Millisecond
	for i := 0; i < 5; i++ {
		r.Report(&Event{Action: ActionAlerted, Rule: "reverseShell", PID: i})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Close(time.Second)
	if len(got) != 5 {
		t.Fatalf("delivered %d events, want 5", len(got))
	}

	// An endpoint that never answers 2xx: Report stays non-blocking and drops are counted.
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer dead.Close()
	r = NewReporter(io.Discard, WithHTTPSink(dead.URL, "tok"))
	r.http.backoffMin = time.Millisecond
	start := time.Now()
	for i := 0; i < 3000; i++ {
		r.Report(&Event{Action: ActionBlocked, Rule: "r" + string(rune('a'+i%26))})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Report blocked for %v", d)
	}
	r.Close(500 * time.Millisecond)
	if _, dropped, _ := r.Stats(); dropped == 0 {
		t.Fatal("no drops counted for an endpoint that always fails")
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// eventLines is the events on stderr, one per line: each starts with a newline of its own
// (freshLine), which leaves empty lines between them.
func eventLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestEventsStartOnAFreshLine: an event never continues a line the program left
// unfinished on the shared stderr.
func TestEventsStartOnAFreshLine(t *testing.T) {
	var buf syncBuf
	buf.Write([]byte("partial line of the program"))
	r := NewReporter(&buf)
	r.Report(&Event{Action: ActionBlocked, Rule: "drift", Program: "/tmp/x"})
	r.Close(time.Second)
	lines := eventLines(buf.String())
	if len(lines) != 2 || lines[0] != "partial line of the program" || !strings.HasPrefix(lines[1], "{") {
		t.Fatalf("stderr %q: the event must start a line of its own", buf.String())
	}
}

// TestFirstEventOfEachProgram: a flood of one program's blocks exhausts its rule's limit,
// yet the first block of another program under the same rule is written in full, once.
func TestFirstEventOfEachProgram(t *testing.T) {
	var buf syncBuf
	r := NewReporter(&buf)
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	for i := 0; i < 100; i++ {
		r.Report(&Event{Action: ActionBlocked, Rule: "drift", Program: "/tmp/noisy"})
	}
	r.Report(&Event{Action: ActionBlocked, Rule: "drift", Program: "/tmp/real", User: "root"})
	r.Report(&Event{Action: ActionBlocked, Rule: "drift", Program: "/tmp/real"})
	r.Report(&Event{Action: ActionBlocked, Rule: "drift", Program: "/bin/busybox", Invoked: "/bin/wget"})
	r.Close(time.Second)
	var noisy, real, wget int
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var e Event
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		switch e.Program {
		case "/tmp/noisy":
			noisy++
		case "/tmp/real":
			real++
			if e.User != "root" {
				t.Errorf("the first /tmp/real event is not the one written: %+v", e)
			}
		case "/bin/busybox":
			wget++
		}
	}
	if noisy != burstEvents || real != 1 || wget != 1 {
		t.Errorf("noisy %d (want %d), real %d (want 1), busybox as wget %d (want 1):\n%s", noisy, burstEvents, real, wget, buf.String())
	}
}
