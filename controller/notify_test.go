package controller

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/taskward/taskward/reconcile"
)

// TestSlackNotifier posts Slack's incoming-webhook format ({"text": ...}) with secrets
// scrubbed from the detail.
func TestSlackNotifier(t *testing.T) {
	var got map[string]string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", 400)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.Write([]byte("ok"))
	}))
	defer ts.Close()
	n := NewSlackNotifier(ts.URL+"/services/T000/B000/XXXX", nil)
	a := Alert{Finding: Finding{Kind: reconcile.DriftUnprotected, Resource: "arn:aws:ecs:us-east-1:1:service/c/web", Revision: "arn:aws:ecs:us-east-1:1:task-definition/web:3",
		Detail: "container app has DB_PASSWORD=hunter2hunter2 in env"}, State: "firing", Time: time.Now()}
	if err := n.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	text := got["text"]
	if !strings.Contains(text, "taskward firing: unprotected") || !strings.Contains(text, "service/c/web") || !strings.Contains(text, "web:3") {
		t.Fatalf("text: %q", text)
	}
	if strings.Contains(text, "hunter2hunter2") {
		t.Fatalf("secret leaked into Slack: %q", text)
	}
}

// TestNotifierErrorsHideTheURL: a failing delivery's error never carries the URL, whose
// path is the secret for Slack.
func TestNotifierErrorsHideTheURL(t *testing.T) {
	n := NewSlackNotifier("http://127.0.0.1:1/services/T000/B000/SECRETPART", nil)
	n.client.RetryMax = 0
	err := n.Notify(context.Background(), Alert{Finding: Finding{Kind: reconcile.DriftUnmanaged}, State: "firing"})
	if err == nil || strings.Contains(err.Error(), "SECRETPART") {
		t.Fatalf("error %v", err)
	}
}
