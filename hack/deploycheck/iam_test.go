package deploycheck

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The IAM policy of examples/deploy/ecs lists exactly the ECS, ECR and Application Auto
// Scaling actions the code calls, no more, no less.
//
// A call is found by its input type: every SDK operation, called directly, through a
// paginator or a waiter, or declared in a narrow interface (reconcile.ECS,
// manifests' ECR token client), takes *ecs.OpInput or *ecr.OpInput; each selector
// PKG.OpInput on the imported ecs or ecr package in a non-test file counts as a use of Op.
//
// Not scanned, because their calls never reach AWS:
//   - ecslocal/: the local ECS endpoint itself (it serves the operations, not calls them);
//   - cmd/taskward/demo.go: `--demo` changes ECS behind Git's back and is refused unless --ecs local;
//   - hack/: developer tools and benchmarks that run against an in-process ecslocal;
//   - _test.go files and testdata/.
//
// Single calls that only ever go to ecslocal are listed in localOnly below; a listed
// call that disappears fails the test, so the list cannot go stale.
var (
	sdkPackages = map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/ecs": "ecs",
		"github.com/aws/aws-sdk-go-v2/service/ecr": "ecr",
		// Application Auto Scaling: which services have a scalable target (reconcile/autoscaling.go).
		"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling": "application-autoscaling",
	}
	skipDirs  = []string{"ecslocal", "hack", ".git", "testdata", "charts", "examples", "bin", "dist"}
	skipFiles = []string{"cmd/taskward/demo.go"}
	localOnly = []struct{ file, action, reason string }{
		{"cmd/taskward/ecsflags.go", "ecs:CreateCluster", "with --ecs local only: creates the repo's clusters in the in-process ecslocal"},
		{"cmd/taskward/ecslocal.go", "ecs:CreateCluster", "taskward ecs-local creates its --clusters in the endpoint it serves itself"},
		{"internal/ecstest/ecstest.go", "ecs:CreateCluster", "test helper: creates clusters in the ecslocal it starts for a test"},
	}
	// implicit are actions IAM checks that are not SDK operations of their own. ecs:TagResource
	// is called directly (service tags, reconcile/apply.go) and also authorizes the tags
	// RegisterTaskDefinition carries (tag-on-create).
	implicit = map[string]string{
		"ecr:BatchGetImage":          "image configs are read through the registry API with the ECR token: the manifest",
		"ecr:GetDownloadUrlForLayer": "image configs are read through the registry API with the ECR token: the config blob",
	}
)

// sdkCalls returns action -> files using it, for every non-test Go file under root.
func sdkCalls(t *testing.T) map[string][]string {
	t.Helper()
	calls := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			for _, s := range skipDirs {
				if d.Name() == s || rel == s {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, s := range skipFiles {
			if rel == s {
				return nil
			}
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		local := map[string]string{} // local package name -> IAM service prefix
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if svc, ok := sdkPackages[p]; ok {
				name := p[strings.LastIndexByte(p, '/')+1:] // the package's own name
				if imp.Name != nil {
					name = imp.Name.Name
				}
				local[name] = svc
			}
		}
		if len(local) == 0 {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok || local[x.Name] == "" || !strings.HasSuffix(sel.Sel.Name, "Input") || sel.Sel.Name == "Input" {
				return true
			}
			action := local[x.Name] + ":" + strings.TrimSuffix(sel.Sel.Name, "Input")
			if l := calls[action]; len(l) == 0 || l[len(l)-1] != rel {
				calls[action] = append(calls[action], rel)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// policyActions returns the actions of an IAM policy document, and the statements'
// problems (deny statements, wildcards).
func policyActions(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Sid      string
			Effect   string
			Action   json.RawMessage
			Resource json.RawMessage
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("%s: Version %q, want 2012-10-17", path, doc.Version)
	}
	actions := map[string]bool{}
	for i, st := range doc.Statement {
		if st.Effect != "Allow" || st.Sid == "" || len(st.Resource) == 0 {
			t.Errorf("%s: statement %d (%s): want a Sid, Effect Allow and a Resource", path, i, st.Sid)
		}
		var list []string
		if err := json.Unmarshal(st.Action, &list); err != nil {
			var one string
			if err := json.Unmarshal(st.Action, &one); err != nil {
				t.Fatalf("%s: statement %s: Action: %v", path, st.Sid, err)
			}
			list = []string{one}
		}
		for _, a := range list {
			if strings.Contains(a, "*") {
				t.Errorf("%s: %s: wildcard action %q is not least privilege", path, st.Sid, a)
			}
			if actions[a] {
				t.Errorf("%s: %s listed twice", path, a)
			}
			actions[a] = true
		}
	}
	return actions
}

func TestIAMPolicy(t *testing.T) {
	calls := sdkCalls(t)
	for _, lo := range localOnly {
		files := calls[lo.action]
		i := sort.SearchStrings(files, lo.file)
		if i == len(files) || files[i] != lo.file {
			t.Errorf("%s in %s is listed as local-only (%s) but is no longer called there: remove it from localOnly", lo.action, lo.file, lo.reason)
			continue
		}
		files = append(files[:i:i], files[i+1:]...)
		if len(files) == 0 {
			delete(calls, lo.action)
		} else {
			calls[lo.action] = files
		}
	}
	want := map[string]string{}
	for a, files := range calls {
		want[a] = "called in " + strings.Join(files, ", ")
	}
	for a, why := range implicit {
		if _, dup := want[a]; dup {
			t.Errorf("%s is called directly now: remove it from implicit", a)
		}
		want[a] = why
	}
	if len(calls) < 5 {
		t.Fatalf("found only %v: the scan is broken", calls)
	}
	got := policyActions(t, filepath.Join(root, "examples", "deploy", "ecs", "iam-policy.json"))
	var names []string
	for a := range want {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		t.Logf("%-30s %s", a, want[a])
		if !got[a] {
			t.Errorf("iam-policy.json lacks %s (%s)", a, want[a])
		}
	}
	scanned := func(a string) bool {
		for _, prefix := range sdkPackages {
			if strings.HasPrefix(a, prefix+":") {
				return true
			}
		}
		return false
	}
	for a := range got {
		if scanned(a) && want[a] == "" {
			t.Errorf("iam-policy.json grants %s, which no code uses", a)
		}
	}
	// Outside the scanned services, only passing the task definitions' roles to ECS.
	for a := range got {
		if !scanned(a) && a != "iam:PassRole" {
			t.Errorf("iam-policy.json grants %s: the controller needs no more than ECS, ECR, Application Auto Scaling and iam:PassRole", a)
		}
	}
}
