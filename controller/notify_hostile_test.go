package controller

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlackHostileEvent: a defender event is written by whatever runs in the task. Its
// program, reason and argv reach Slack through POST /v1/events and the alert; <!channel>,
// <https://...|links>, @here and terminal escapes must arrive as plain text.
func TestSlackHostileEvent(t *testing.T) {
	env := newTestEnv(t)
	var mu sync.Mutex
	var texts []string
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		texts = append(texts, m["text"])
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer slack.Close()
	c := New(&DirSource{Dir: t.TempDir()}, env.ecs, WithEventsToken([]byte("tok-123456")), WithNotifiers(NewSlackNotifier(slack.URL+"/services/T/B/X", nil)))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()
	go c.dispatch.run(t.Context())

	evil := "<!channel> <!here> <@U024BE7LH> <https://evil.example/login|Click to re-authenticate> @here @channel & \x1b[2J\u202e"
	ev := map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "action": "blocked", "rule": "drift", "reason": evil,
		"pid": 1, "ppid": 0, "program": "/tmp/" + evil, "argv": []string{evil}, "taskArn": "arn:aws:ecs:us-east-1:1:task/c/t1", "family": "web",
		"container": "app`" + evil}
	body, _ := json.Marshal([]any{ev})
	req, _ := http.NewRequest("POST", ts.URL+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok-123456")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/events: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(texts)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(texts) == 0 {
		t.Fatal("no Slack message")
	}
	for _, text := range texts {
		for _, bad := range []*regexp.Regexp{
			regexp.MustCompile(`<[!@#]`), regexp.MustCompile(`<https?:`), regexp.MustCompile(`@(here|channel|everyone)`),
			regexp.MustCompile(`&`), regexp.MustCompile("[\x1b\u202e]"),
		} {
			if m := bad.FindString(regexp.MustCompile(`&(amp|lt|gt);`).ReplaceAllString(text, "E")); m != "" {
				t.Errorf("Slack text holds %q (%s): %q", m, bad, text)
			}
		}
		if !strings.Contains(text, "Click to re-authenticate") {
			t.Errorf("the event's words should still show, defused: %q", text)
		}
	}
}
