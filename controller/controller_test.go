package controller

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/controller/gitsource"
	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/internal/ecstest"
	"github.com/taskward/taskward/internal/testtool"

	"github.com/taskward/taskward/reconcile"
)

// gitRemote is a bare repository made with the git CLI and a work tree to push from.
type gitRemote struct {
	t          *testing.T
	bare, work string
	env        []string
}

func newGitRemote(t *testing.T) *gitRemote {
	t.Helper()
	testtool.Need(t, "git", "the git CLI")
	root := t.TempDir()
	r := &gitRemote{t: t, bare: filepath.Join(root, "repo.git"), work: filepath.Join(root, "work")}
	r.env = append(os.Environ(), "GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com",
		"GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+root)
	r.git(root, "init", "-q", "--bare", "-b", "main", r.bare)
	r.git(root, "init", "-q", "-b", "main", r.work)
	r.git(r.work, "remote", "add", "origin", r.bare)
	return r
}

func (r *gitRemote) git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, r.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// push commits files on main and pushes it.
func (r *gitRemote) push(msg string, files map[string]string) string {
	r.t.Helper()
	return r.pushBranch("main", msg, files)
}

// pushBranch commits on the current branch and pushes it as branch.
func (r *gitRemote) pushBranch(branch, msg string, files map[string]string) string {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.work, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git(r.work, "add", "-A")
	r.git(r.work, "commit", "-q", "-m", msg)
	r.git(r.work, "push", "-q", "origin", branch)
	return r.git(r.work, "rev-parse", "HEAD")
}

func exampleFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := "../examples/gitops"
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return files
}

// alertSink is a generic JSON webhook receiver that records alerts; it can be made to
// hang (down) until released.
type alertSink struct {
	mu     sync.Mutex
	alerts []Alert
	block  chan struct{} // non-nil: requests wait until it is closed, then fail
}

func (s *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil {
		<-block
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var a Alert
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	s.mu.Lock()
	s.alerts = append(s.alerts, a)
	s.mu.Unlock()
}

func (s *alertSink) got() []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Alert(nil), s.alerts...)
}

type testEnv struct {
	ecs    *ecs.Client
	local  *ecslocal.Running
	sink   *alertSink
	sinkTS *httptest.Server
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	l := ecstest.Start(t, "default")
	client, local := l.Client, l.Running
	sink := &alertSink{}
	ts := httptest.NewServer(sink)
	t.Cleanup(ts.Close)
	return &testEnv{ecs: client, local: local, sink: sink, sinkTS: ts}
}

func (e *testEnv) revisions(t *testing.T, family string) []string {
	t.Helper()
	out, err := e.ecs.ListTaskDefinitions(context.Background(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family)})
	if err != nil {
		t.Fatal(err)
	}
	return out.TaskDefinitionArns
}

func gitSource(t *testing.T, url string) Source {
	gs, err := gitsource.New(gitsource.Options{URL: url, Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	return &GitSource{Src: gs, Name: url}
}

// TestEndToEndGitToECS: push a commit, the controller applies it to ecslocal; push a
// change, exactly that family gets a new revision; push a broken commit, nothing is
// applied and the status says which file is wrong.
func TestEndToEndGitToECS(t *testing.T) {
	for _, transport := range []string{"file", "http-backend"} {
		t.Run(transport, func(t *testing.T) {
			ctx := context.Background()
			env := newTestEnv(t)
			remote := newGitRemote(t)
			first := remote.push("initial", exampleFiles(t))
			url := "file://" + remote.bare
			if transport == "http-backend" {
				url = serveHTTPBackend(t, filepath.Dir(remote.bare)) + "/repo.git"
			}
			c := New(gitSource(t, url), env.ecs)
			c.Reconcile(ctx, "test")
			st := c.Status()
			if st.Result != "applied" || !st.Ready || st.Commit != first || st.LastApplied != first {
				t.Fatalf("first reconcile: %+v", st)
			}
			for _, f := range st.Families {
				if f.Sync != reconcile.Synced || f.Action != "" || f.Revision == "" {
					t.Fatalf("family after apply: %+v", f)
				}
			}
			for _, fam := range []string{"web", "cache", "twistlock-fargate-task"} {
				if n := len(env.revisions(t, fam)); n != 1 {
					t.Fatalf("%s: %d revisions, want 1", fam, n)
				}
			}
			// Nothing new: nothing registered.
			c.Reconcile(ctx, "test")
			if st := c.Status(); st.Result != "synced" {
				t.Fatalf("steady state: %+v", st)
			}

			web := exampleFiles(t)["tasks/web.json"]
			second := remote.push("web: more cpu", map[string]string{"tasks/web.json": moreCPU(web)})
			c.Reconcile(ctx, "test")
			if st := c.Status(); st.Commit != second || st.Result != "applied" {
				t.Fatalf("second commit: %+v", st)
			}
			if n := len(env.revisions(t, "web")); n != 2 {
				t.Fatalf("web: %d revisions after a change, want 2", n)
			}
			if n := len(env.revisions(t, "cache")); n != 1 {
				t.Fatalf("cache changed too: %d revisions", n)
			}

			broken := remote.push("broken", map[string]string{
				"tasks/web.json":   `{"family": "web", "cpu": "2048",`,
				"tasks/cache.json": strings.Replace(exampleFiles(t)["tasks/cache.json"], `"memory": "0.5 GB"`, `"memory": "4096"`, 1),
			})
			c.Reconcile(ctx, "test")
			st = c.Status()
			if st.BrokenCommit != broken || st.Commit != second || st.Result != "broken-commit" {
				t.Fatalf("broken commit: %+v", st)
			}
			if len(st.Problems) == 0 || !strings.Contains(strings.Join(st.Problems, "\n"), "tasks/web.json") {
				t.Fatalf("status does not say which file is wrong: %v", st.Problems)
			}
			if n := len(env.revisions(t, "cache")); n != 1 {
				t.Fatalf("a broken commit applied its other files: cache has %d revisions", n)
			}
		})
	}
}

// moreCPU doubles the web task's size (a valid Fargate combination).
func moreCPU(web string) string {
	return strings.NewReplacer(`"cpu": "512"`, `"cpu": "1024"`, `"memory": "1024"`, `"memory": "2048"`).Replace(web)
}

// serveHTTPBackend serves the bare repositories under root with git http-backend through
// net/http/cgi, as a Git server would.
func serveHTTPBackend(t *testing.T, root string) string {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	h := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestDriftAlertsOnceThenResolved: a service of a managed family is moved to another
// revision behind Git's back; the scan reports it out of sync, the notifier receives
// exactly one alert (not one per scan), and one "resolved" when it is put back.
func TestDriftAlertsOnceThenResolved(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithNotifiers(NewWebhookNotifier(env.sinkTS.URL, nil)))
	if code := c.Once(ctx); code != 0 {
		t.Fatalf("first run: exit %d, %+v", code, c.Status())
	}
	web := exampleFiles(t)["tasks/web.json"]
	remote.push("web: more cpu", map[string]string{"tasks/web.json": moreCPU(web)})
	c.Reconcile(ctx, "test") // web:2
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	if _, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"),
		DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if code := c.Once(ctx); code != 1 {
			t.Fatalf("drifted: exit %d", code)
		}
	}
	alerts := env.sink.got()
	if len(alerts) != 1 || alerts[0].Kind != reconcile.DriftOutOfSync || alerts[0].State != "firing" || !strings.HasSuffix(alerts[0].Resource, "service/default/web") {
		t.Fatalf("want exactly one out-of-sync alert, got %+v", alerts)
	}
	if _, err := env.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web:2")}); err != nil {
		t.Fatal(err)
	}
	if code := c.Once(ctx); code != 0 {
		t.Fatalf("put back: exit %d, drift %+v", code, c.Status().Drift)
	}
	alerts = env.sink.got()
	if len(alerts) != 2 || alerts[1].State != "resolved" || alerts[1].Kind != reconcile.DriftOutOfSync {
		t.Fatalf("want one resolved alert after the firing one, got %+v", alerts)
	}
}

