package ecslocal

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestStatePersistsAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ecs-state.json")
	r1, err := Listen(t.Context(), "127.0.0.1:0", WithStateFile(path), WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	c := client(r1)
	in := minimalTD("web")
	in.Tags = []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	first := register(t, c, in)
	register(t, c, minimalTD("web"))
	createCluster(t, c, "default")
	createService(t, c, "default", "web", "web:1", 2)
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}

	// The file is complete JSON and no temporary files are left behind.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("state file is not JSON: %.200s", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only the state file", len(entries))
	}

	r2 := start(t, WithStateFile(path))
	c2 := client(r2)
	d, err := c2.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:1"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.TaskDefinition.TaskDefinitionArn) != aws.ToString(first.TaskDefinitionArn) || len(d.Tags) != 1 {
		t.Errorf("after restart: %s tags %v", aws.ToString(d.TaskDefinition.TaskDefinitionArn), d.Tags)
	}
	if d.TaskDefinition.ContainerDefinitions[0].Memory == nil || *d.TaskDefinition.ContainerDefinitions[0].Memory != 128 {
		t.Errorf("numbers changed across restart: %+v", d.TaskDefinition.ContainerDefinitions[0])
	}
	if td := register(t, c2, minimalTD("web")); td.Revision != 3 {
		t.Errorf("revision after restart = %d, want 3", td.Revision)
	}
	s, err := c2.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Services: []string{"web"}})
	if err != nil || len(s.Services) != 1 || s.Services[0].RunningCount != 2 {
		t.Errorf("service after restart = %+v, %v", s, err)
	}
	tasks, err := c2.ListTasks(ctx(t), &ecs.ListTasksInput{ServiceName: aws.String("web")})
	if err != nil || len(tasks.TaskArns) != 2 {
		t.Errorf("tasks after restart = %v, %v", tasks, err)
	}
}

func TestCorruptStateFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"taskDefinitions": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(WithStateFile(path)); err == nil {
		t.Error("New accepted a torn state file")
	}
}

// A failed write (the directory is gone) is a ServerException, not a silent loss.
func TestStateWriteFailure(t *testing.T) {
	dir := t.TempDir()
	r := start(t, WithStateFile(filepath.Join(dir, "sub", "state.json")))
	_, err := client(r).CreateCluster(ctx(t), &ecs.CreateClusterInput{})
	var se *types.ServerException
	if !errors.As(err, &se) {
		t.Errorf("err = %v, want ServerException", err)
	}
}
