package manifests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/taskward/taskward/internal/ojson"
)

const corpusDir = "../../shared/corpus/ecs-task-definitions"

// corpusRefusals are the corpus files that are wrong as written, and the JSON path the
// refusal must name. Each is a real authoring error described in the corpus SOURCES.md.
var corpusRefusals = map[string]string{
	"05-ecspresso-describe-wrapper-proxyconfig.json": "proxyConfiguration.containerName",                 // names container "envoy", not defined
	"11-cdk-export-valuefrom-in-environment.json":    "containerDefinitions[0].environment[0].valueFrom", // secret put under environment
	"17-php-simple-app-volumesfrom.json":             "containerDefinitions[1].volumesFrom[0].sourceContainer",
	"21-ec2-ten-containers-links-empty-images.json":  "containerDefinitions[1].image", // "image": "" placeholders
	"25-nginx-php-docker-volume-bridge.json":         "containerDefinitions[1].links[0]",
}

// corpusWindows are the corpus's Windows tasks without runtimePlatform: they render (the
// task does not say it is Windows) with a warning that names why it looks like one.
var corpusWindows = map[string]bool{
	"07-ecs-agent-windows-gmsa-ssm.json":   true,
	"08-ecs-agent-windows-datavolume.json": true,
	"13-datadog-agent-windows-npipe.json":  true,
}

func readCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("corpus not found at %s", corpusDir)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// corpusConfig declares an override for every image of the corpus that needs one: the
// corpus images cannot be pulled here, and the override path is what air-gapped users run.
func corpusConfig(docs ...*ojson.Value) *Config {
	cfg := DefaultConfig()
	cfg.Images = map[string]ImageOverride{}
	for _, d := range docs {
		eachObj(d.Get("containerDefinitions"), func(_ int, cd *ojson.Value) {
			cfg.Images[cd.Get("image").StringOr("")] = ImageOverride{Entrypoint: []string{"/entrypoint"}, Cmd: []string{"serve"}}
		})
	}
	return cfg
}

func TestCorpus(t *testing.T) {
	for name, src := range readCorpus(t) {
		t.Run(name, func(t *testing.T) {
			td, probs := ParseTaskDef(name, src)
			if wantPath, refused := corpusRefusals[name]; refused {
				if td != nil {
					t.Fatalf("loaded a file that is wrong as written (want a problem at %s)", wantPath)
				}
				for _, p := range probs.Errors() {
					if p.Path == wantPath && p.File == name && p.Line > 0 {
						return
					}
				}
				t.Fatalf("refusal does not name %s with a line:\n%v", wantPath, probs)
			}
			if td == nil {
				t.Fatalf("refused:\n%v", probs)
			}
			checkRenderProperties(t, td)
		})
	}
}

// checkRenderProperties asserts the render contract's properties on one definition:
// render passes the ECS model, is idempotent, unrender restores the input exactly, and no
// input field is lost.
func checkRenderProperties(t *testing.T, td *TaskDef) {
	t.Helper()
	ctx := context.Background()
	r := NewRenderer(corpusConfig(td.Doc), nil)
	if strings.HasPrefix(td.Doc.Get("runtimePlatform").Get("operatingSystemFamily").StringOr(""), "WINDOWS") {
		t.Skip("Windows task: refused by design")
	}
	rd, probs := r.Render(ctx, td)
	warned := strings.Contains(probs.String(), "looks like a Windows container")
	if warned != corpusWindows[td.Path] {
		t.Errorf("Windows warning %v, want %v: %s", warned, corpusWindows[td.Path], probs)
	}
	if rd == nil {
		if len(td.Doc.Get("containerDefinitions").Arr) >= MaxContainers {
			return // refused: no room for the init container (checked in TestRenderLimits)
		}
		t.Fatalf("render: %v", probs)
	}
	var mp Problems
	checkSchema(&collector{file: "rendered", out: &mp}, rd.Doc, registerSchema, "")
	checkTaskDef(&collector{file: "rendered", out: &mp}, rd.Doc)
	if mp.Err() != nil {
		t.Fatalf("rendered definition fails the ECS model: %v", mp)
	}
	// The typed SDK model accepts it too (encoding/json matches the SDK's Go field names
	// case-insensitively, and refuses what has no field).
	var in ecs.RegisterTaskDefinitionInput
	dec := json.NewDecoder(bytes.NewReader(rd.Doc.Marshal()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil && !strings.Contains(err.Error(), "cannot unmarshal") {
		t.Fatalf("typed model: %v", err)
	}
	if !IsProtected(rd.Doc) {
		t.Fatal("rendered definition is not recognised as protected")
	}
	again, probs := r.Render(ctx, &TaskDef{Path: td.Path, Family: td.Family, Doc: rd.Doc})
	if again == nil {
		t.Fatalf("re-render: %v", probs)
	}
	if !ojson.Equal(again.Doc, rd.Doc) {
		t.Fatalf("render is not idempotent:\n%s\n---\n%s", rd.Doc.MarshalIndent(" "), again.Doc.MarshalIndent(" "))
	}
	back, err := Unrender(rd.Doc)
	if err != nil {
		t.Fatalf("unrender: %v", err)
	}
	if !ojson.Equal(back, td.Doc) {
		t.Fatalf("unrender(render(x)) != x:\n%s\n---\n%s", td.Doc.MarshalIndent(" "), back.MarshalIndent(" "))
	}
	for _, p := range leafPaths(td.Doc, "") {
		if !hasPath(rd.Doc, p) {
			t.Errorf("render lost %s", p)
		}
	}
}

// leafPaths lists every object member path of v, skipping the two fields render replaces.
func leafPaths(v *ojson.Value, prefix string) []string {
	var out []string
	switch v.Kind {
	case ojson.Object:
		for _, m := range v.Obj {
			p := join(prefix, m.Key)
			out = append(out, p)
			if m.Key == "entryPoint" || m.Key == "command" {
				continue
			}
			out = append(out, leafPaths(m.Value, p)...)
		}
	case ojson.Array:
		for i, e := range v.Arr {
			out = append(out, leafPaths(e, fmt.Sprintf("%s[%d]", prefix, i))...)
		}
	}
	return out
}

func hasPath(v *ojson.Value, path string) bool {
	cur := v
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			if !cur.Has(key) {
				return false
			}
			cur = cur.Get(key)
		}
		for rest != "" {
			var i int
			idx, r2, _ := strings.Cut(rest, "]")
			fmt.Sscan(idx, &i)
			if cur == nil || cur.Kind != ojson.Array || i >= len(cur.Arr) {
				return false
			}
			cur = cur.Arr[i]
			rest = strings.TrimPrefix(r2, "[")
		}
	}
	return true
}
