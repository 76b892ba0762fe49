package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/taskward/taskward/controller"
	"github.com/taskward/taskward/manifests"
)

// ecsClient is what the demo calls, with the SDK's signatures.
type ecsClient interface {
	RegisterTaskDefinition(context.Context, *ecs.RegisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	CreateService(context.Context, *ecs.CreateServiceInput, ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error)
	UpdateService(context.Context, *ecs.UpdateServiceInput, ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

// demoDrift plays an operator working around Git in the local ECS: services for two
// managed families; then a service of a family Git does not have, running unprotected;
// then a hand-registered revision of "cache" with the defender stripped, put on its
// service. The scan that follows must report all of it.
func demoDrift(ctx context.Context, env *cmdEnv, client ecsClient, cluster string, c *controller.Controller) error {
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-demo"}}}
	for _, fam := range []string{"web", "cache"} {
		if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(fam),
			TaskDefinition: aws.String(fam), DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
			return fmt.Errorf("create service %s: %w", fam, err)
		}
		fmt.Fprintf(env.stdout, "created service %s (runs the protected %s)\n", fam, fam)
	}
	legacy, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("legacy-api"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("python:3.12-slim"), Command: []string{"python", "-m", "http.server", "8080"}}},
	})
	if err != nil {
		return fmt.Errorf("register legacy-api: %w", err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("legacy-api"),
		TaskDefinition: legacy.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
		return fmt.Errorf("create service legacy-api: %w", err)
	}
	fmt.Fprintln(env.stdout, "registered legacy-api:1 by hand (no defender) and started a service on it")

	// Strip the defender from cache's live definition, as someone "debugging" might.
	cur, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("cache")})
	if err != nil {
		return err
	}
	td := cur.TaskDefinition
	var kept []types.ContainerDefinition
	for _, cd := range td.ContainerDefinitions {
		if aws.ToString(cd.Name) == manifests.InitContainerName {
			continue
		}
		cd.EntryPoint = nil // the command already holds the whole original argv
		cd.DependsOn, cd.MountPoints, cd.Environment = nil, nil, nil
		kept = append(kept, cd)
	}
	stripped, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: td.Family, NetworkMode: td.NetworkMode,
		Cpu: td.Cpu, Memory: td.Memory, RequiresCompatibilities: td.RequiresCompatibilities, ContainerDefinitions: kept})
	if err != nil {
		return fmt.Errorf("register stripped cache: %w", err)
	}
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("cache"),
		TaskDefinition: stripped.TaskDefinition.TaskDefinitionArn}); err != nil {
		return fmt.Errorf("update service cache: %w", err)
	}
	fmt.Fprintf(env.stdout, "registered %s with the defender stripped and put service cache on it\n", aws.ToString(stripped.TaskDefinition.TaskDefinitionArn))
	return nil
}
