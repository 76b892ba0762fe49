package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTerminalEscapesFromRepo: file names, values and messages from a repository reach
// the terminal of whoever runs validate or review (a CI log, a developer's shell). An
// escape sequence among them must show as text, not clear the screen or hide a line.
func TestTerminalEscapesFromRepo(t *testing.T) {
	repo := t.TempDir()
	evil := "\x1b[2J\x1b]0;owned\x07\u202e"
	if err := os.MkdirAll(filepath.Join(repo, "tasks"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"tasks/" + evil + "web.json": `{"family":"web` + evil + `","containerDefinitions":[{"name":"app` + evil + `","image":"busybox","entryPoint":["sh"]}]}`,
		"taskward.yaml":              "clusters: [\"" + "a\\e[31m" + "\"]\nunknown" + evil + ": 1\n",
	}
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(repo, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"validate", "--repo", repo, "--offline"},
		{"review", "--repo", repo, "--offline", "--no-plan"},
	} {
		_, stdout, stderr := runCmd(t, "", args...)
		out := stdout + stderr
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%s: control characters reach the terminal:\n%q", args[0], out)
		}
		if !strings.Contains(out, `\x1b[2J`) {
			t.Errorf("%s: the escape should show as text:\n%s", args[0], out)
		}
	}
}
