package ecslocal

import (
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func tagString(tags []types.Tag) string {
	var s []string
	for _, t := range tags {
		s = append(s, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	sort.Strings(s)
	return fmt.Sprint(s)
}

func TestTagsRoundTrip(t *testing.T) {
	c := client(start(t))
	in := minimalTD("web")
	in.Tags = []types.Tag{{Key: aws.String("managed-by"), Value: aws.String("taskward")}, {Key: aws.String("hash"), Value: aws.String("abc")}}
	reg, err := c.RegisterTaskDefinition(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(reg.TaskDefinition.TaskDefinitionArn)
	if got := tagString(reg.Tags); got != "[hash=abc managed-by=taskward]" {
		t.Errorf("register tags = %s", got)
	}
	d, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil || tagString(d.Tags) != "[hash=abc managed-by=taskward]" {
		t.Errorf("describe include TAGS = %v, %v", d.Tags, err)
	}
	if _, err := c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{
		{Key: aws.String("hash"), Value: aws.String("def")}, {Key: aws.String("env"), Value: aws.String("prod")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx(t), &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"managed-by"}}); err != nil {
		t.Fatal(err)
	}
	l, err := c.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || tagString(l.Tags) != "[env=prod hash=def]" {
		t.Errorf("after tag/untag = %v, %v", l.Tags, err)
	}

	// Clusters, services and tasks take tags too.
	cl, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("default"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := c.CreateService(ctx(t), &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1),
		Tags: []types.Tag{{Key: aws.String("svc"), Value: aws.String("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Tags: []types.Tag{{Key: aws.String("run"), Value: aws.String("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	for arn, want := range map[string]string{
		aws.ToString(cl.Cluster.ClusterArn):  "[team=a]",
		aws.ToString(svc.Service.ServiceArn): "[svc=1]",
		aws.ToString(run.Tasks[0].TaskArn):   "[run=x]",
	} {
		l, err := c.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil || tagString(l.Tags) != want {
			t.Errorf("tags of %s = %v, %v; want %s", arn, l.Tags, err, want)
		}
	}
	ds, err := c.DescribeServices(ctx(t), &ecs.DescribeServicesInput{Services: []string{"web"}, Include: []types.ServiceField{types.ServiceFieldTags}})
	if err != nil || tagString(ds.Services[0].Tags) != "[svc=1]" {
		t.Errorf("DescribeServices include TAGS = %v, %v", ds, err)
	}
	dt, err := c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: []string{aws.ToString(run.Tasks[0].TaskArn)}, Include: []types.TaskField{types.TaskFieldTags}})
	if err != nil || tagString(dt.Tasks[0].Tags) != "[run=x]" {
		t.Errorf("DescribeTasks include TAGS = %v, %v", dt, err)
	}

	_, err = c.ListTagsForResource(ctx(t), &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task-definition/nope:1")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("tags of unknown resource: %v", err)
	}
	_, err = c.TagResource(ctx(t), &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("aws: tag: %v", err)
	}
}
