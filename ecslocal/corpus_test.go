package ecslocal

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// corpusDir holds 30 real task definitions from public repositories (see its SOURCES.md).
const corpusDir = "/work/shared/corpus/ecs-task-definitions"

// corpusRejected lists the corpus files real ECS rejects, with the message it gives.
// 21 leaves "image" empty for CI to fill in; ECS has required a non-empty image since
// 2021 (aws/aws-cli#5924), so registering it as it is fails.
var corpusRejected = map[string]string{
	"21-ec2-ten-containers-links-empty-images.json": "Container.image should not be null or empty.",
}

// readOnlyMembers are the members DescribeTaskDefinition returns that a registration
// does not take; a console or CLI export carries them and they are dropped first.
var readOnlyMembers = []string{"taskDefinitionArn", "revision", "status", "requiresAttributes",
	"compatibilities", "registeredAt", "registeredBy", "deregisteredAt"}

// plainCorpusFile reads a corpus file as a RegisterTaskDefinition request: a
// "taskDefinition" wrapper is unwrapped (its sibling "tags" kept) and read-only members
// are dropped.
func plainCorpusFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if inner, ok := doc["taskDefinition"].(map[string]any); ok {
		if tags, ok := doc["tags"]; ok {
			inner["tags"] = tags
		}
		doc = inner
	}
	for _, k := range readOnlyMembers {
		delete(doc, k)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func corpusFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no corpus at %s", corpusDir)
	}
	return files
}

// TestCorpusThroughSDK registers every corpus file through the SDK: the SDK's typed
// input is filled from the JSON (encoding/json matches the lowerCamelCase members to
// the Go fields), serialised by the SDK and stored by ecslocal.
func TestCorpusThroughSDK(t *testing.T) {
	c := client(start(t))
	files := corpusFiles(t)
	registered := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			var in ecs.RegisterTaskDefinitionInput
			if err := json.Unmarshal(plainCorpusFile(t, path), &in); err != nil {
				t.Fatalf("decoding into the SDK input: %v", err)
			}
			out, err := c.RegisterTaskDefinition(ctx(t), &in)
			if want, rejected := corpusRejected[name]; rejected {
				var ce *types.ClientException
				if !errors.As(err, &ce) || !strings.Contains(aws.ToString(ce.Message), want) {
					t.Fatalf("err = %v, want ClientException %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("RegisterTaskDefinition: %v", err)
			}
			registered++
			td := out.TaskDefinition
			if td.Revision < 1 || td.Status != types.TaskDefinitionStatusActive || len(td.Compatibilities) == 0 {
				t.Errorf("server fields: revision %d status %s compatibilities %v", td.Revision, td.Status, td.Compatibilities)
			}
			for _, cd := range td.ContainerDefinitions {
				if cd.Essential == nil || cd.PortMappings == nil || cd.Environment == nil {
					t.Errorf("container %s lacks defaults", aws.ToString(cd.Name))
				}
			}
			checkCorpusSpecifics(t, name, td)
		})
	}
	if want := len(files) - len(corpusRejected); registered != want {
		t.Errorf("registered %d of %d files, want %d", registered, len(files), want)
	}
}

func checkCorpusSpecifics(t *testing.T, name string, td *types.TaskDefinition) {
	t.Helper()
	switch name {
	case "15-firelens-newrelic-unit-strings.json":
		if aws.ToString(td.Cpu) != "1024" || aws.ToString(td.Memory) != "2048" {
			t.Errorf("1 vcpu / 2 gb -> %s/%s, want 1024/2048", aws.ToString(td.Cpu), aws.ToString(td.Memory))
		}
	case "27-fractional-unit-strings-ecs-exec.json":
		if aws.ToString(td.Cpu) != "256" || aws.ToString(td.Memory) != "512" {
			t.Errorf(".25 vcpu / .5 gb -> %s/%s, want 256/512", aws.ToString(td.Cpu), aws.ToString(td.Memory))
		}
	case "12-console-export-readonly-fields.json", "26-cli-describe-output-with-tags.json":
		if !equalSlices(td.Compatibilities, []types.Compatibility{types.CompatibilityEc2, types.CompatibilityFargate}) {
			t.Errorf("compatibilities = %v, want [EC2 FARGATE] as ECS described it", td.Compatibilities)
		}
	case "22-ec2-dynamic-hostport-console-export.json":
		if !equalSlices(td.Compatibilities, []types.Compatibility{types.CompatibilityEc2}) {
			t.Errorf("compatibilities = %v, want [EC2] as ECS described it", td.Compatibilities)
		}
		if hp := td.ContainerDefinitions[0].PortMappings[0].HostPort; aws.ToInt32(hp) != 0 {
			t.Errorf("dynamic hostPort 0 changed to %v", hp)
		}
	}
}

// TestCorpusRaw posts the files as they are (after unwrapping), nulls and misplaced
// members included, bypassing the SDK: ecslocal must treat them as ECS does.
func TestCorpusRaw(t *testing.T) {
	r := start(t)
	for _, path := range corpusFiles(t) {
		name := filepath.Base(path)
		resp := rawCall(t, r, "RegisterTaskDefinition", string(plainCorpusFile(t, path)), true)
		want, rejected := corpusRejected[name]
		switch {
		case rejected && (resp.status != http.StatusBadRequest || !strings.Contains(resp.body, want)):
			t.Errorf("%s: %d %s, want rejection %q", name, resp.status, resp.body, want)
		case !rejected && resp.status != http.StatusOK:
			t.Errorf("%s: %d %s", name, resp.status, resp.body)
		}
	}
}
