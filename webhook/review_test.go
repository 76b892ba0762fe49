package webhook

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/taskward/taskward/internal/ojson"
	"github.com/taskward/taskward/reconcile"
)

var update = flag.Bool("update", false, "rewrite golden files")

// exampleRepo returns examples/gitops as a MapFS, with edits applied: path -> new content
// ("" deletes), or a func that rewrites the old content.
func exampleRepo(t *testing.T, edits map[string]func(string) string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	root := filepath.Join("..", "examples", "gitops")
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(root, p))
		m[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, f := range edits {
		old := ""
		if m[p] != nil {
			old = string(m[p].Data)
		}
		m[p] = &fstest.MapFile{Data: []byte(f(old)), Mode: 0o644}
	}
	return m
}

// badWeb makes the web task privileged and puts a plain-text password in its environment.
func badWeb(old string) string {
	old = strings.Replace(old, `"essential": true,`, `"essential": true,
      "privileged": true,`, 1)
	return strings.Replace(old, `{ "name": "NGINX_PORT", "value": "80" }`,
		`{ "name": "NGINX_PORT", "value": "80" }, { "name": "DB_PASSWORD", "value": "hunter2-correct-horse" }, { "name": "UPSTREAM", "value": "https://deploy:s3cr3tpw@backend.internal/api" }`, 1)
}

const badSecret = "hunter2-correct-horse"

func findings(r *Report, c Check, sev Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Check == c && f.Severity == sev {
			out = append(out, f)
		}
	}
	return out
}

func TestReviewExampleRepoPasses(t *testing.T) {
	in := Prepare(context.Background(), exampleRepo(t, nil))
	rep := Review(context.Background(), in)
	if rep.Failed() {
		t.Fatalf("example repo fails:\n%s", rep.Markdown())
	}
	if rep.Tasks != 3 || rep.Containers != 4 || rep.Protected != 3 {
		t.Errorf("tasks %d containers %d protected %d", rep.Tasks, rep.Containers, rep.Protected)
	}
	unprot := findings(rep, CheckProtection, Warning)
	if len(unprot) != 1 || unprot[0].Container != "log_router" || !strings.Contains(unprot[0].Message, "FireLens log router") {
		t.Errorf("unprotected: %+v", unprot)
	}
	if n := len(findings(rep, CheckReadOnly, Warning)); n != 3 {
		t.Errorf("%d read-only warnings, want 3 (all but redis)", n)
	}
	if !strings.HasPrefix(rep.Summary(), "passed: 3/4 containers protected") {
		t.Errorf("summary %q", rep.Summary())
	}
}

func TestReviewBadChange(t *testing.T) {
	in := Prepare(context.Background(), exampleRepo(t, map[string]func(string) string{"tasks/web.json": badWeb}))
	in.Head, in.Base = "4f1e2d3", "main"
	rep := Review(context.Background(), in)
	if !rep.Failed() {
		t.Fatal("a privileged container with a plain-text secret passed")
	}
	priv := findings(rep, CheckPrivileges, Failure)
	if len(priv) != 1 || priv[0].Path != "containerDefinitions[0].privileged" {
		t.Errorf("privileged: %+v", priv)
	}
	sec := findings(rep, CheckSecrets, Failure)
	if len(sec) != 2 || !strings.Contains(sec[0].Message+sec[1].Message, "DB_PASSWORD") || !strings.Contains(sec[0].Message+sec[1].Message, "UPSTREAM") {
		t.Errorf("secrets: %+v", sec)
	}
	md := rep.Markdown()
	for _, leak := range []string{badSecret, "s3cr3tpw"} {
		if strings.Contains(md, leak) || strings.Contains(rep.Summary(), leak) {
			t.Errorf("report leaks %q", leak)
		}
	}
	if !strings.HasPrefix(md, CommentMarker+"\n") {
		t.Error("no marker")
	}
	if s := rep.Summary(); s != "2 failed (1 privileges, 2 secrets), 4 warnings" && !strings.HasPrefix(s, "3 failed (1 privileges, 2 secrets)") {
		t.Errorf("summary %q", s)
	}
	golden(t, "testdata/review/example-bad.md", md)
}

