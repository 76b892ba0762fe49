package manifests

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseTaskDefErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"syntax error has line and column", "{\n  \"family\": \"a\",\n  \"containerDefinitions\": [\n    {\"name\": \"x\" \"image\": \"y\"}\n  ]\n}",
			[]string{"t.json:4:18: invalid JSON"}},
		{"typo gets did-you-mean", `{"family":"a","containerDefinitions":[{"name":"x","image":"y","entrypoint":["a"]}]}`,
			[]string{`containerDefinitions[0].entrypoint: unknown field "entrypoint" (did you mean "entryPoint"?)`}},
		{"task-level typo", `{"family":"a","networkmode":"awsvpc","containerDefinitions":[{"name":"x","image":"y"}]}`,
			[]string{`networkmode: unknown field "networkmode" (did you mean "networkMode"?)`}},
		{"wrong type for task cpu", `{"family":"a","cpu":256,"containerDefinitions":[{"name":"x","image":"y"}]}`,
			[]string{`cpu: must be a string, got number 256: write it in quotes, "256"`}},
		{"wrong type for container cpu", `{"family":"a","containerDefinitions":[{"name":"x","image":"y","cpu":"256"}]}`,
			[]string{`containerDefinitions[0].cpu: must be a whole number, got string "256": write it without quotes, 256`}},
		{"bad enum", `{"family":"a","networkMode":"AWSVPC","containerDefinitions":[{"name":"x","image":"y"}]}`,
			[]string{`networkMode: "AWSVPC" is not one of`, `(did you mean "awsvpc"?)`}},
		{"family pattern", `{"family":"my app","containerDefinitions":[{"name":"x","image":"y"}]}`,
			[]string{`family: "my app" must be 1-255 letters, digits, '-' or '_'`}},
		{"missing family", `{"containerDefinitions":[{"name":"x","image":"y"}]}`, []string{"family: required"}},
		{"duplicate container", `{"family":"a","containerDefinitions":[{"name":"x","image":"y"},{"name":"x","image":"y"}]}`,
			[]string{`containerDefinitions[1].name: duplicate container name "x"`}},
		{"eleven containers", `{"family":"a","containerDefinitions":[` + strings.Repeat(`{"name":"c","image":"y"},`, 10) + `{"name":"c","image":"y"}]}`,
			[]string{"11 containers; ECS allows at most 10"}},
		{"port range", `{"family":"a","containerDefinitions":[{"name":"x","image":"y","portMappings":[{"containerPort":0}]}]}`,
			[]string{"containerDefinitions[0].portMappings[0].containerPort: must be 1-65535, got 0"}},
		{"unknown mount volume", `{"family":"a","containerDefinitions":[{"name":"x","image":"y","mountPoints":[{"sourceVolume":"v","containerPath":"/v"}]}]}`,
			[]string{`sourceVolume: no volume named "v"`}},
		{"over 64 KiB", `{"family":"a","containerDefinitions":[{"name":"x","image":"y","command":["` + strings.Repeat("a", 70000) + `"]}]}`,
			[]string{"ECS allows at most 65536 (64 KiB)"}},
		{"duplicate key", `{"family":"a","family":"b","containerDefinitions":[{"name":"x","image":"y"}]}`,
			[]string{`duplicate key "family"`}},
		{"not an object", `[1]`, []string{"must be a JSON object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			td, probs := ParseTaskDef("t.json", []byte(tc.src))
			if td != nil {
				t.Fatal("accepted")
			}
			msg := probs.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n%s\ndoes not contain %q", msg, w)
				}
			}
			for _, p := range probs {
				if p.File != "t.json" {
					t.Errorf("problem does not name the file: %v", p)
				}
			}
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	fsys := fstest.MapFS{
		"taskward.yaml":     {Data: []byte("region: us-east-1\nclustres: [a]\nskip:\n  - containers: [x]\n")},
		"policies/a.yaml":   {Data: []byte("name: a\ndrift: deny\n")},
		"policies/b.yaml":   {Data: []byte("name: b\nprocesses:\n  alow: [x]\n")},
		"policies/c.yaml":   {Data: []byte("name: c\n---\nname: c\n")},
		"tasks/a.json":      {Data: []byte(`{"family":"a","containerDefinitions":[{"name":"x","image":"y"}]}`)},
		"tasks/sub/a2.json": {Data: []byte(`{"family":"a","containerDefinitions":[{"name":"x","image":"y"}]}`)},
		"tasks/broken.json": {Data: []byte(`{"family": `)},
		"tasks/readme.md":   {Data: []byte("hi")},
		"tasks/typo.json":   {Data: []byte(`{"family":"t","containerDefinitions":[{"name":"x","image":"y","memroy":5}]}`)},
	}
	repo, probs := Load(fsys)
	if repo != nil {
		t.Fatal("a repo with errors must not load")
	}
	msg := probs.Error()
	for _, w := range []string{
		`taskward.yaml:2:1: clustres: unknown key "clustres" (did you mean "clusters"?)`,
		`taskward.yaml:4:5: skip[0].reason: required`,
		`policies/a.yaml:2:8: drift: unknown effect "deny": use block, alert or off (policy "a")`,
		`policies/b.yaml:3:3: processes.alow: unknown key "alow" (did you mean "allow"?)`,
		`policies/c.yaml: policy name "c" is also used in policies/c.yaml`,
		`tasks/sub/a2.json: family: family "a" is also defined in tasks/a.json`,
		`tasks/broken.json:1:12: invalid JSON`,
		`tasks/typo.json:1:72: containerDefinitions[0].memroy: unknown field "memroy" (did you mean "memory"?)`,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in:\n%s", w, msg)
		}
	}
	if !strings.Contains(Problems(probs.Warnings()).String(), "tasks/readme.md") {
		t.Errorf("non-JSON file under tasks/ should be warned about")
	}
}

func TestLoadExampleRepo(t *testing.T) {
	repo, probs := LoadDir("../examples/gitops")
	if repo == nil {
		t.Fatal(probs)
	}
	if len(repo.Tasks) != 3 || len(repo.Policies) != 2 {
		t.Fatalf("tasks %d policies %d", len(repo.Tasks), len(repo.Policies))
	}
}

// TestApplicationTaskwardVariablesAreTheApplications: only the defender's own variables
// are reserved; a protected application (the controller itself) may take other TASKWARD_*
// secrets, and unrender keeps them.
func TestApplicationTaskwardVariablesAreTheApplications(t *testing.T) {
	src := `{"family":"c","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512","executionRoleArn":"arn:aws:iam::1:role/x","containerDefinitions":[{"name":"c","image":"x","entryPoint":["/taskward"],"environment":[{"name":"TASKWARD_LOG_LEVEL","value":"info"}],"secrets":[{"name":"TASKWARD_CONTROLLER_EVENTS_TOKEN","valueFrom":"arn:aws:secretsmanager:us-east-1:123456789012:secret:t"}]}]}`
	td, probs := ParseTaskDef("c.json", []byte(src))
	if td == nil {
		t.Fatal(probs)
	}
	rd, probs := NewRenderer(DefaultConfig(), nil).Render(t.Context(), td)
	if rd == nil {
		t.Fatal(probs)
	}
	back, err := Unrender(rd.Doc)
	if err != nil || string(back.Marshal()) != string(td.Doc.Marshal()) {
		t.Fatalf("unrender lost the application's TASKWARD_* variables: %v\n%s", err, back.Marshal())
	}
}