// TestSelfHeal: with self-heal the controller puts an out-of-sync service back itself.
func TestSelfHeal(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithSelfHeal(true))
	c.Reconcile(ctx, "test")
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	plain, err := env.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("cache"), NetworkMode: types.NetworkModeAwsvpc,
		Cpu: aws.String("256"), Memory: aws.String("512"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("redis"), Image: aws.String("redis:7.4-alpine")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("cache"), TaskDefinition: plain.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
		t.Fatal(err)
	}
	if f := c.Scan(ctx); len(f) != 2 {
		t.Fatalf("want unprotected and out-of-sync, got %+v", f)
	}
	c.Reconcile(ctx, "self-heal")
	if f := c.Scan(ctx); len(f) != 0 {
		t.Fatalf("self-heal left drift: %+v", f)
	}
}

// TestDeadReceiverDoesNotDelayReconciles: while the alert receiver hangs, reconciles and
// scans complete; once it is back, the queued alerts arrive.
func TestDeadReceiverDoesNotDelayReconciles(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := newTestEnv(t)
	block := make(chan struct{})
	env.sink.block = block
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithNotifiers(NewWebhookNotifier(env.sinkTS.URL, nil)))
	go c.dispatch.run(ctx)
	c.Reconcile(ctx, "test")
	if _, err := env.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("legacy"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("busybox"), Memory: aws.Int32(64)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ecs.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("legacy")}); err != nil {
		t.Fatal(err)
	}
	// The receiver hangs: these return anyway (the test would time out otherwise).
	findings := c.Scan(ctx)
	c.Reconcile(ctx, "test")
	c.Scan(ctx)
	if len(findings) != 2 {
		t.Fatalf("want unmanaged and unprotected for the standalone task, got %+v", findings)
	}
	env.sink.mu.Lock()
	env.sink.block = nil
	env.sink.mu.Unlock()
	close(block)
	c.dispatch.enqueue() // no-op; the dispatcher retries on its own backoff
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && len(env.sink.got()) < 2 {
		time.Sleep(50 * time.Millisecond)
	}
	if got := env.sink.got(); len(got) != 2 {
		t.Fatalf("after the receiver came back: %d alerts, want 2", len(got))
	}
}

func TestHTTPEndpoints(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	dir := t.TempDir()
	for p, content := range exampleFiles(t) {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644)
	}
	c := New(&DirSource{Dir: dir}, env.ecs, WithEventsToken([]byte("s3cret-token")))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Fatalf("ready before the first reconcile: %d", code)
	}
	c.Reconcile(ctx, "test")
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("not ready after a reconcile: %d", code)
	}
	if code, body := get("/status"); code != 200 || !strings.Contains(body, `"family": "web"`) {
		t.Fatalf("/status: %d %s", code, body)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "<td>web</td>") {
		t.Fatalf("/: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `taskward_ecs_api_calls_total{operation="RegisterTaskDefinition"} 3`) || !strings.Contains(body, "taskward_reconciles_total") {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
}
