package controller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/taskward/taskward/internal/awsecs"
)

// TestShutdownFinishesThePhase: SIGTERM (ctx cancelled) arriving while apply registers
// lets apply finish every family, then skips what follows; nothing is left half-applied.
func TestShutdownFinishesThePhase(t *testing.T) {
	env := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	target, _ := url.Parse(env.local.URL)
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".RegisterTaskDefinition") {
			once.Do(cancel) // the "SIGTERM" lands in the middle of apply
		}
		forward.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	client, err := awsecs.New(context.Background(), awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), client)
	c.Reconcile(ctx, "test")
	if ctx.Err() == nil {
		t.Fatal("the cancel never happened")
	}
	for _, fam := range []string{"web", "cache", "twistlock-fargate-task"} {
		out, err := env.ecs.ListTaskDefinitions(context.Background(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(fam)})
		if err != nil || len(out.TaskDefinitionArns) != 1 {
			t.Fatalf("%s: apply did not finish after the shutdown signal (%v, %v)", fam, out, err)
		}
	}
	if st := c.Status(); st.LastReconcile.IsZero() {
		t.Fatal("report phase did not run")
	}
}
