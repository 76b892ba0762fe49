package controller

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// FuzzEventIntake feeds arbitrary bodies to POST /v1/events with a valid token: the
// handler must never panic and must answer 202 only for a batch of valid events.
func FuzzEventIntake(f *testing.F) {
	f.Add([]byte(`[{"time":"2026-01-01T00:00:00Z","action":"blocked","rule":"drift","reason":"r","pid":1,"ppid":0,"program":"/tmp/x","argv":["x"]}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"action":"killed"}]`))
	client := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1")})
	c := New(&DirSource{Dir: f.TempDir()}, client, WithEventsToken([]byte("tok")))
	h := c.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
