package manifests

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
)

// TestImageOverridesNormalized: images keys in taskward.yaml match a task's image as
// trusted-image rules do (normalized), two keys naming one image are an error, and a key
// no container uses is warned about at its line, instead of doing nothing silently.
func TestImageOverridesNormalized(t *testing.T) {
	task := `{"family":"web","containerDefinitions":[{"name":"app","image":"docker.io/library/nginx:1.27"}]}`
	cfg := "images:\n  nginx:1.27:\n    cmd: [nginx]\n    reason: r\n  ngnix:1.27:\n    cmd: [nginx]\n    reason: typo\n"
	repo, probs := Load(fstest.MapFS{"taskward.yaml": {Data: []byte(cfg)}, "tasks/web.json": {Data: []byte(task)}})
	if repo == nil {
		t.Fatal(probs)
	}
	rendered, probs := NewRenderer(repo.Config, repo.Policies).RenderAll(context.Background(), repo.Tasks)
	if rendered == nil {
		t.Fatalf("nginx:1.27 did not match docker.io/library/nginx:1.27:\n%s", probs)
	}
	if got := rendered[0].Containers[0].ArgvSource; !strings.Contains(got, "override") {
		t.Errorf("argv from %q", got)
	}
	warn := Problems(probs.Warnings()).String()
	if !strings.Contains(warn, `taskward.yaml:5:3: warning: images.ngnix:1.27: no container runs image "ngnix:1.27"`) || strings.Contains(warn, "images.nginx:1.27") {
		t.Errorf("warnings:\n%s", warn)
	}

	dup := "images:\n  nginx:1.27:\n    cmd: [a]\n    reason: r\n  docker.io/library/nginx:1.27:\n    cmd: [b]\n    reason: r\n"
	if _, probs := ParseConfig(ConfigFile, []byte(dup)); !strings.Contains(probs.Error(), `is the same image as`) || !strings.Contains(probs.Error(), "taskward.yaml:") {
		t.Errorf("two keys for one image: %v", probs)
	}
	if _, probs := ParseConfig(ConfigFile, []byte("images:\n  \"bad image\":\n    cmd: [a]\n    reason: r\n")); !strings.Contains(probs.Error(), "taskward.yaml:2:3: images.bad image: image reference") {
		t.Errorf("an unparsable key: %v", probs)
	}
}
