package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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
