package ecslocal

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestRunListDescribeStopTasks(t *testing.T) {
	c := client(start(t))
	_, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("web")})
	var cnf *types.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Errorf("RunTask without a default cluster: %v", err)
	}
	createCluster(t, c, "default")
	in := minimalTD("web")
	in.ContainerDefinitions = append([]types.ContainerDefinition{{
		Name: aws.String("init"), Image: aws.String("busybox"), Memory: aws.Int32(16), Essential: aws.Bool(false),
	}}, in.ContainerDefinitions...)
	in.ContainerDefinitions[1].DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}}
	register(t, c, in)
	register(t, c, minimalTD("batch"))

	run, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Count: aws.Int32(3), StartedBy: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Tasks) != 3 {
		t.Fatalf("started %d tasks", len(run.Tasks))
	}
	tk := run.Tasks[0]
	if aws.ToString(tk.LastStatus) != "RUNNING" || aws.ToString(tk.Group) != "family:web" || aws.ToString(tk.StartedBy) != "ci" {
		t.Errorf("task = status %s group %s startedBy %s", aws.ToString(tk.LastStatus), aws.ToString(tk.Group), aws.ToString(tk.StartedBy))
	}
	if len(tk.Containers) != 2 || aws.ToString(tk.Containers[1].Name) != "app" || aws.ToString(tk.Containers[1].LastStatus) != "RUNNING" {
		t.Errorf("containers = %+v", tk.Containers)
	}
	if init := tk.Containers[0]; aws.ToString(init.LastStatus) != "STOPPED" || aws.ToInt32(init.ExitCode) != 0 {
		t.Errorf("init container = %s exit %v, want STOPPED 0", aws.ToString(init.LastStatus), init.ExitCode)
	}
	if _, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("batch"), Group: aws.String("nightly")}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		in   ecs.ListTasksInput
		want int
	}{
		{ecs.ListTasksInput{}, 4},
		{ecs.ListTasksInput{Family: aws.String("web")}, 3},
		{ecs.ListTasksInput{StartedBy: aws.String("ci")}, 3},
		{ecs.ListTasksInput{Family: aws.String("batch")}, 1},
		{ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped}, 0},
	} {
		out, err := c.ListTasks(ctx(t), &tc.in)
		if err != nil || len(out.TaskArns) != tc.want {
			t.Errorf("ListTasks(%+v) = %v, %v; want %d", tc.in, out, err, tc.want)
		}
	}
	page, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{MaxResults: aws.Int32(3)})
	if err != nil || len(page.TaskArns) != 3 || page.NextToken == nil {
		t.Errorf("first page = %v, %v", page, err)
	}

	// Stop by ID, not ARN.
	id := aws.ToString(tk.TaskArn)[len("arn:aws:ecs:us-east-1:000000000000:task/default/"):]
	stop, err := c.StopTask(ctx(t), &ecs.StopTaskInput{Task: aws.String(id), Reason: aws.String("test")})
	if err != nil || aws.ToString(stop.Task.LastStatus) != "STOPPED" || stop.Task.StopCode != types.TaskStopCodeUserInitiated {
		t.Fatalf("StopTask = %+v, %v", stop, err)
	}
	_, err = c.StopTask(ctx(t), &ecs.StopTaskInput{Task: aws.String("0123")})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("StopTask unknown: %v", err)
	}

	desc, err := c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(tk.TaskArn), "ffff"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Tasks) != 1 || aws.ToString(desc.Tasks[0].LastStatus) != "STOPPED" || aws.ToString(desc.Tasks[0].StoppedReason) != "test" {
		t.Errorf("described = %+v", desc.Tasks)
	}
	if len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" {
		t.Errorf("failures = %+v", desc.Failures)
	}
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf("%032x", i))
	}
	_, err = c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: many})
	if !errors.As(err, &ip) {
		t.Errorf("DescribeTasks 101: %v", err)
	}
	d100, err := c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: many[:100]})
	if err != nil || len(d100.Failures) != 100 {
		t.Errorf("DescribeTasks 100 unknown: %v", err)
	}

	// An INACTIVE revision cannot be run.
	if _, err := c.DeregisterTaskDefinition(ctx(t), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("batch:1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("batch:1")})
	var ce *types.ClientException
	if !errors.As(err, &ce) {
		t.Errorf("RunTask INACTIVE: %v", err)
	}
}
