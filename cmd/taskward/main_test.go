package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/pflag"

	"github.com/taskward/taskward/internal/ecstest"
	"github.com/taskward/taskward/internal/ojson"
	"github.com/taskward/taskward/manifests"
)

// runCmd runs taskward in-process and returns exit code, stdout and stderr.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &cmdEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func TestHelpVersionAndTypos(t *testing.T) {
	if code, out, _ := runCmd(t, "", "help"); code != 0 || !strings.Contains(out, "protect") {
		t.Fatalf("help: %d %s", code, out)
	}
	if code, out, _ := runCmd(t, "", "version"); code != 0 || !strings.Contains(out, "default defender image") {
		t.Fatalf("version: %d %s", code, out)
	}
	if code, _, errOut := runCmd(t, "", "protcet"); code != exitError || !strings.Contains(errOut, `did you mean "protect"?`) {
		t.Fatalf("typo: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "", "protect", "--help"); code != 0 || !strings.Contains(errOut, "--defender-image") {
		t.Fatalf("protect --help: %d %s", code, errOut)
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	img := fs.String("defender-image", "", "")
	cli := fs.String("repo", "", "")
	if err := fs.Parse([]string{"--repo", "cli"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TASKWARD_DEFENDER_IMAGE": "from-env", "TASKWARD_REPO": "env-loses"}
	if err := applyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if *img != "from-env" || *cli != "cli" {
		t.Fatalf("defender-image %q repo %q", *img, *cli)
	}
	// Two spellings of one flag: the command line's wins over the other's variable.
	var ep string
	alias := pflag.NewFlagSet("z", pflag.ContinueOnError)
	alias.StringVar(&ep, "ecs-endpoint", "", "")
	alias.StringVar(&ep, "endpoint-url", "", "")
	alias.Parse([]string{"--ecs-endpoint", "http://cli"})
	if err := applyEnv(alias, func(k string) (string, bool) { return "http://env", k == "TASKWARD_ENDPOINT_URL" }); err != nil || ep != "http://cli" {
		t.Fatalf("alias from the environment overwrote the command line: %q %v", ep, err)
	}
	bad := pflag.NewFlagSet("y", pflag.ContinueOnError)
	bad.Bool("offline", false, "")
	err := applyEnv(bad, func(k string) (string, bool) { return "maybe", k == "TASKWARD_OFFLINE" })
	if err == nil || !strings.Contains(err.Error(), "TASKWARD_OFFLINE") {
		t.Fatalf("bad env value: %v", err)
	}
}

// TestProtectSeedTaskRegistersInECS is the seed's "Generate Protected Task": the protected
// definition is accepted by ECS (ecslocal, through the real SDK) and starts the original
// program through the defender.
func TestProtectSeedTaskRegistersInECS(t *testing.T) {
	code, out, errOut := runCmd(t, "", "protect", "../../examples/gitops/tasks/twistlock-fargate-task.json")
	if code != 0 {
		t.Fatalf("protect: %d\n%s", code, errOut)
	}
	doc, err := ojson.Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var app, init *ojson.Value
	for _, cd := range doc.Get("containerDefinitions").Arr {
		switch cd.Get("name").Str {
		case manifests.InitContainerName:
			init = cd
		case "twistlock-fargate-task":
			app = cd
		}
	}
	if init == nil || app == nil {
		t.Fatalf("containers missing:\n%s", out)
	}
	ep, _ := app.Get("entryPoint").Strings()
	cmd, _ := app.Get("command").Strings()
	if strings.Join(ep, " ") != "/taskward/defender run --" || strings.Join(cmd, " ") != "nc -ll -p 80 -e /bin/sh" {
		t.Fatalf("argv: %v %v", ep, cmd)
	}
	if c, _ := init.Get("command").Strings(); strings.Join(c, " ") != "install /taskward" || init.Get("essential").Bool {
		t.Fatalf("init container: %s", init.Marshal())
	}

	client := ecstest.Start(t).Client
	var in ecs.RegisterTaskDefinitionInput
	// encoding/json matches the SDK's Go field names case-insensitively: wire JSON fills it.
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err)
	}
	res, err := client.RegisterTaskDefinition(context.Background(), &in)
	if err != nil {
		t.Fatalf("ECS refused the protected definition: %v", err)
	}
	if n := len(res.TaskDefinition.ContainerDefinitions); n != 2 {
		t.Fatalf("registered %d containers", n)
	}

	// unprotect gives back the file's definition.
	code, plain, errOut := runCmd(t, out, "unprotect", "-")
	if code != 0 {
		t.Fatalf("unprotect: %s", errOut)
	}
	src, _ := os.ReadFile("../../examples/gitops/tasks/twistlock-fargate-task.json")
	a, _ := ojson.Parse(src)
	b, _ := ojson.Parse([]byte(plain))
	if !ojson.Equal(a, b) {
		t.Fatalf("unprotect(protect(x)) != x:\n%s", plain)
	}
}

func TestValidateExitCodes(t *testing.T) {
	if code, out, errOut := runCmd(t, "", "validate", "--repo", "../../examples/gitops", "--offline"); code != 0 || !strings.Contains(out, "3 task definitions") {
		t.Fatalf("example repo: %d %s %s", code, out, errOut)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "tasks"), 0o755)
	os.WriteFile(filepath.Join(dir, "tasks", "a.json"), []byte(`{"family":"a","containerDefinitions":[{"name":"x","image":"y","comand":["z"]}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "tasks", "b.json"), []byte(`{"family":"b",`), 0o644)
	code, _, errOut := runCmd(t, "", "validate", "--repo", dir, "--offline")
	if code != exitChanges || !strings.Contains(errOut, `tasks/a.json:1:72: containerDefinitions[0].comand: unknown field "comand" (did you mean "command"?)`) || !strings.Contains(errOut, "tasks/b.json:1:15: invalid JSON") {
		t.Fatalf("broken repo: %d\n%s", code, errOut)
	}
}

func TestRenderFormatsAndOutDir(t *testing.T) {
	code, out, errOut := runCmd(t, "", "render", "--repo", "../../examples/gitops", "--offline", "--format", "yaml")
	if code != 0 || !strings.Contains(out, "# tasks/web.json") || !strings.Contains(out, "- /taskward/defender") {
		t.Fatalf("yaml: %d %s %s", code, out, errOut)
	}
	dir := t.TempDir()
	if code, _, errOut := runCmd(t, "", "render", "--repo", "../../examples/gitops", "--offline", "--out", dir); code != 0 {
		t.Fatal(errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "tasks", "web.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ojson.Parse(b)
	if err != nil || !manifests.IsProtected(doc) {
		t.Fatalf("rendered file is not protected: %v", err)
	}
	if code, _, _ := runCmd(t, "", "render", "--format", "xml"); code != exitError {
		t.Fatal("bad --format accepted")
	}
}

func TestResolveRegion(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		flag, repo, mode string
		env              map[string]string
		want             string
	}{
		{"eu-west-1", "us-west-2", "aws", map[string]string{"AWS_REGION": "ap-south-1"}, "eu-west-1"},
		{"", "us-west-2", "aws", map[string]string{"AWS_REGION": "ap-south-1"}, "us-west-2"},
		{"", "", "aws", map[string]string{"AWS_REGION": "ap-south-1"}, "ap-south-1"},
		{"", "", "aws", map[string]string{"AWS_DEFAULT_REGION": "ca-central-1"}, "ca-central-1"},
		{"", "", "local", map[string]string{"AWS_REGION": "ap-south-1"}, "us-east-1"},
		{"", "", "aws", nil, "us-east-1"},
	} {
		if got := resolveRegion(tc.flag, tc.repo, tc.mode, env(tc.env)); got != tc.want {
			t.Errorf("resolveRegion(%q, %q, %q, %v) = %q, want %q", tc.flag, tc.repo, tc.mode, tc.env, got, tc.want)
		}
	}
}
