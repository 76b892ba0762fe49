package ecslocal

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func createCluster(t *testing.T, c *ecs.Client, name string) *types.Cluster {
	t.Helper()
	out, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateCluster %s: %v", name, err)
	}
	return out.Cluster
}

func createService(t *testing.T, c *ecs.Client, cluster, name, td string, desired int32) *types.Service {
	t.Helper()
	out, err := c.CreateService(ctx(t), &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String(td), DesiredCount: aws.Int32(desired),
	})
	if err != nil {
		t.Fatalf("CreateService %s: %v", name, err)
	}
	return out.Service
}

func TestServiceLifecycle(t *testing.T) {
	c := client(start(t))
	createCluster(t, c, "prod")
	v1 := register(t, c, minimalTD("web"))
	svc := createService(t, c, "prod", "web", "web", 2)
	if got, want := aws.ToString(svc.ServiceArn), "arn:aws:ecs:us-east-1:000000000000:service/prod/web"; got != want {
		t.Errorf("serviceArn = %s, want %s", got, want)
	}
	if aws.ToString(svc.TaskDefinition) != aws.ToString(v1.TaskDefinitionArn) || svc.DesiredCount != 2 || svc.RunningCount != 2 {
		t.Errorf("service = td %s desired %d running %d", aws.ToString(svc.TaskDefinition), svc.DesiredCount, svc.RunningCount)
	}
	if len(svc.Deployments) != 1 || aws.ToString(svc.Deployments[0].Status) != "PRIMARY" {
		t.Errorf("deployments = %+v", svc.Deployments)
	}
	firstDeployment := aws.ToString(svc.Deployments[0].Id)

	// Creating it again is not idempotent.
	_, err := c.CreateService(ctx(t), &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web")})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("duplicate CreateService: %v", err)
	}

	tasks, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("web")})
	if err != nil || len(tasks.TaskArns) != 2 {
		t.Fatalf("ListTasks by service = %v, %v", tasks, err)
	}

	// A new task definition makes a new deployment whose tasks replace the old ones.
	v2 := register(t, c, minimalTD("web"))
	up, err := c.UpdateService(ctx(t), &ecs.UpdateServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("web"),
		TaskDefinition: aws.String("web:2"), DesiredCount: aws.Int32(3),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := up.Service
	if aws.ToString(s.TaskDefinition) != aws.ToString(v2.TaskDefinitionArn) || s.DesiredCount != 3 || s.RunningCount != 3 {
		t.Errorf("updated service = td %s desired %d running %d", aws.ToString(s.TaskDefinition), s.DesiredCount, s.RunningCount)
	}
	if len(s.Deployments) != 1 || aws.ToString(s.Deployments[0].Id) == firstDeployment ||
		aws.ToString(s.Deployments[0].TaskDefinition) != aws.ToString(v2.TaskDefinitionArn) {
		t.Errorf("deployments after update = %+v", s.Deployments)
	}
	tasks, err = c.ListTasks(ctx(t), &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: tasks.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Tasks) != 3 {
		t.Fatalf("running tasks = %d, want 3", len(desc.Tasks))
	}
	for _, tk := range desc.Tasks {
		if aws.ToString(tk.TaskDefinitionArn) != aws.ToString(v2.TaskDefinitionArn) || aws.ToString(tk.Group) != "service:web" {
			t.Errorf("task %s: td %s group %s", aws.ToString(tk.TaskArn), aws.ToString(tk.TaskDefinitionArn), aws.ToString(tk.Group))
		}
	}
	stopped, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil || len(stopped.TaskArns) != 2 {
		t.Errorf("stopped tasks = %v, %v", stopped, err)
	}

	// Deleting needs desiredCount 0 or force.
	_, err = c.DeleteService(ctx(t), &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web")})
	if !errors.As(err, &ip) {
		t.Errorf("delete scaled service: %v", err)
	}
	del, err := c.DeleteService(ctx(t), &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), Force: aws.Bool(true)})
	if err != nil || aws.ToString(del.Service.Status) != "DRAINING" {
		t.Fatalf("forced delete = %v, %v", del, err)
	}
	_, err = c.UpdateService(ctx(t), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), DesiredCount: aws.Int32(1)})
	var sna *types.ServiceNotActiveException
	if !errors.As(err, &sna) {
		t.Errorf("update deleted service: %v", err)
	}
	list, err := c.ListServices(ctx(t), &ecs.ListServicesInput{Cluster: aws.String("prod")})
	if err != nil || len(list.ServiceArns) != 0 {
		t.Errorf("ListServices after delete = %v, %v", list, err)
	}
	d, err := c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || len(d.Services) != 1 || aws.ToString(d.Services[0].Status) != "INACTIVE" {
		t.Errorf("describe deleted service = %+v, %v", d, err)
	}
}

func TestDescribeServicesLimitsAndMissing(t *testing.T) {
	c := client(start(t))
	createCluster(t, c, "default")
	register(t, c, minimalTD("web"))
	createService(t, c, "default", "a", "web", 0)
	createService(t, c, "default", "b", "web", 0)

	out, err := c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Services: []string{"a", "ghost", "arn:aws:ecs:us-east-1:000000000000:service/default/b"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 2 || len(out.Failures) != 1 {
		t.Fatalf("services %d failures %+v", len(out.Services), out.Failures)
	}
	if f := out.Failures[0]; aws.ToString(f.Reason) != "MISSING" || aws.ToString(f.Arn) != "arn:aws:ecs:us-east-1:000000000000:service/default/ghost" {
		t.Errorf("failure = %s %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
	}

	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprintf("s%d", i))
	}
	_, err = c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Services: eleven})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("11 services: %v, want InvalidParameterException", err)
	}
	if _, err := c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Services: eleven[:10]}); err != nil {
		t.Errorf("10 services: %v", err)
	}
}

