package ecslocal

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestRegistrationValidation(t *testing.T) {
	c := client(start(t))
	containers := func(n int) []types.ContainerDefinition {
		var out []types.ContainerDefinition
		for i := range n {
			out = append(out, types.ContainerDefinition{Name: aws.String(fmt.Sprintf("c%d", i)), Image: aws.String("busybox"), Memory: aws.Int32(32)})
		}
		return out
	}
	big := strings.Repeat("x", 70<<10)
	for _, tc := range []struct {
		name string
		edit func(in *ecs.RegisterTaskDefinitionInput)
		want string // substring of the ClientException message
	}{
		{"bad family", func(in *ecs.RegisterTaskDefinitionInput) { in.Family = aws.String("web/app") }, "Invalid family"},
		{"long family", func(in *ecs.RegisterTaskDefinitionInput) { in.Family = aws.String(strings.Repeat("a", 256)) }, "Invalid family"},
		{"11 containers", func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions = containers(11) }, "Too many containers"},
		{"no containers", func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions = []types.ContainerDefinition{} }, "Container list cannot be empty."},
		{"over 64 KiB", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].Environment = []types.KeyValuePair{{Name: aws.String("BIG"), Value: aws.String(big)}}
		}, "exceeds the maximum"},
		{"empty image", func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions[0].Image = aws.String("") }, "Container.image should not be null or empty."},
		{"no image", func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions[0].Image = nil }, "Container.image should not be null or empty."},
		{"no name", func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions[0].Name = nil }, "Container.name should not be null or empty."},
		{"duplicate names", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions = append(in.ContainerDefinitions, in.ContainerDefinitions[0])
		}, "Duplicate container name"},
		{"no memory anywhere", func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions[0].Memory = nil }, "At least one of 'memory' or 'memoryReservation' must be specified."},
		{"bad cpu", func(in *ecs.RegisterTaskDefinitionInput) { in.Cpu = aws.String("fast") }, "Invalid 'cpu' setting"},
		{"bad memory", func(in *ecs.RegisterTaskDefinitionInput) { in.Memory = aws.String("1 TB") }, "Invalid 'memory' setting"},
		{"fargate bridge", func(in *ecs.RegisterTaskDefinitionInput) {
			in.RequiresCompatibilities = []types.Compatibility{types.CompatibilityFargate}
			in.Cpu, in.Memory = aws.String("256"), aws.String("512")
		}, "Fargate only supports network mode 'awsvpc'."},
		{"fargate size", func(in *ecs.RegisterTaskDefinitionInput) {
			in.RequiresCompatibilities = []types.Compatibility{types.CompatibilityFargate}
			in.NetworkMode = types.NetworkModeAwsvpc
			in.Cpu, in.Memory = aws.String("256"), aws.String("4096")
		}, "No Fargate configuration exists for given values: 256 CPU, 4096 memory."},
		{"bad enum", func(in *ecs.RegisterTaskDefinitionInput) { in.NetworkMode = "carrier-pigeon" }, "networkMode: invalid value"},
		{"memory below reservation", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].MemoryReservation = aws.Int32(256)
		}, "'memory' must be greater than or equal to 'memoryReservation'"},
		// References ECS checks (see validateReferences for the sources of the messages).
		{"mountPoint naming no volume", func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("data")}}
			in.ContainerDefinitions[0].MountPoints = []types.MountPoint{{SourceVolume: aws.String("dta"), ContainerPath: aws.String("/data")}}
		}, "Unknown volume 'dta'."},
		{"dependsOn naming no container", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].DependsOn = []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}}
		}, "Cannot depend on container + 'init' because it does not exist"},
		{"SUCCESS of an essential container", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions = containers(2)
			in.ContainerDefinitions[0].DependsOn = []types.ContainerDependency{{ContainerName: aws.String("c1"), Condition: types.ContainerConditionSuccess}}
		}, "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"},
		{"reserved tag", func(in *ecs.RegisterTaskDefinitionInput) {
			in.Tags = []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}
		}, "reserved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := minimalTD("valid")
			tc.edit(in)
			_, err := c.RegisterTaskDefinition(ctx(t), in)
			var ce *types.ClientException
			var ip *types.InvalidParameterException
			switch {
			case errors.As(err, &ce):
				if !strings.Contains(aws.ToString(ce.Message), tc.want) {
					t.Errorf("ClientException %q, want it to contain %q", aws.ToString(ce.Message), tc.want)
				}
			case errors.As(err, &ip):
				if !strings.Contains(aws.ToString(ip.Message), tc.want) {
					t.Errorf("InvalidParameterException %q, want it to contain %q", aws.ToString(ip.Message), tc.want)
				}
			default:
				t.Errorf("err = %v, want ClientException containing %q", err, tc.want)
			}
		})
	}
	// Nothing was stored by the rejected calls.
	out, err := c.ListTaskDefinitions(ctx(t), &ecs.ListTaskDefinitionsInput{})
	if err != nil || len(out.TaskDefinitionArns) != 0 {
		t.Errorf("after rejections: %v, %v", out.TaskDefinitionArns, err)
	}
}

// A member of the wrong JSON type is a SerializationException, as from ECS.
func TestWrongJSONTypes(t *testing.T) {
	r := start(t)
	for _, body := range []string{
		`{"family":1,"containerDefinitions":[]}`,
		`{"family":"a","containerDefinitions":{}}`,
		`{"family":"a","containerDefinitions":[{"name":"a","image":"b","memory":"64"}]}`,
		`{"family":"a","containerDefinitions":[{"name":"a","image":"b","memory":64.5}]}`,
		`{"family":"a","containerDefinitions":[{"name":"a","image":"b","memory":99999999999}]}`,
		`{"family":"a","containerDefinitions":[null]}`,
		`[]`,
		`{"family":"a"} trailing`,
		`not json`,
	} {
		resp := rawCall(t, r, "RegisterTaskDefinition", body, true)
		if resp.status != 400 || !strings.Contains(resp.body, `"__type":"SerializationException"`) {
			t.Errorf("%s: %d %s", body, resp.status, resp.body)
		}
	}
}
