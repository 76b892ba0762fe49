package ecslocal

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestRegistrationDefaults checks through the SDK what ECS adds on registration.
func TestRegistrationDefaults(t *testing.T) {
	c := client(start(t))
	for _, tc := range []struct {
		name        string
		in          *ecs.RegisterTaskDefinitionInput
		wantCPU     string
		wantMemory  string
		wantCompat  []types.Compatibility
		wantHostPrt *int32
	}{
		{
			name: "fargate unit strings",
			in: &ecs.RegisterTaskDefinitionInput{
				Family: aws.String("fargate"), NetworkMode: types.NetworkModeAwsvpc,
				Cpu: aws.String("0.25 vCPU"), Memory: aws.String(".5 gb"),
				RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
				TaskRoleArn:             aws.String("arn:aws:iam::000000000000:role/task"),
				ContainerDefinitions: []types.ContainerDefinition{{
					Name: aws.String("app"), Image: aws.String("nginx"),
					PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
					HealthCheck:  &types.HealthCheck{Command: []string{"CMD", "true"}},
				}},
			},
			wantCPU: "256", wantMemory: "512",
			wantCompat:  []types.Compatibility{types.CompatibilityEc2, types.CompatibilityFargate},
			wantHostPrt: aws.Int32(8080),
		},
		{
			name: "ec2 bridge",
			in: &ecs.RegisterTaskDefinitionInput{
				Family: aws.String("bridge"), Cpu: aws.String("1 vCPU"), Memory: aws.String("2 GB"),
				ContainerDefinitions: []types.ContainerDefinition{{
					Name: aws.String("app"), Image: aws.String("nginx"),
					PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
				}},
			},
			wantCPU: "1024", wantMemory: "2048",
			wantCompat: []types.Compatibility{types.CompatibilityEc2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			td := register(t, c, tc.in)
			if aws.ToString(td.Cpu) != tc.wantCPU || aws.ToString(td.Memory) != tc.wantMemory {
				t.Errorf("cpu/memory = %s/%s, want %s/%s", aws.ToString(td.Cpu), aws.ToString(td.Memory), tc.wantCPU, tc.wantMemory)
			}
			if !equalSlices(td.Compatibilities, tc.wantCompat) {
				t.Errorf("compatibilities = %v, want %v", td.Compatibilities, tc.wantCompat)
			}
			if td.Volumes == nil || td.PlacementConstraints == nil {
				t.Errorf("volumes/placementConstraints not empty lists: %v %v", td.Volumes, td.PlacementConstraints)
			}
			cd := td.ContainerDefinitions[0]
			if cd.Essential == nil || !*cd.Essential {
				t.Errorf("essential = %v, want true", cd.Essential)
			}
			if cd.Cpu != 0 {
				t.Errorf("cpu = %d", cd.Cpu)
			}
			if cd.Environment == nil || cd.MountPoints == nil || cd.VolumesFrom == nil {
				t.Errorf("empty lists missing: env %v mounts %v volumesFrom %v", cd.Environment, cd.MountPoints, cd.VolumesFrom)
			}
			pm := cd.PortMappings[0]
			if pm.Protocol != types.TransportProtocolTcp {
				t.Errorf("protocol = %q", pm.Protocol)
			}
			if (pm.HostPort == nil) != (tc.wantHostPrt == nil) || (pm.HostPort != nil && *pm.HostPort != *tc.wantHostPrt) {
				t.Errorf("hostPort = %v, want %v", pm.HostPort, tc.wantHostPrt)
			}
			if hc := cd.HealthCheck; hc != nil {
				if aws.ToInt32(hc.Interval) != 30 || aws.ToInt32(hc.Timeout) != 5 || aws.ToInt32(hc.Retries) != 3 {
					t.Errorf("healthCheck defaults = %d/%d/%d", aws.ToInt32(hc.Interval), aws.ToInt32(hc.Timeout), aws.ToInt32(hc.Retries))
				}
				if !hasAttribute(td, "ecs.capability.container-health-check") {
					t.Errorf("requiresAttributes lacks container-health-check: %v", td.RequiresAttributes)
				}
			}
			if td.TaskRoleArn != nil && !hasAttribute(td, "com.amazonaws.ecs.capability.task-iam-role") {
				t.Errorf("requiresAttributes lacks task-iam-role: %v", td.RequiresAttributes)
			}
		})
	}
}

// TestEmptyListsOnTheWire checks the raw JSON: ECS returns empty lists, not absent
// members, and never the unknown members a client sent.
func TestEmptyListsOnTheWire(t *testing.T) {
	r := start(t)
	body := `{"family":"raw","someNewField":{"x":1},"containerDefinitions":[{"name":"a","image":"b","memory":64,
		"futureFlag":true,"linuxParameters":{"initProcessEnabled":true,"unknownNested":1},"healthCheck":null}]}`
	resp := rawCall(t, r, "RegisterTaskDefinition", body, true)
	if resp.status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var out struct {
		TaskDefinition map[string]any `json:"taskDefinition"`
	}
	if err := json.Unmarshal([]byte(resp.body), &out); err != nil {
		t.Fatal(err)
	}
	td := out.TaskDefinition
	if _, ok := td["someNewField"]; ok {
		t.Error("unknown top-level member stored")
	}
	cd := td["containerDefinitions"].([]any)[0].(map[string]any)
	for _, k := range []string{"environment", "mountPoints", "volumesFrom", "portMappings"} {
		if l, ok := cd[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %#v, want []", k, cd[k])
		}
	}
	for _, k := range []string{"futureFlag", "healthCheck"} {
		if _, ok := cd[k]; ok {
			t.Errorf("%s stored", k)
		}
	}
	lp := cd["linuxParameters"].(map[string]any)
	if _, ok := lp["unknownNested"]; ok || lp["initProcessEnabled"] != true {
		t.Errorf("linuxParameters = %v", lp)
	}
}

type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawCall posts body to op without the SDK, signed (a syntactically valid SigV4
// Authorization header) or not.
func rawCall(t *testing.T, r *Running, op, body string, signed bool) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("Content-Type", contentType)
	if signed {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250102/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=00")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, resp.Header, string(b)}
}

func hasAttribute(td *types.TaskDefinition, name string) bool {
	for _, a := range td.RequiresAttributes {
		if aws.ToString(a.Name) == name {
			return true
		}
	}
	return false
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
