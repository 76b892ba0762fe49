package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestECSLocalBannerWorks starts `taskward ecs-local` and follows its banner as a new user
// would: the AWS CLI lines name --endpoint-url and AWS_DEFAULT_REGION (which every CLI
// version reads), and the taskward lines it prints work and keep their state between
// commands: the diff after the apply finds nothing to do.
func TestECSLocalBannerWorks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"ecs-local", "--listen", "127.0.0.1:0", "--region", "eu-west-1"}, &cmdEnv{stdout: &out, stderr: &errb})
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Stop with Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner: %s %s", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	banner := out.String()
	url := regexp.MustCompile(`ECS endpoint: (http://\S+)`).FindStringSubmatch(banner)[1]
	for _, want := range []string{"aws --endpoint-url " + url + " ecs list-task-definitions", "AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1", "2.13"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	var lines []string
	for _, l := range strings.Split(banner, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "taskward ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "taskward apply") || !strings.HasPrefix(lines[1], "taskward diff") {
		t.Fatalf("banner's taskward lines: %q", lines)
	}
	for i, want := range []int{exitOK, exitOK} {
		args := strings.Fields(strings.TrimPrefix(lines[i], "taskward "))
		for j, a := range args {
			if a == "examples/gitops" {
				args[j] = "../../examples/gitops"
			}
		}
		code, stdout, stderr := runCmd(t, "", args...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", lines[i], code, want, stdout, stderr)
		}
		if strings.Contains(stderr, "forgets everything") {
			t.Errorf("%s: warned about an in-process ECS while using ecs-local", lines[i])
		}
	}
}

// TestInProcessECSSaysItForgets: --ecs local without an endpoint or a state file says that
// what it registers is gone when the command exits, and what to use instead.
func TestInProcessECSSaysItForgets(t *testing.T) {
	_, _, stderr := runCmd(t, "", "diff", "--repo", "../../examples/gitops", "--ecs", "local", "--offline")
	for _, want := range []string{"forgets everything", "taskward ecs-local", "--ecs-local-state"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	_, _, stderr = runCmd(t, "", "diff", "--repo", "../../examples/gitops", "--ecs", "local", "--offline", "--ecs-local-state", t.TempDir()+"/state.json")
	if strings.Contains(stderr, "forgets everything") {
		t.Errorf("warned with --ecs-local-state:\n%s", stderr)
	}
}

// TestNothingListening: an ECS endpoint on this machine where nothing listens fails at
// once (no 16-24 s of retries) with a hint, and the controller's one-shot report does not
// call a scan that failed "drift: 0".
func TestNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	code, _, stderr := runCmd(t, "", "diff", "--repo", "../../examples/gitops", "--ecs", "local", "--ecs-endpoint", endpoint, "--offline")
	if code != exitError || !strings.Contains(stderr, "nothing listens at the ECS endpoint") || strings.Contains(stderr, "maximum number of attempts") {
		t.Errorf("diff: exit %d\n%s", code, stderr)
	}
	code, stdout, _ := runCmd(t, "", "controller", "--repo", "../../examples/gitops", "--ecs", "local", "--ecs-endpoint", endpoint, "--offline", "--once")
	if code != exitError || strings.Contains(stdout, "drift: 0") || !strings.Contains(stdout, "drift: unknown") || !strings.Contains(stdout, "nothing listens at the ECS endpoint") {
		t.Errorf("controller --once: exit %d\n%s", code, stdout)
	}
}

// TestMistakesOnPurpose: what a new user gets wrong is refused with what to do, at once.
func TestMistakesOnPurpose(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		// A positional argument is not silently ignored (the current directory rendered).
		{[]string{"render", "myrepo"}, []string{`unexpected argument "myrepo"`, "--repo myrepo"}},
		{[]string{"validate", "../../examples/gitops"}, []string{`unexpected argument "../../examples/gitops"`}},
		{[]string{"diff", "x", "--ecs", "local"}, []string{`unexpected argument "x"`}},
		{[]string{"ecs-local", "x"}, []string{`unexpected argument "x"`}},
		{[]string{"render", "--repo", "/nonexistent"}, []string{"/nonexistent: does not exist"}},
		{[]string{"render", "--repo", "main.go"}, []string{"main.go: is a file, not a directory"}},
		{[]string{"review", "--repo", "/nonexistent", "--no-plan"}, []string{"--repo /nonexistent: does not exist"}},
		// A token file that is not there is a setup mistake: refused at start, the
		// scrubber leaving the error's words alone.
		{[]string{"controller", "--repo", "https://git.example.com/ops.git", "--git-token-file", "/nonexistent/git-token", "--once"},
			[]string{"/nonexistent/git-token: no such file or directory"}},
	} {
		code, _, stderr := runCmd(t, "", tc.args...)
		if code == exitOK {
			t.Errorf("%q: exit 0\n%s", tc.args, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr lacks %q:\n%s", tc.args, w, stderr)
			}
		}
	}
}