func TestListServicesDefaultPageSize(t *testing.T) {
	c := client(start(t))
	createCluster(t, c, "default")
	register(t, c, minimalTD("web"))
	for i := range 23 {
		createService(t, c, "default", fmt.Sprintf("svc-%02d", i), "web", 0)
	}
	out, err := c.ListServices(ctx(t), &ecs.ListServicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ServiceArns) != 10 || out.NextToken == nil {
		t.Fatalf("first page: %d arns, token %v; want 10 and a token", len(out.ServiceArns), out.NextToken)
	}
	p := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{})
	var all []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.ServiceArns...)
	}
	if len(all) != 23 {
		t.Errorf("paginated %d services, want 23", len(all))
	}
	out, err = c.ListServices(ctx(t), &ecs.ListServicesInput{MaxResults: aws.Int32(100)})
	if err != nil || len(out.ServiceArns) != 23 || out.NextToken != nil {
		t.Errorf("maxResults 100: %d, %v", len(out.ServiceArns), err)
	}
}

func TestAwsvpcServiceNeedsNetworkConfiguration(t *testing.T) {
	c := client(start(t))
	createCluster(t, c, "default")
	in := minimalTD("vpc")
	in.NetworkMode = types.NetworkModeAwsvpc
	in.RequiresCompatibilities = []types.Compatibility{types.CompatibilityFargate}
	in.Cpu, in.Memory = aws.String("256"), aws.String("512")
	register(t, c, in)
	_, err := c.CreateService(ctx(t), &ecs.CreateServiceInput{ServiceName: aws.String("vpc"), TaskDefinition: aws.String("vpc"), LaunchType: types.LaunchTypeFargate})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Fatalf("without networkConfiguration: %v", err)
	}
	_, err = c.CreateService(ctx(t), &ecs.CreateServiceInput{
		ServiceName: aws.String("vpc"), TaskDefinition: aws.String("vpc"), LaunchType: types.LaunchTypeFargate,
		DesiredCount: aws.Int32(1),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{"subnet-1"}, AssignPublicIp: types.AssignPublicIpEnabled,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Services: []string{"vpc"}})
	if err != nil {
		t.Fatal(err)
	}
	nc := d.Services[0].NetworkConfiguration
	if nc == nil || nc.AwsvpcConfiguration == nil || nc.AwsvpcConfiguration.Subnets[0] != "subnet-1" {
		t.Errorf("networkConfiguration not kept: %+v", nc)
	}
}

func TestClusters(t *testing.T) {
	c := client(start(t))
	cl := createCluster(t, c, "prod")
	if aws.ToString(cl.ClusterArn) != "arn:aws:ecs:us-east-1:000000000000:cluster/prod" || aws.ToString(cl.Status) != "ACTIVE" {
		t.Errorf("cluster = %+v", cl)
	}
	again := createCluster(t, c, "prod") // CreateCluster is idempotent
	if aws.ToString(again.ClusterArn) != aws.ToString(cl.ClusterArn) {
		t.Errorf("second create = %+v", again)
	}
	register(t, c, minimalTD("web"))
	createService(t, c, "prod", "web", "web", 1)
	d, err := c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{Clusters: []string{"prod", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 1 || d.Clusters[0].ActiveServicesCount != 1 || d.Clusters[0].RunningTasksCount != 1 {
		t.Errorf("described = %+v", d.Clusters)
	}
	if len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Errorf("failures = %+v", d.Failures)
	}
	_, err = c.DeleteCluster(ctx(t), &ecs.DeleteClusterInput{Cluster: aws.String("prod")})
	var has *types.ClusterContainsServicesException
	if !errors.As(err, &has) {
		t.Errorf("delete cluster with services: %v", err)
	}
	up, err := c.UpdateCluster(ctx(t), &ecs.UpdateClusterInput{Cluster: aws.String("prod"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
	if err != nil || aws.ToString(up.Cluster.Settings[0].Value) != "enabled" {
		t.Errorf("UpdateCluster = %+v, %v", up, err)
	}
	if _, err := c.DeleteService(ctx(t), &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteCluster(ctx(t), &ecs.DeleteClusterInput{Cluster: aws.String("prod")})
	if err != nil || aws.ToString(del.Cluster.Status) != "INACTIVE" {
		t.Errorf("DeleteCluster = %+v, %v", del, err)
	}
	list, err := c.ListClusters(ctx(t), &ecs.ListClustersInput{})
	if err != nil || len(list.ClusterArns) != 0 {
		t.Errorf("ListClusters = %v, %v", list, err)
	}
}

// The fuzzer found that a huge desiredCount made one call start billions of tasks;
// desiredCount is bounded by the ECS tasks-per-service quota.
func TestDesiredCountBounded(t *testing.T) {
	c := client(start(t))
	createCluster(t, c, "default")
	register(t, c, minimalTD("web"))
	for _, n := range []int32{-1, maxDesiredCount + 1, 1<<31 - 1} {
		_, err := c.CreateService(ctx(t), &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(n)})
		var ip *types.InvalidParameterException
		if !errors.As(err, &ip) {
			t.Errorf("desiredCount %d: %v", n, err)
		}
	}
}
