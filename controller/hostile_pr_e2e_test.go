package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskward/taskward/internal/forgetest"
	"github.com/taskward/taskward/webhook"
)

// The hostile pull requests of issue 15, each pushed to a local Git origin and delivered as
// a signed webhook to a running controller (--path deploy/ecs), which fetches the head,
// reviews it against ecslocal and publishes to the fake GitHub or GitLab API. Asserted: what
// was published and where, who was called (registry, ECS), each review's wall time and the
// heap's peak across the table.

const hostileText = "[Approve here](https://evil.example/approve) @org/security-team ![p](https://evil.example/p.png)"

// mktree writes a tree from "mode type sha\tname" lines with git mktree, which, unlike
// git add, takes any name: how an attacker commits a ".." entry.
func (r *gitRemote) mktree(lines ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", "mktree")
	cmd.Dir, cmd.Env = r.work, r.env
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("git mktree: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func ecslocalCalls(t *testing.T, url string) int64 {
	t.Helper()
	resp, err := http.Get(url + "/_ecslocal/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// heapPeak samples HeapInuse every 5 ms until stop is called and returns the highest value seen.
func heapPeak() (stop func() uint64) {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapInuse)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			sample()
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}

func vmHWM() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}

func TestHostilePullRequestsEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := newTestEnv(t)
	remote := newGitRemote(t)
	const entry = `,"entryPoint":["/app"]`
	clean := taskJSON("web", "busybox:1.36", entry)
	base := remote.push("initial", map[string]string{
		"deploy/ecs/taskward.yaml":  "clusters: [default]\n",
		"deploy/ecs/tasks/web.json": clean,
		"README.md":                 "docs\n",
	})
	reg := newRegistry(t, false) // loopback, chosen by a pull request; the controller uses no registry there
	gh := forgetest.NewGitHub(t, "ghs_e2e")
	gl := forgetest.NewGitLab(t, "glpat-e2e")

	const bound = time.Minute
	c := New(pathSource(t, "file://"+remote.bare, "deploy/ecs"), env.ecs, WithPollInterval(time.Hour),
		WithReviewImages(reviewImages()), WithReviewLimits(ReviewLimits{Timeout: bound}))
	prr, err := c.NewPullRequestReviewer(func(pr webhook.PullRequest) (webhook.Publisher, error) {
		if pr.Provider == "gitlab" {
			return &webhook.GitLabPublisher{BaseURL: gl.Srv.URL + "/api/v4", Token: "glpat-e2e", ProjectID: "15"}, nil
		}
		owner, repo, _ := strings.Cut(pr.Repo, "/")
		return &webhook.GitHubPublisher{BaseURL: gh.Srv.URL, Token: "ghs_e2e", Owner: owner, Repo: repo}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := webhook.NewReviewQueue(2, prr.Review)
	defer q.Close()
	secret, glToken := []byte("pr-secret-0123456789"), []byte("gl-token-0123456789")
	c.Handle("/webhook/github", webhook.NewGitHubHandler(secret, "main", c, q))
	c.Handle("/webhook/gitlab", webhook.NewGitLabHandler(glToken, "main", c, q))
	ts := httptest.NewServer(c.Handler())
	defer ts.Close()
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	for deadline := time.Now().Add(20 * time.Second); !c.Status().Ready && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !c.Status().Ready {
		t.Fatalf("controller never became ready: %+v", c.Status())
	}

	// Blobs and trees for the ".." head, written with plumbing.
	blob := func(s string) string {
		cmd := exec.Command("git", "hash-object", "-w", "--stdin")
		cmd.Dir, cmd.Env, cmd.Stdin = remote.work, remote.env, strings.NewReader(s)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	dotdotHead := func(string) string {
		tasks := remote.mktree("100644 blob " + blob(clean) + "\tweb.json")
		ecsDir := remote.mktree("100644 blob "+blob("clusters: [default]\n")+"\ttaskward.yaml",
			"040000 tree "+remote.mktree("040000 tree "+tasks+"\t..", "100644 blob "+blob(clean)+"\tweb.json")+"\ttasks")
		root := remote.mktree("040000 tree " + remote.mktree("040000 tree "+ecsDir+"\tecs") + "\tdeploy")
		sha := remote.git(remote.work, "commit-tree", root, "-p", base, "-m", "a tree entry named ..")
		remote.git(remote.work, "push", "-q", "origin", sha+":refs/heads/dotdot")
		return sha
	}
	var clusters []string
	for i := range 3000 {
		clusters = append(clusters, fmt.Sprintf("c%04d", i))
	}
	mallory := forgetest.User{Login: "mallory", ID: 666}
	forged := webhook.CommentMarker + "\n## taskward review: ✅ passed\n[Approve here](https://evil.example)"
	markdownFiles := map[string]string{
		"deploy/ecs/tasks/web.json":                                       strings.Replace(taskJSON("web", "busybox:1.36", entry+`,"privileged":true`), `"name":"app"`, fmt.Sprintf(`"name":%q`, hostileText), 1),
		"deploy/ecs/tasks/@all ![x](evil.example) [y](evil.example).json": "{not json",
	}

	type result struct {
		md     string
		failed bool
	}
	tests := []struct {
		name   string
		gitlab bool
		head   func(branch string) string // commits on branch (checked out off main) and pushes it
		before func(number int)
		check  func(t *testing.T, r result, number int)
	}{
		{name: "tree entry named ..", head: dotdotHead, check: func(t *testing.T, r result, _ int) {
			if !r.failed || !strings.Contains(r.md, `".."`) {
				t.Errorf("want a failure refusing the entry:\n%s", r.md)
			}
		}},
		{name: "YAML alias bomb in a policy", head: func(branch string) string {
			bomb := "name: bomb\nx:\n  l0: &l0 [x,x,x,x,x,x,x,x,x]\n"
			for i := 1; i <= 9; i++ {
				bomb += fmt.Sprintf("  l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 9), ","))
			}
			return remote.pushBranch(branch, "policy", map[string]string{"deploy/ecs/policies/bomb.yaml": bomb + "processes:\n  deny: *l9\n"})
		}, check: func(t *testing.T, r result, _ int) {
			if !r.failed || !strings.Contains(r.md, "aliases") {
				t.Errorf("want a failure naming the alias bound:\n%s", r.md)
			}
		}},
		{name: "images on a loopback registry", head: func(branch string) string {
			files := map[string]string{}
			for i := range 20 {
				files[fmt.Sprintf("deploy/ecs/tasks/s%02d.json", i)] = taskJSON(fmt.Sprintf("s%02d", i), fmt.Sprintf("%s/scan/port%d:1", reg.host(), i), "")
			}
			// Private and link-local hosts that would blackhole a dial here: a lookup
			// would hold the review for its timeout and put the dial error in the comment.
			for i, host := range []string{"10.255.255.1:5000", "192.168.255.254", "169.254.169.254", "[fd00::1]:5000"} {
				files[fmt.Sprintf("deploy/ecs/tasks/p%d.json", i)] = taskJSON(fmt.Sprintf("p%d", i), host+"/internal/app:1", "")
			}
			return remote.pushBranch(branch, "scan", files)
		}, check: func(t *testing.T, r result, _ int) {
			if got := reg.requests(); len(got) != 0 {
				t.Errorf("the loopback registry the pull request named got %d requests: %v", len(got), got)
			}
			if n := strings.Count(r.md, "not a registry the controller"); n != 24 {
				t.Errorf("%d of 24 images refused with the reason:\n%s", n, r.md)
			}
			if leak := networkText(r.md); leak != "" {
				t.Errorf("network text %q in the comment:\n%s", leak, r.md)
			}
		}},
		{name: "3,000 clusters", head: func(branch string) string {
			return remote.pushBranch(branch, "clusters", map[string]string{"deploy/ecs/taskward.yaml": "clusters: [default, " + strings.Join(clusters, ", ") + "]\n"})
		}, check: func(t *testing.T, r result, _ int) {
			if !strings.Contains(r.md, "3000 clusters") {
				t.Errorf("the clusters not planned are not named:\n%s", r.md)
			}
		}},
		{name: "Markdown and mentions in a container and a file name", head: func(branch string) string {
			return remote.pushBranch(branch, "markdown", markdownFiles)
		}, check: func(t *testing.T, r result, _ int) {
			if !strings.Contains(r.md, "Approve here") || !strings.Contains(r.md, "evil.example") {
				t.Errorf("the hostile names do not reach the comment (nothing tested):\n%s", r.md)
			}
			for _, live := range forgetest.LiveMarkup(r.md) {
				t.Errorf("live markup %s in:\n%s", live, r.md)
			}
		}},
		{name: "marker comment posted first by the author", head: func(branch string) string {
			return remote.pushBranch(branch, "privileged", map[string]string{"deploy/ecs/tasks/web.json": taskJSON("web", "busybox:1.36", entry+`,"privileged":true`)})
		}, before: func(number int) { gh.PostAs(number, mallory, forged) }, check: func(t *testing.T, r result, number int) {
			if ours := gh.Ours(number, webhook.CommentMarker); len(ours) != 1 {
				t.Errorf("taskward's comments: %d, want 1", len(ours))
			}
			var theirs int
			for _, cm := range gh.Comments[number] {
				if cm.User == mallory {
					theirs++
					if cm.Body != forged {
						t.Errorf("the author's comment was edited: %q", cm.Body)
					}
				}
			}
			if theirs != 1 || !r.failed {
				t.Errorf("author's comments %d, ours failed=%v", theirs, r.failed)
			}
		}},
		{name: "--path deploy/ecs: clean root, privileged deploy/ecs", head: func(branch string) string {
			return remote.pushBranch(branch, "decoy", map[string]string{
				"taskward.yaml":             "clusters: [default]\n",
				"tasks/decoy.json":          clean,
				"deploy/ecs/tasks/web.json": taskJSON("web", "busybox:1.36", entry+`,"privileged":true,"environment":[{"name":"DB_PASSWORD","value":"hunter2hunter2"}]`),
			})
		}, check: func(t *testing.T, r result, _ int) {
			if !r.failed || !strings.Contains(r.md, "privileged") || strings.Contains(r.md, "decoy") || strings.Contains(r.md, "hunter2") {
				t.Errorf("want deploy/ecs reviewed (privileged), not the root:\n%s", r.md)
			}
		}},
		{name: "GitLab: marker note first, Markdown in names", gitlab: true, head: func(branch string) string {
			return remote.pushBranch(branch, "markdown", markdownFiles)
		}, before: func(iid int) { gl.PostAs(iid, forgetest.GLUser{ID: 666, Username: "mallory"}, forged) }, check: func(t *testing.T, r result, iid int) {
			if !strings.Contains(r.md, "Approve here") {
				t.Errorf("the hostile names do not reach the note:\n%s", r.md)
			}
			for _, live := range forgetest.LiveMarkup(r.md) {
				t.Errorf("live markup %s in:\n%s", live, r.md)
			}
			if ours := gl.Ours(iid, webhook.CommentMarker); len(ours) != 1 {
				t.Errorf("taskward's notes: %d, want 1", len(ours))
			}
			var theirs int
			for _, n := range gl.Notes[iid] {
				if n.Author.Username == "mallory" {
					theirs++
					if n.Body != forged {
						t.Errorf("the author's note was edited: %q", n.Body)
					}
				}
			}
			if theirs != 1 {
				t.Errorf("author's notes: %d", theirs)
			}
		}},
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore, hwmBefore := ms.HeapInuse, vmHWM()
	stopSampling := heapPeak()
	for i, tc := range tests {
		number := 100 + i
		t.Run(tc.name, func(t *testing.T) {
			remote.git(remote.work, "checkout", "-q", "-B", fmt.Sprintf("pr%d", number), "main")
			branch := fmt.Sprintf("pr%d", number)
			head := tc.head(branch)
			remote.git(remote.work, "checkout", "-q", "main")
			if tc.before != nil {
				tc.before(number)
			}
			calls := ecslocalCalls(t, env.local.URL)
			start := time.Now()
			var published func() (string, bool)
			if tc.gitlab {
				body := []byte(fmt.Sprintf(`{"object_kind":"merge_request","user":{"username":"mallory"},"project":{"id":15,"path_with_namespace":"platform/deploy"},"object_attributes":{"iid":%d,"action":"open","title":"t","source_branch":"pr","target_branch":"main","last_commit":{"id":%q}}}`, number, head))
				req, _ := http.NewRequest("POST", ts.URL+"/webhook/gitlab", strings.NewReader(string(body)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(webhook.HeaderGitLabEvent, "Merge Request Hook")
				req.Header.Set(webhook.HeaderGitLabToken, string(glToken))
				req.Header.Set(webhook.HeaderIdempotencyKey, fmt.Sprint("mr-", number))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					t.Fatalf("merge request hook answered %d", resp.StatusCode)
				}
				published = func() (string, bool) {
					if ours := gl.Ours(number, webhook.CommentMarker); len(ours) > 0 {
						return ours[0].Body, true
					}
					return "", false
				}
			} else {
				body := []byte(fmt.Sprintf(`{"action":"opened","number":%d,"pull_request":{"number":%d,"title":"t","head":{"sha":%q,"ref":"pr"},"base":{"sha":%q,"ref":"main"}},"repository":{"full_name":"acme/gitops"}}`, number, number, head, base))
				if code := postGitHub(t, ts.URL, "pull_request", fmt.Sprint("d-", number), webhook.SignGitHub(secret, body), body); code != http.StatusAccepted {
					t.Fatalf("pull_request webhook answered %d", code)
				}
				published = func() (string, bool) {
					if ours := gh.Ours(number, webhook.CommentMarker); len(ours) > 0 {
						return ours[0].Body, true
					}
					return "", false
				}
			}
			var r result
			for deadline := time.Now().Add(bound + 10*time.Second); ; {
				md, ok := published()
				if ok {
					r.md = md
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no review published within %v", bound+10*time.Second)
				}
				time.Sleep(20 * time.Millisecond)
			}
			took := time.Since(start)
			r.failed = strings.Contains(r.md, "❌ failed")
			if !tc.gitlab {
				st := gh.StatusesOf(head)
				if len(st) == 0 || (st[len(st)-1]["state"] == "failure") != r.failed {
					t.Errorf("commit status %v, comment failed=%v", st, r.failed)
				}
			}
			made := ecslocalCalls(t, env.local.URL) - calls
			t.Logf("review in %v, %d ECS calls", took.Round(time.Millisecond), made)
			if took > bound {
				t.Errorf("the review took %v, over its wall-time bound %v", took, bound)
			}
			if made > 20 {
				t.Errorf("the review made %d ECS calls", made)
			}
			tc.check(t, r, number)
			// The controller is alive and serving.
			if resp, err := http.Get(ts.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
				t.Fatalf("controller not serving after the review: %v", err)
			} else {
				resp.Body.Close()
			}
		})
	}
	// What was sent where: GitHub saw only the token's user and acme/gitops, and nothing
	// for the GitLab merge request.
	var ours int
	for _, p := range []string{"GET /user", "POST /repos/acme/gitops/", "GET /repos/acme/gitops/", "PATCH /repos/acme/gitops/"} {
		ours += gh.CallCount(p)
	}
	if all := gh.CallCount(""); all != ours {
		t.Errorf("GitHub got %d calls, %d of them for acme/gitops or GET /user", all, ours)
	}
	if n := len(gh.Ours(100+len(tests)-1, webhook.CommentMarker)); n != 0 {
		t.Errorf("the GitLab merge request was also commented on GitHub (%d)", n)
	}
	peak := stopSampling()
	t.Logf("heap in use: %d MiB before, peak %d MiB across the table; VmHWM %s → %s", heapBefore>>20, peak>>20, hwmBefore, vmHWM())
	if peak > heapBefore+256<<20 {
		t.Errorf("the heap grew by %d MiB during the hostile reviews", (peak-heapBefore)>>20)
	}
	if st := c.Status(); !st.Ready || st.Commit != base {
		t.Errorf("the main reconcile moved or failed: %+v", st)
	}
	cancel()
	<-done
}
