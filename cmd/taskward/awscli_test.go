package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskward/taskward/internal/testtool"
)

// TestRealAWSCLIAgainstECSLocal follows the README with Debian's AWS CLI (v2.9, which
// ignores AWS_ENDPOINT_URL_ECS): `taskward ecs-local`'s banner names --endpoint-url and
// AWS_DEFAULT_REGION; with them the real CLI lists the clusters, registers the output of
// `taskward protect` (--cli-input-json file://), and describes it back, and `taskward
// unprotect` takes that describe output and gives back the original program.
func TestRealAWSCLIAgainstECSLocal(t *testing.T) {
	awsBin := testtool.Need(t, "aws", "the AWS CLI")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"ecs-local", "--listen", "127.0.0.1:0", "--region", "eu-west-1", "--clusters", "prod"}, &cmdEnv{stdout: &out, stderr: &errb})
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Stop with Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	banner := out.String()
	endpoint := regexp.MustCompile(`aws --endpoint-url (\S+) ecs`).FindStringSubmatch(banner)[1]
	// The environment the banner's export line sets, and nothing of this machine's.
	exports := regexp.MustCompile(`export (AWS_\S+ .*)`).FindStringSubmatch(banner)[1]
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none")}
	env = append(env, strings.Fields(exports)...)
	aws := func(args ...string) string {
		t.Helper()
		cctx, ccancel := context.WithTimeout(ctx, 60*time.Second)
		defer ccancel()
		cmd := exec.CommandContext(cctx, awsBin, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	if got := aws("ecs", "list-clusters"); !strings.Contains(got, "arn:aws:ecs:eu-west-1:000000000000:cluster/prod") {
		t.Errorf("list-clusters:\n%s", got)
	}

	dir := t.TempDir()
	protected := filepath.Join(dir, "protected.json")
	if code, _, stderr := runCmd(t, "", "protect", "../../examples/gitops/tasks/twistlock-fargate-task.json", "--offline", "--out", protected); code != exitOK {
		t.Fatalf("protect: %d %s", code, stderr)
	}
	if got := aws("ecs", "register-task-definition", "--cli-input-json", "file://"+protected); !strings.Contains(got, `"revision": 1`) {
		t.Fatalf("register-task-definition:\n%s", got)
	}
	described := aws("ecs", "describe-task-definition", "--task-definition", "twistlock-fargate-task")
	code, plain, stderr := runCmd(t, described, "unprotect", "-")
	if code != exitOK {
		t.Fatalf("unprotect of the CLI's describe output: %d %s", code, stderr)
	}
	var td struct {
		Family               string `json:"family"`
		ContainerDefinitions []struct {
			EntryPoint []string `json:"entryPoint"`
			Command    []string `json:"command"`
		} `json:"containerDefinitions"`
	}
	if err := json.Unmarshal([]byte(plain), &td); err != nil || td.Family != "twistlock-fargate-task" || len(td.ContainerDefinitions) != 1 ||
		td.ContainerDefinitions[0].EntryPoint != nil || strings.Join(td.ContainerDefinitions[0].Command, " ") != "nc -ll -p 80 -e /bin/sh" {
		t.Errorf("unprotected: %v\n%s", err, plain)
	}
}
