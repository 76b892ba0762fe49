package deploycheck

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	twmanifests "github.com/taskward/taskward/manifests"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/taskward/taskward/ecslocal"
	"github.com/taskward/taskward/internal/awsecs"
)

var update = flag.Bool("update", false, "rewrite examples/deploy/ecs/task-definition.protected.json")

var ecsDir = filepath.Join(root, "examples", "deploy", "ecs")

// protectArgs is how README.md and examples/deploy/ecs/README.md render the controller's
// own task definition.
var protectArgs = []string{"protect", "task-definition.json", "--config", "taskward.yaml", "--policy", "policy.yaml", "--offline"}

func runTaskward(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(taskward(t), args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("taskward %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("taskward %s: warnings:\n%s", strings.Join(args, " "), stderr.String())
	}
	return out
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestECSExampleProtected: the committed protected task definition is what taskward
// protect renders today, unprotect gives the plain one back, and the controller runs
// through the defender with flags it has.
func TestECSExampleProtected(t *testing.T) {
	got := runTaskward(t, ecsDir, protectArgs...)
	golden := filepath.Join(ecsDir, "task-definition.protected.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./hack/deploycheck -run ECSExampleProtected -update", golden)
	}
	plain, _ := os.ReadFile(filepath.Join(ecsDir, "task-definition.json"))
	if back := runTaskward(t, ecsDir, "unprotect", "task-definition.protected.json"); !jsonEqual(t, back, plain) {
		t.Errorf("unprotect does not give task-definition.json back:\n%s", back)
	}

	var td ecs.RegisterTaskDefinitionInput
	decodeStrict(t, golden, &td)
	byName := map[string]int{}
	for i, c := range td.ContainerDefinitions {
		byName[aws.ToString(c.Name)] = i
	}
	ctr := td.ContainerDefinitions[byName["controller"]]
	init := td.ContainerDefinitions[byName["taskward-defender"]]
	if !reflect.DeepEqual(ctr.EntryPoint, []string{"/taskward/defender", "run", "--"}) || len(ctr.Command) < 2 ||
		ctr.Command[0] != "/taskward" || ctr.Command[1] != "controller" {
		t.Errorf("controller runs %q %q: want the defender running /taskward controller", ctr.EntryPoint, ctr.Command)
	}
	flags := controllerFlags(t)
	for _, a := range ctr.Command[2:] {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !flags[name] {
			t.Errorf("controller arg %q: taskward controller has no such flag", a)
		}
	}
	if aws.ToString(ctr.User) != "65532:65532" || !aws.ToBool(ctr.ReadonlyRootFilesystem) {
		t.Errorf("controller user %q, read-only root %v", aws.ToString(ctr.User), aws.ToBool(ctr.ReadonlyRootFilesystem))
	}
	// Every secret the controller reads from its environment is delivered, and none uses a
	// name the defender reserves (it would be refused, or stripped before the controller runs).
	have := map[string]bool{}
	for _, s := range ctr.Secrets {
		have[aws.ToString(s.Name)] = true
		if slices.Contains(twmanifests.ReservedEnv, aws.ToString(s.Name)) {
			t.Errorf("secret %s: the name is the defender's own", aws.ToString(s.Name))
		}
	}
	for _, want := range []string{"GIT_TOKEN", "TASKWARD_CONTROLLER_EVENTS_TOKEN", "TASKWARD_GITHUB_WEBHOOK_SECRET", "TASKWARD_GITHUB_TOKEN", "TASKWARD_SLACK_WEBHOOK_URL"} {
		if !have[want] {
			t.Errorf("secret %s is not delivered to the controller", want)
		}
	}
	if !regexp.MustCompile(`/taskward/defender@sha256:[0-9a-f]{64}$`).MatchString(aws.ToString(init.Image)) || aws.ToBool(init.Essential) ||
		!reflect.DeepEqual(init.Command, []string{"install", "/taskward"}) {
		t.Errorf("init container: image %s essential %v command %q", aws.ToString(init.Image), aws.ToBool(init.Essential), init.Command)
	}
	if td.RequiresCompatibilities[0] != "FARGATE" || td.NetworkMode != "awsvpc" {
		t.Errorf("not a Fargate task definition: %v %v", td.RequiresCompatibilities, td.NetworkMode)
	}
}

// decodeStrict decodes a JSON file into an SDK input type; a field the SDK does not have
// is an error (case-insensitive, as encoding/json matches names).
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestECSExampleDeploys registers the protected task definition and creates the service
// in ecslocal (the ECS API's validation of both), through the real SDK client.
func TestECSExampleDeploys(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := ecslocal.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// Three attempts, as a client would make: a CI run once saw the response body of the
	// first call fail with "use of closed network connection" on the client side, which
	// 300 runs alone did not reproduce. ECS validation errors are not retried either way.
	client, err := awsecs.New(ctx, awsecs.Config{Mode: awsecs.ModeLocal, Endpoint: srv.URL, Region: "us-east-1", MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	var td ecs.RegisterTaskDefinitionInput
	decodeStrict(t, filepath.Join(ecsDir, "task-definition.protected.json"), &td)
	reg, err := client.RegisterTaskDefinition(ctx, &td)
	if err != nil {
		t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	var svc ecs.CreateServiceInput
	decodeStrict(t, filepath.Join(ecsDir, "service.json"), &svc)
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: svc.Cluster}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateService(ctx, &svc); err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: svc.Cluster, Services: []string{aws.ToString(svc.ServiceName)}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("DescribeServices: %v %+v", err, out)
	}
	s := out.Services[0]
	if aws.ToString(s.TaskDefinition) != aws.ToString(reg.TaskDefinition.TaskDefinitionArn) {
		t.Errorf("service runs %s, registered %s", aws.ToString(s.TaskDefinition), aws.ToString(reg.TaskDefinition.TaskDefinitionArn))
	}
	// One controller at a time: never two during a deployment.
	dc := svc.DeploymentConfiguration
	if s.DesiredCount != 1 || aws.ToInt32(dc.MaximumPercent) != 100 || aws.ToInt32(dc.MinimumHealthyPercent) != 0 {
		t.Errorf("desired %d, deployment %d%%..%d%%: want one task, replaced stop-first", s.DesiredCount, aws.ToInt32(dc.MinimumHealthyPercent), aws.ToInt32(dc.MaximumPercent))
	}
}