// TestValidateEveryErrorOfEveryFile: a file that does not load does not hide another
// file's render error, nor a policy's value errors.
func TestValidateEveryErrorOfEveryFile(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../../examples/gitops", dir)
	// A task whose image no registry can give (offline) and no override declares.
	os.WriteFile(filepath.Join(dir, "tasks", "api.json"), []byte(`{"family":"api","containerDefinitions":[{"name":"api","image":"registry.example.com/api:1"}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "tasks", "broken.json"), []byte(`{"family": `), 0o644)
	os.WriteFile(filepath.Join(dir, "policies", "bad.yaml"), []byte("name: bad\nmatch:\n  families: [api]\nprocesses:\n  allow: /usr/bin/api\n"), 0o644)
	code, _, stderr := runCmd(t, "", "validate", "--repo", dir, "--offline")
	for _, want := range []string{
		"tasks/broken.json:1:12: invalid JSON",
		`policies/bad.yaml:5:10: processes.allow: must be a list, even of one: [/usr/bin/api]`,
		`tasks/api.json: containerDefinitions[0]: image registry.example.com/api:1: `,
		`images: {"registry.example.com/api:1": {entrypoint: [...], cmd: [...], reason:`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("validate lacks %q:\n%s", want, stderr)
		}
	}
	if code != exitChanges {
		t.Errorf("exit %d", code)
	}
}

// TestUnprotectAllSkippedRoundTrips: protect leaves a task whose every container is skipped
// (a Windows task) unchanged; unprotect of that output gives it back, exit 0, saying there
// was nothing to undo. A container label left without the init container is still refused.
func TestUnprotectAllSkippedRoundTrips(t *testing.T) {
	dir := t.TempDir()
	task := `{"family":"win","runtimePlatform":{"operatingSystemFamily":"WINDOWS_SERVER_2022_CORE"},"containerDefinitions":[{"name":"iis","image":"mcr.microsoft.com/windows/servercore/iis","entryPoint":["powershell"],"command":["C:\\ServiceMonitor.exe","w3svc"]}]}`
	os.WriteFile(filepath.Join(dir, "win.json"), []byte(task), 0o644)
	os.WriteFile(filepath.Join(dir, "taskward.yaml"), []byte("skip:\n  - families: [win]\n    reason: Windows\n"), 0o644)
	code, protected, stderr := runCmd(t, "", "protect", filepath.Join(dir, "win.json"), "--config", filepath.Join(dir, "taskward.yaml"), "--offline")
	if code != exitOK {
		t.Fatalf("protect: %d\n%s", code, stderr)
	}
	code, plain, stderr := runCmd(t, protected, "unprotect", "-")
	if code != exitOK || !strings.Contains(stderr, "nothing to undo") {
		t.Fatalf("unprotect: %d\n%s", code, stderr)
	}
	if plain != protected {
		t.Errorf("round trip changed the task:\n%s\nvs\n%s", protected, plain)
	}
	tampered := strings.Replace(task, `"name":"iis",`, `"name":"iis","dockerLabels":{"taskward.dev/original":"{}"},`, 1)
	if code, _, stderr := runCmd(t, tampered, "unprotect", "-"); code == exitOK || !strings.Contains(stderr, "changed after rendering") {
		t.Errorf("a label without the init container: %d\n%s", code, stderr)
	}
}

// TestWebhooksNeedAFollowedRepository: webhooks on a controller following a local
// directory cannot tell the repository's events from any other's: refused at start unless
// --webhook-repo names it.
func TestWebhooksNeedAFollowedRepository(t *testing.T) {
	sec := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(sec, []byte("s3cret"), 0o600)
	code, _, stderr := runCmd(t, "", "controller", "--repo", "../../examples/gitops", "--ecs", "local", "--offline", "--once", "--github-webhook-secret-file", sec)
	if code != exitError || !strings.Contains(stderr, "--webhook-repo") {
		t.Errorf("local repo with webhooks: %d\n%s", code, stderr)
	}
	code, _, stderr = runCmd(t, "", "controller", "--repo", "../../examples/gitops", "--ecs", "local", "--offline", "--once", "--github-webhook-secret-file", sec, "--webhook-repo", "acme/ops")
	if code != exitOK {
		t.Errorf("with --webhook-repo: %d\n%s", code, stderr)
	}
}

// TestCLIConventions: one meaning per flag across commands. -o/--output is a format and
// --out a file everywhere; every command takes --log-format and --log-level; diff does not
// offer apply's --commit; the ECS commands take the AWS CLI's --endpoint-url and --profile;
// the controller has one spelling for its clusters.
func TestCLIConventions(t *testing.T) {
	for name := range commands {
		_, _, help := runCmd(t, "", name, "--help")
		for _, want := range []string{"--log-format", "--log-level"} {
			if !strings.Contains(help, want) {
				t.Errorf("%s --help lacks %s", name, want)
			}
		}
		if strings.Contains(help, "-o, --output") && !strings.Contains(help, "format") {
			t.Errorf("%s: -o is not a format", name)
		}
	}
	if _, _, help := runCmd(t, "", "diff", "--help"); strings.Contains(help, "--commit") || !strings.Contains(help, "--endpoint-url") || !strings.Contains(help, "--profile") {
		t.Errorf("diff --help:\n%s", help)
	}
	if _, _, help := runCmd(t, "", "apply", "--help"); !strings.Contains(help, "--commit") {
		t.Errorf("apply --help lacks --commit")
	}
	dir := t.TempDir()
	task := "../../examples/gitops/tasks/twistlock-fargate-task.json"
	// -o is the format; the old -o FILE is refused with the new spelling.
	if code, _, stderr := runCmd(t, "", "protect", task, "--offline", "-o", filepath.Join(dir, "p.json")); code != exitError || !strings.Contains(stderr, "--out "+filepath.Join(dir, "p.json")) {
		t.Errorf("protect -o FILE: %d %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "", "protect", task, "--offline", "--out", filepath.Join(dir, "p.json")); code != exitOK {
		t.Errorf("protect --out: %d %s", code, stderr)
	}
	code, yml, _ := runCmd(t, "", "protect", task, "--offline", "-o", "yaml")
	if code != exitOK || !strings.HasPrefix(yml, "family: twistlock-fargate-task") {
		t.Errorf("protect -o yaml: %d\n%s", code, yml)
	}
	if code, back, stderr := runCmd(t, "", "unprotect", filepath.Join(dir, "p.json"), "-o", "json"); code != exitOK || !strings.Contains(back, `"family": "twistlock-fargate-task"`) {
		t.Errorf("unprotect: %d %s", code, stderr)
	}
	// render's old --format still works, saying what to write instead.
	if code, _, stderr := runCmd(t, "", "render", "--repo", "../../examples/gitops", "--offline", "--format", "yaml"); code != exitOK || !strings.Contains(stderr, "use -o/--output") {
		t.Errorf("render --format: %d %s", code, stderr)
	}
	// Logs in JSON on request, level errors refused.
	if _, _, stderr := runCmd(t, "", "diff", "--repo", "../../examples/gitops", "--ecs", "local", "--offline", "--log-format", "json"); !strings.Contains(stderr, `"level":"WARN"`) {
		t.Errorf("diff --log-format json:\n%s", stderr)
	}
	if code, _, stderr := runCmd(t, "", "validate", "--log-level", "loud"); code != exitError || !strings.Contains(stderr, "--log-level") {
		t.Errorf("bad --log-level: %d %s", code, stderr)
	}
	// --endpoint-url is --ecs-endpoint.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	if _, _, stderr := runCmd(t, "", "diff", "--repo", "../../examples/gitops", "--ecs", "local", "--endpoint-url", endpoint, "--offline"); !strings.Contains(stderr, ln.Addr().String()) {
		t.Errorf("--endpoint-url not used:\n%s", stderr)
	}
	if code, _, stderr := runCmd(t, "", "diff", "--repo", "../../examples/gitops", "--ecs", "local", "--profile", "prod", "--offline"); code != exitError || !strings.Contains(stderr, "--profile is for --ecs aws") {
		t.Errorf("--profile with local: %d %s", code, stderr)
	}
	// The controller's --cluster is deprecated for --clusters.
	if _, _, stderr := runCmd(t, "", "controller", "--repo", "../../examples/gitops", "--ecs", "local", "--offline", "--once", "--cluster", "default"); !strings.Contains(stderr, "use --clusters") {
		t.Errorf("controller --cluster:\n%s", stderr)
	}
}

// TestSIGHUPReconcilesNow: the controller following a plain directory picks up an edit
// when it receives SIGHUP, without waiting for its poll.
func TestSIGHUPReconcilesNow(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../../examples/gitops", dir)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"controller", "--repo", dir, "--ecs", "local", "--offline", "--listen", addr,
			"--poll", "1h", "--drift-schedule", "0 0 1 1 *", "--log-level", "warn"}, &cmdEnv{stdout: &out, stderr: &errb})
	}()
	defer func() { cancel(); <-done }()
	status := func() map[string]any {
		resp, err := http.Get("http://" + addr + "/status")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var st map[string]any
		json.NewDecoder(resp.Body).Decode(&st)
		return st
	}
	deadline := time.Now().Add(20 * time.Second)
	for st := status(); st == nil || st["ready"] != true; st = status() {
		if time.Now().After(deadline) {
			t.Fatalf("controller not ready: %s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	first := status()["commit"]
	web := filepath.Join(dir, "tasks", "web.json")
	b, _ := os.ReadFile(web)
	os.WriteFile(web, []byte(strings.Replace(string(b), `"cpu": "512"`, `"cpu": "256"`, 1)), 0o644)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for st := status(); st["commit"] == first || st["lastApplied"] != st["commit"]; st = status() {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reconcile: %v\n%s", st, errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