func TestReviewPolicyThatDoesNotParseStillChecksTasks(t *testing.T) {
	in := Prepare(context.Background(), exampleRepo(t, map[string]func(string) string{
		"policies/broken.yaml": func(string) string { return "name: broken\nprocesses:\n  effect: maybe\n" },
		"tasks/web.json":       badWeb,
	}))
	rep := Review(context.Background(), in)
	if len(findings(rep, CheckPolicies, Failure)) == 0 {
		t.Fatalf("no policy failure:\n%s", rep.Markdown())
	}
	if len(findings(rep, CheckPrivileges, Failure)) != 1 || len(findings(rep, CheckSecrets, Failure)) != 2 {
		t.Errorf("tasks not checked when the repo does not load:\n%s", rep.Markdown())
	}
	if rep.Plans != nil || !strings.Contains(rep.PlanNote, "does not load") {
		t.Errorf("plans %v note %q", rep.Plans, rep.PlanNote)
	}
}

func TestReviewUntrustedImage(t *testing.T) {
	in := Prepare(context.Background(), exampleRepo(t, map[string]func(string) string{
		"tasks/web.json": func(s string) string {
			return strings.Replace(s, `"nginx:1.27-alpine"`, `"evil.example.com/nginx:1.27"`, 1)
		},
	}))
	rep := Review(context.Background(), in)
	img := findings(rep, CheckImages, Failure)
	if len(img) != 1 || !strings.Contains(img[0].Message, "evil.example.com") {
		t.Fatalf("images: %+v\n%s", img, rep.Markdown())
	}
	for _, f := range findings(rep, CheckFiles, Failure) {
		if strings.Contains(f.Message, "untrusted") {
			t.Errorf("untrusted image also counted as an invalid file: %+v", f)
		}
	}
}

func TestReviewInvalidFile(t *testing.T) {
	in := Prepare(context.Background(), exampleRepo(t, map[string]func(string) string{
		"tasks/broken.json": func(string) string { return `{"family": "broken", "containerDefinitions": [` },
	}))
	rep := Review(context.Background(), in)
	f := findings(rep, CheckFiles, Failure)
	if len(f) == 0 || f[0].File != "tasks/broken.json" {
		t.Fatalf("files: %+v", f)
	}
}

func TestSecretHeuristics(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		secret      bool
	}{
		{"DB_PASSWORD", "pw", true},
		{"GITHUB_TOKEN", "x", true},
		{"API_KEY", "abc", true},
		{"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true},
		{"SECRET_KEY_BASE", "abc", true},
		{"SOME_VAR", "AKIAIOSFODNN7EXAMPLE", true},
		{"DATABASE_URL", "postgres://app:pw@db:5432/app", true},
		{"DB_PASSWORD_FILE", "/run/secrets/db", false},
		{"TOKEN_URL", "https://auth.example.com/token", false},
		{"PASSWORD_MIN_LENGTH", "12", false},
		{"SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:x", false},
		{"DB_PASSWORD", "", false},
		{"DB_PASSWORD", "${DB_PASSWORD}", false},
		{"USE_TOKEN", "true", false},
		{"NGINX_PORT", "80", false},
		{"PASSENGER_APP_ENV", "production", false},
		{"TOKENIZER", "bert", false},
	} {
		if got := secretReason(tc.name, tc.value) != ""; got != tc.secret {
			t.Errorf("%s=%q: secret %v, want %v", tc.name, tc.value, got, tc.secret)
		}
	}
}

