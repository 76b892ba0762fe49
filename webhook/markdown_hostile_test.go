package webhook

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/taskward/taskward/internal/forgetest"
	"github.com/taskward/taskward/manifests"
)

// TestMarkdownHostileData: names, reasons, file names and ECS errors carry Markdown and
// mentions into the PR comment. None of it may become a link, an image, HTML, a mention,
// a reference or a terminal escape.
func TestMarkdownHostileData(t *testing.T) {
	hostile := []string{
		"[Approve here](https://evil.example/approve)",
		"![pixel](https://evil.example/p.png)",
		"[ref][1]",
		"@org/security-team please approve",
		"cc @all",
		"<img src=https://evil.example/x.png>",
		"see https://evil.example and www.evil.example",
		"fixes #1 and !2 ~bug %v1 $3 &4",
		"\x1b[31mred\x1b[0m \u202etxt.exe",
		"`code` <!-- taskward-review -->",
	}
	in := &ReviewInput{Head: "abc1234", Base: "main"}
	for _, h := range hostile {
		in.Problems = append(in.Problems, &manifests.Problem{File: "tasks/" + h + ".json", Path: h, Msg: h})
		in.Changed = append(in.Changed, h)
		in.Plans = append(in.Plans, ClusterPlan{Cluster: h, Err: errors.New(h)})
	}
	in.PlanNote = strings.Join(hostile, " ")
	md := Review(context.Background(), in).Markdown()

	for _, live := range forgetest.LiveMarkup(md) {
		t.Errorf("the comment holds %s:\n%s", live, md)
	}
	if !strings.HasPrefix(md, CommentMarker+"\n") || strings.Count(regexp.MustCompile("`[^`\n]*`").ReplaceAllString(md, ""), CommentMarker) != 1 {
		t.Errorf("the comment marker must be ours, first and only once outside code spans")
	}
	// Still readable: the words are there.
	if !strings.Contains(md, "Approve here") || !strings.Contains(md, "security-team") {
		t.Errorf("the hostile text itself should still show, defused:\n%s", md)
	}
}
