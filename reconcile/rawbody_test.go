package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/taskward/taskward/internal/awsecs"
)

// TestRegisterSendsTheExactBody checks that RegisterTaskDefinition puts on the wire the
// definition as Git has it, fields the SDK does not model included (decision 1), signed
// over that body, and that the raw response is what the revision is built from.
func TestRegisterSendsTheExactBody(t *testing.T) {
	var mu sync.Mutex
	var gotBody, gotAuth, gotHash string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		gotBody, gotAuth, gotHash = string(b), r.Header.Get("Authorization"), resign(t, r, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, `{"taskDefinition":{"taskDefinitionArn":"arn:aws:ecs:us-east-1:1:task-definition/web:1","family":"web",
			"containerDefinitions":[{"name":"app","image":"nginx","futureContainerField":1}],"futureField":true},
			"tags":[{"key":"taskward.dev/content-hash","value":"sha256:x"}]}`)
	}))
	defer srv.Close()
	client, err := awsecs.New(t.Context(), awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	def := mustParse(t, `{"family":"web","futureField":true,"containerDefinitions":[{"name":"app","image":"nginx","futureContainerField":1}]}`)
	body, in, err := registerInput(def, [][2]string{{TagManagedBy, ManagedByValue}})
	if err != nil {
		t.Fatal(err)
	}
	var raw rawCapture
	if _, err := client.RegisterTaskDefinition(t.Context(), in, sendBody(body), captureBody(&raw)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := `{"family":"web","futureField":true,"containerDefinitions":[{"name":"app","image":"nginx","futureContainerField":1}],"tags":[{"key":"taskward.dev/managed-by","value":"taskward"}]}`
	if gotBody != want {
		t.Errorf("sent\n%s\nwant\n%s", gotBody, want)
	}
	if gotAuth == "" || gotAuth != gotHash {
		t.Errorf("signature does not cover the body sent:\nsent     %q\nresigned %q", gotAuth, gotHash)
	}
	rev, err := revisionFromBody(raw.body)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Definition.Get("futureField") == nil || rev.Tags[TagContentHash] != "sha256:x" || rev.Definition.Get("tags") == nil {
		t.Errorf("revision lost raw fields or tags: %s %v", rev.Definition.Marshal(), rev.Tags)
	}
}

// resign signs the received request again over the body received, as ECS checks it.
func resign(t *testing.T, r *http.Request, body []byte) string {
	req := r.Clone(r.Context())
	req.Header.Del("Authorization")
	req.Header.Del("Accept-Encoding") // added by net/http after signing
	req.URL.Scheme, req.URL.Host = "http", r.Host
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "bad date"
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "taskward-local", SecretAccessKey: "taskward-local"}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, req, hex.EncodeToString(sum[:]), "ecs", "us-east-1", when); err != nil {
		return err.Error()
	}
	return req.Header.Get("Authorization")
}

func TestTagValue(t *testing.T) {
	for in, want := range map[string]string{
		"tasks/web.json":         "tasks/web.json",
		"tasks/wéb app.json":     "tasks/wéb app.json",
		"tasks/a~b#c.json":       "tasks/a_b_c.json",
		strings.Repeat("x", 300): strings.Repeat("x", 256),
	} {
		if got := tagValue(in); got != want {
			t.Errorf("tagValue(%q) = %q, want %q", in, got, want)
		}
	}
}