func TestScrubText(t *testing.T) {
	for in, want := range map[string]string{
		"clone https://oauth2:glpat-abcdefghij0123456789@gitlab.example.com/x.git":   "clone https://" + Redacted + "@gitlab.example.com/x.git",
		"https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com": "https://" + Redacted + "@github.com",
		"key AKIAIOSFODNN7EXAMPLE here":                                              "key " + Redacted + " here",
		"https://ghp_0123456789abcdefghij0123456789abcdef@github.com/a/b":            "https://" + Redacted + "@github.com/a/b",
		"https://github.com/acme/deploy.git":                                         "https://github.com/acme/deploy.git",
	} {
		if got := ScrubText(in); got != want {
			t.Errorf("ScrubText(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestSummaryAndCommentBounds(t *testing.T) {
	rep := &Report{Tasks: 1}
	for i := range 5000 {
		rep.Findings = append(rep.Findings, Finding{Check: Checks[i%len(Checks)].Check, Severity: Severity(i % 2),
			File: fmt.Sprintf("tasks/t%04d.json", i), Path: "containerDefinitions[0].privileged",
			Message: strings.Repeat("a long explanation ", 10)})
	}
	plan := &PlanSummary{}
	for i := range 3000 {
		plan.Register = append(plan.Register, PlanItem{Family: fmt.Sprintf("f%d", i), Detail: "new family"})
	}
	rep.Plans = []ClusterPlanSummary{{Cluster: "prod", Plan: plan}}
	if s := rep.Summary(); len(s) > MaxSummary {
		t.Errorf("summary %d bytes: %q", len(s), s)
	}
	full := rep.Markdown()
	cut := rep.MarkdownMax(MaxCommentBytes)
	if len(full) <= MaxCommentBytes || len(cut) > MaxCommentBytes {
		t.Fatalf("full %d, cut %d bytes", len(full), len(cut))
	}
	if !strings.HasPrefix(cut, CommentMarker) || !strings.Contains(cut, "and 2400 more") {
		t.Errorf("cut report lost its marker or its counts:\n%s", cut[:min(len(cut), 2000)])
	}
	if tiny := rep.MarkdownMax(300); len(tiny) > 300 || !strings.HasPrefix(tiny, CommentMarker) {
		t.Errorf("MarkdownMax(300) = %d bytes", len(tiny))
	}
	// Forty clusters of the same plan: every cluster keeps its heading and its counts.
	for i := range 40 {
		rep.Plans = append(rep.Plans, ClusterPlanSummary{Cluster: fmt.Sprintf("c%02d", i), Plan: plan})
	}
	if s := rep.Summary(); len(s) > MaxSummary {
		t.Errorf("summary %d bytes: %q", len(s), s)
	}
	cut = rep.MarkdownMax(MaxCommentBytes)
	if len(cut) > MaxCommentBytes || !strings.Contains(cut, "#### Cluster `c39`") || strings.Count(cut, "| … | 2990 more | | |") != 41 {
		t.Errorf("cut report of 41 clusters: %d bytes\n%s", len(cut), cut[max(0, len(cut)-2000):])
	}
}

func TestMarkdownEscapesInjectedMarkup(t *testing.T) {
	rep := &Report{Findings: []Finding{{Check: CheckFiles, Severity: Failure, File: "tasks/`x`|.json",
		Message: "bad <!-- taskward-review --> <img src=x> | cell\nnext"}}}
	md := rep.Markdown()
	if strings.Count(md, CommentMarker) != 1 || strings.Contains(md, "<img") || strings.Contains(md, "cell\nnext") {
		t.Fatalf("markup injected:\n%s", md)
	}
}

func TestReviewPlanSummary(t *testing.T) {
	desired := func(family, image, password string) reconcile.Desired {
		v, err := ojson.Parse([]byte(fmt.Sprintf(`{"family":%q,"containerDefinitions":[{"name":"app","image":%q,"environment":[{"name":"DB_PASSWORD","value":%q}]}]}`, family, image, password)))
		if err != nil {
			t.Fatal(err)
		}
		return reconcile.Desired{Family: family, SourcePath: "tasks/" + family + ".json", Definition: v}
	}
	liveRev := func(d reconcile.Desired, rev int) *reconcile.Revision {
		r, err := reconcile.NewRevision(fmt.Sprintf("arn:aws:ecs:us-east-1:1:task-definition/%s:%d", d.Family, rev), d.Definition, map[string]string{"taskward.dev/managed-by": "taskward"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	web := desired("web", "nginx:1.27", "new-password-123")
	webLive := desired("web", "nginx:1.26", "old-password-123")
	api := desired("api", "api:1", "x")
	gone := desired("gone", "x:1", "y")
	live := &reconcile.Live{Families: map[string]*reconcile.LiveFamily{
		"web":  {Family: "web", Latest: liveRev(webLive, 3), Active: []string{"arn:aws:ecs:us-east-1:1:task-definition/web:3"}},
		"gone": {Family: "gone", Latest: liveRev(gone, 1), Active: []string{"arn:aws:ecs:us-east-1:1:task-definition/gone:1"}},
	}, Services: []reconcile.Service{{Name: "web", Family: "web", TaskDefinition: "arn:aws:ecs:us-east-1:1:task-definition/web:3", DeploymentController: "ECS"}}}
	plan, err := reconcile.Plan([]reconcile.Desired{web, api}, live, reconcile.PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	rep := Review(context.Background(), &ReviewInput{Plans: []ClusterPlan{{Cluster: "prod", Plan: plan}}})
	p := rep.Plans[0].Plan
	if len(p.Register) != 2 || len(p.Services) != 1 || len(p.Prune) != 1 {
		t.Fatalf("plan %+v", p)
	}
	md := rep.Markdown()
	for _, leak := range []string{"new-password-123", "old-password-123"} {
		if strings.Contains(md, leak) {
			t.Errorf("plan leaks %q:\n%s", leak, md)
		}
	}
	for _, want := range []string{"| register | `api` | `tasks/api.json` | new family |", "containerDefinitions[name=app].image", "service web: web:3 → the new revision", "| prune | `gone` |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	rep = Review(context.Background(), &ReviewInput{Plans: []ClusterPlan{{Cluster: "prod", Err: errors.New("list services: https://user:pw@ecs.example.com: timeout")}}})
	if !strings.Contains(rep.Markdown(), "live ECS could not be read") || strings.Contains(rep.Markdown(), "pw@") {
		t.Errorf("plan error:\n%s", rep.Markdown())
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n%s", path, got)
	}
}

// TestReviewChecksThatDidNotRun: when the head does not load, the checks that need
// rendered task definitions never ran; the report says so instead of "passed".
func TestReviewChecksThatDidNotRun(t *testing.T) {
	in := Prepare(context.Background(), exampleRepo(t, map[string]func(string) string{
		"policies/broken.yaml": func(string) string { return "name: broken\nprocesses:\n  effect: maybe\n" },
	}))
	md := Review(context.Background(), in).Markdown()
	for _, title := range []string{"Every container protected", "Trusted images"} {
		if strings.Contains(md, "| ✅ | "+title+" | passed |") || !strings.Contains(md, "| ⏸️ | "+title+" | not run: no task definition rendered |") {
			t.Errorf("%s:\n%s", title, md)
		}
	}
	// Checks over the task files as written still ran.
	if !strings.Contains(md, "| ✅ | No privileged mode, host network or host PID | passed |") {
		t.Errorf("privileges:\n%s", md)
	}
	// When everything renders, nothing is marked as not run.
	if rep := Review(context.Background(), Prepare(context.Background(), exampleRepo(t, nil))); rep.NotRun != nil {
		t.Errorf("not run on a good repo: %v", rep.NotRun)
	}
}

// TestReviewOfADirectoryThatIsNotAGitOpsRepo: no taskward.yaml and no tasks/ fails the
// review, saying where to point it, and no check over task definitions claims "passed".
func TestReviewOfADirectoryThatIsNotAGitOpsRepo(t *testing.T) {
	rep := Review(context.Background(), Prepare(context.Background(), fstest.MapFS{"README.md": {Data: []byte("hello")}}))
	md := rep.Markdown()
	if !rep.Failed() || !strings.Contains(md, "not a GitOps repo") || !strings.Contains(md, "--path") {
		t.Fatalf("not failed or not said:\n%s", md)
	}
	for _, c := range Checks[2:] {
		if strings.Contains(md, "| ✅ | "+c.Title+" | passed |") {
			t.Errorf("%s passed over nothing:\n%s", c.Title, md)
		}
	}
}
