package controller

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/taskward/taskward/internal/testtool"
)

// TestStatusPageInABrowser renders the status page of a controller with drift in a real
// headless Chromium (Debian's; hack/install-deps.sh installs it) and checks what a person
// sees: the verdict, last and next scan times, counts per kind, one row per resource with
// its cluster, family:revision instead of ARNs, a hint per finding, links to /status and
// /metrics, and the refresh. Set TASKWARD_STATUS_SCREENSHOT=FILE to keep a screenshot.
func TestStatusPageInABrowser(t *testing.T) {
	browser := testtool.Need(t, "chromium", "chromium")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	remote.push("initial", exampleFiles(t))
	c := New(gitSource(t, "file://"+remote.bare), env.ecs, WithPollInterval(time.Hour))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, "the first reconcile", func() bool { return c.Status().Ready })

	// Drift: a hand-registered unprotected service, and "cache" put on a stripped revision.
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	for _, fam := range []string{"legacy", "cache"} {
		td, err := env.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(fam), NetworkMode: types.NetworkModeAwsvpc,
			Cpu: aws.String("256"), Memory: aws.String("512"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("python:3.12")}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.ecs.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String(fam), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
			DesiredCount: aws.Int32(1), NetworkConfiguration: net}); err != nil {
			t.Fatal(err)
		}
	}
	c.Reconcile(ctx, "poll") // cache is now out of sync
	c.Scan(ctx)

	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=2000"}
	run := func(extra ...string) string {
		cctx, ccancel := context.WithTimeout(ctx, 60*time.Second)
		defer ccancel()
		out, err := exec.CommandContext(cctx, browser, append(append(args, extra...), ts.URL+"/")...).Output()
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, out)
		}
		return string(out)
	}
	dom := run("--dump-dom")
	if shot := os.Getenv("TASKWARD_STATUS_SCREENSHOT"); shot != "" {
		abs, _ := filepath.Abs(shot)
		run("--screenshot="+abs, "--window-size=1400,900")
	}

	want := []string{
		`<title>taskward: out-of-sync</title>`,
		`<meta http-equiv="refresh" content="30">`,
		`<a href="/status">`, `<a href="/metrics">`,
		`id="drift-counts">2 unprotected, 1 out-of-sync, 1 unmanaged</p>`,
		`<code title="arn:aws:ecs:us-east-1:000000000000:service/default/cache">service cache</code>`,
		`Commit the change to Git if it is wanted`,
		`Add its task definition to tasks/ in Git`,
	}
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	for _, id := range []string{"last-scan", "next-scan"} {
		if !regexp.MustCompile(`id="` + id + `">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`).MatchString(dom) {
			t.Errorf("%s is not a time", id)
		}
	}
	table := dom[strings.Index(dom, `id="drift"`):]
	table = table[:strings.Index(table, "</table>")]
	if rows := strings.Count(table, "<tr>") - 1; rows != 2 {
		t.Errorf("drift table has %d rows, want one per resource (2)", rows)
	}
	if !strings.Contains(table, "<td>default</td>") || !regexp.MustCompile(`>cache:\d+</code>`).MatchString(table) {
		t.Errorf("drift table lacks the cluster or family:revision:\n%s", table)
	}
	// No ARN is shown as text; they are kept in title attributes, for hovering.
	visible := regexp.MustCompile(`title="[^"]*"`).ReplaceAllString(dom, "")
	if strings.Contains(visible, "arn:aws:ecs") {
		t.Errorf("an ARN is shown as text")
	}
	cancel()
	<-done
}
