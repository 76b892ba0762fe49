package controller

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/taskward/taskward/defender"

	"github.com/taskward/taskward/reconcile"
)

// TestDefenderEventWireContract: a line the defender's reporter writes (bounded, stamped)
// decodes strictly and passes the controller's validation.
func TestDefenderEventWireContract(t *testing.T) {
	var buf bytes.Buffer
	r := defender.NewReporter(&buf)
	r.Report(&defender.Event{Action: "blocked", Rule: "packageManagers", Reason: "apk is a package manager", Program: "/sbin/apk",
		Argv: []string{"apk", "add", "curl"}, PID: 42, PPID: 7, Container: "app", TaskARN: "arn:aws:ecs:us-east-1:1:task/c/abc", Family: "web", Revision: "3"})
	r.Close(5 * time.Second) // the reporter writes from its own goroutine
	line := strings.TrimSpace(buf.String())
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	var e DefenderEvent
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	if err := validateEvent(&e); err != nil {
		t.Fatalf("a real defender event does not validate: %v (%s)", err, line)
	}
}

func TestEventIntake(t *testing.T) {
	env := newTestEnv(t)
	c := New(&DirSource{Dir: t.TempDir()}, env.ecs, WithEventsToken([]byte("tok-123456")), WithNotifiers(NewWebhookNotifier(env.sinkTS.URL, nil)))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()
	ev := func(action, program string) map[string]any {
		return map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "action": action, "rule": "drift", "reason": "r",
			"pid": 1, "ppid": 0, "program": program, "argv": []string{program}, "taskArn": "arn:aws:ecs:us-east-1:1:task/c/t1", "family": "web"}
	}
	post := func(token, ctype string, body []byte) int {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/events", bytes.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good, _ := json.Marshal([]any{ev("blocked", "/tmp/x"), ev("blocked", "/tmp/x"), ev("alerted", "/bin/sh")})
	for _, tc := range []struct {
		name, token, ctype string
		body               []byte
		want               int
	}{
		{"no token", "", "application/json", good, 401},
		{"wrong token", "tok-654321", "application/json", good, 401},
		{"wrong type", "tok-123456", "text/plain", good, 415},
		{"malformed", "tok-123456", "application/json", []byte(`{"not":"a list"}`), 400},
		{"unknown field", "tok-123456", "application/json", []byte(`[{"action":"blocked","extra":1}]`), 400},
		{"bad action", "tok-123456", "application/json", mustJSON([]any{ev("exploded", "/x")}), 400},
		{"oversized", "tok-123456", "application/json", bytes.Repeat([]byte(" "), maxEventsBody+1), 413},
		{"good", "tok-123456", "application/json", good, 202},
	} {
		if got := post(tc.token, tc.ctype, tc.body); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	// Two identical blocked events make one alert; the alerted one makes none.
	ctx := t.Context()
	go c.dispatch.run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && len(env.sink.got()) < 1 {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	got := env.sink.got()
	if len(got) != 1 || got[0].Kind != reconcile.DriftRuntime || got[0].Extra["program"] != "/tmp/x" {
		t.Fatalf("alerts %+v", got)
	}
	body := scrapeMetrics(t, ts.URL)
	for _, w := range []string{`taskward_defender_events_total{action="blocked"} 2`, `taskward_defender_events_total{action="alerted"} 1`, `taskward_defender_event_requests_rejected_total{reason="auth"} 2`} {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

func TestEventsRefusedWithoutToken(t *testing.T) {
	env := newTestEnv(t)
	c := New(&DirSource{Dir: t.TempDir()}, env.ecs)
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/v1/events", strings.NewReader("[]")))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("no token configured: %d", rec.Code)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return b
}

func scrapeMetrics(t *testing.T, base string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

func TestAlertBook(t *testing.T) {
	b := newAlertBook()
	now := time.Unix(0, 0)
	f := Finding{Kind: reconcile.DriftUnprotected, Resource: "svc/a", Revision: "a:1"}
	if got := b.update([]Finding{f}, now); len(got) != 1 || got[0].State != "firing" {
		t.Fatalf("first: %+v", got)
	}
	if got := b.update([]Finding{f}, now); len(got) != 0 {
		t.Fatalf("same finding fired again: %+v", got)
	}
	f2 := f
	f2.Revision = "a:2"
	if got := b.update([]Finding{f2}, now); len(got) != 1 || got[0].Revision != "a:2" {
		t.Fatalf("new revision must re-fire: %+v", got)
	}
	if got := b.update(nil, now); len(got) != 1 || got[0].State != "resolved" {
		t.Fatalf("resolve: %+v", got)
	}
	if got := b.update(nil, now); len(got) != 0 {
		t.Fatalf("resolved twice: %+v", got)
	}
}

// TestRuntimeAlertMemoryIsBounded: endless distinct programs from one task do not grow
// the de-duplication memory past that task's bound; the excess is counted, and one flood
// alert says so.
func TestRuntimeAlertMemoryIsBounded(t *testing.T) {
	env := newTestEnv(t)
	c := New(&DirSource{Dir: t.TempDir()}, env.ecs, WithNotifiers(NewWebhookNotifier(env.sinkTS.URL, nil)))
	for i := range maxRuntimeKeys + 50 {
		c.events.take(&DefenderEvent{Action: "blocked", Rule: "drift", Program: fmt.Sprintf("/tmp/p%d", i), TaskARN: "t"}, "10.0.0.1")
	}
	if n := len(c.events.seen); n != maxKeysPerTask+1 {
		t.Fatalf("%d keys remembered, want the task's bound %d and its flood key", n, maxKeysPerTask)
	}
	alerts := pendingAlerts(c)
	if len(alerts) != maxKeysPerTask+1 || alerts[len(alerts)-1].Extra["rule"] != "alert-flood" {
		t.Fatalf("%d alerts, last %+v; want %d and one flood alert", len(alerts), alerts[len(alerts)-1], maxKeysPerTask)
	}
}

// TestRuntimeAlertsOfOtherTasks: a task that holds the shared token and fills the
// de-duplication memory, in its own name or in endless made-up ones, cannot suppress
// another task's first alert.
func TestRuntimeAlertsOfOtherTasks(t *testing.T) {
	env := newTestEnv(t)
	c := New(&DirSource{Dir: t.TempDir()}, env.ecs, WithNotifiers(NewWebhookNotifier(env.sinkTS.URL, nil)))
	c.dispatch.max = 2 * maxRuntimeKeys
	for i := range maxRuntimeKeys + 50 {
		c.events.take(&DefenderEvent{Action: "blocked", Rule: "drift", Program: "/tmp/x", TaskARN: fmt.Sprintf("made-up-%d", i)}, "10.0.0.66")
	}
	if n := len(c.events.seen); n > maxRuntimeKeys {
		t.Fatalf("%d keys remembered, over the bound %d", n, maxRuntimeKeys)
	}
	victim := &DefenderEvent{Action: "blocked", Rule: "packageManagers", Program: "/usr/bin/apt-get", TaskARN: "arn:aws:ecs:us-east-1:1:task/c/victim"}
	c.events.take(victim, "10.0.0.7")
	alerts := pendingAlerts(c)
	if last := alerts[len(alerts)-1]; last.Resource != victim.TaskARN || last.Extra["program"] != victim.Program {
		t.Fatalf("the other task's alert was suppressed; last alert %+v", last)
	}
}

// pendingAlerts is what the dispatcher holds for its notifiers (it is not running).
func pendingAlerts(c *Controller) []Alert {
	c.dispatch.mu.Lock()
	defer c.dispatch.mu.Unlock()
	var out []Alert
	for _, p := range c.dispatch.pending {
		out = append(out, p.a)
	}
	return out
}
