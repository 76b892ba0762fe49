package manifests

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestServiceFileErrors: a service file is checked against the SDK's CreateService model
// with the same error quality as a task definition: file, line:col, field, the fix.
func TestServiceFileErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`{"serviceName": "web", "taskDefinition": "web",
  "desiredCont": 2}`, `svc.json:2:18: desiredCont: unknown field "desiredCont" (did you mean "desiredCount"?)`},
		{`{"serviceName": "web", "taskDefinition": "web:3"}`, `taskDefinition: "web:3": name the family`},
		{`{"serviceName": "web", "taskDefinition": "web", "desiredCount": "2"}`, `desiredCount: must be a whole number, got string "2": write it without quotes, 2`},
		{`{"taskDefinition": "web"}`, `serviceName: required`},
		{`{"serviceName": "web", "taskDefinition": "web", "desiredCount": -1}`, `desiredCount: must be 0 or more`},
		{`{"serviceName": "web",`, `svc.json:1:23: invalid JSON`},
	} {
		sd, probs := ParseServiceDef("svc.json", []byte(tc.src))
		if sd != nil || !strings.Contains(probs.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %s", tc.src, probs, tc.want)
		}
	}
	sd, probs := ParseServiceDef("svc.json", []byte(`{"serviceName": "web", "taskDefinition": "web", "cluster": "prod", "futureField": null}`))
	if sd != nil || !strings.Contains(probs.Error(), `unknown field "futureField"`) {
		t.Errorf("an unknown field must be refused, even null: %v", probs)
	}
	sd, probs = ParseServiceDef("svc.json", []byte(`{"serviceName": "web", "taskDefinition": "web", "cluster": "prod"}`))
	if sd == nil || sd.Cluster != "prod" || sd.Family != "web" || probs.Err() != nil {
		t.Errorf("valid file: %+v %v", sd, probs)
	}
}

// TestServiceNamesAFamilyInGit: a service runs a task definition of the repo.
func TestServiceNamesAFamilyInGit(t *testing.T) {
	fsys := fstest.MapFS{
		"tasks/web.json":    {Data: []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx","memory":128,"entryPoint":["/x"]}]}`)},
		"services/web.json": {Data: []byte(`{"serviceName":"web","taskDefinition":"api"}`)},
		"services/dup.json": {Data: []byte(`{"serviceName":"web","taskDefinition":"web"}`)},
	}
	repo, probs := Load(fsys)
	if repo != nil || !strings.Contains(probs.Error(), `services/web.json: taskDefinition: family "api" is not in tasks/`) ||
		!strings.Contains(probs.Error(), `service "web" is also defined in services/dup.json`) {
		t.Fatalf("problems: %v", probs)
	}
}

func FuzzParseServiceDef(f *testing.F) {
	f.Add([]byte(`{"serviceName":"web","taskDefinition":"web","desiredCount":2,"networkConfiguration":{"awsvpcConfiguration":{"subnets":["a"]}}}`))
	f.Add([]byte(`{"serviceName":"web","taskDefinition":"web","deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, probs := ParseServiceDef("s.json", b)
		if sd == nil && probs.Err() == nil {
			t.Fatal("refused without an error")
		}
		if sd != nil && (sd.Name == "" || sd.Family == "") {
			t.Fatalf("accepted without a name or family: %+v", sd)
		}
	})
}
