package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/taskward/taskward/controller"
	"github.com/taskward/taskward/internal/scrub"
	"github.com/taskward/taskward/manifests"
)

// controllerFlags are the controller's flags. Secrets (Git token, webhook secrets, the
// events token, alert URLs that embed a secret) are read from files or environment
// variables, never from flags that show in ps.
type controllerFlags struct {
	renderFlags
	ecsFlags
	gitFlags
	webhookFlags
	listen        string
	poll          time.Duration
	driftSchedule string
	selfHeal      bool
	retry         bool
	prune         bool
	once          bool
	demo          bool
	clusters      []string
	eventsToken   string
	alertURLFile  string
	slackURLFile  string
}

func (f *controllerFlags) add(fs *pflag.FlagSet) {
	f.renderFlags.add(fs)
	f.ecsFlags.add(fs)
	f.gitFlags.add(fs)
	f.webhookFlags.add(fs)
	fs.StringVar(&f.listen, "listen", ":8080", "`ADDR` for /healthz, /readyz, /metrics, /status, the status page, /v1/events and webhooks")
	fs.DurationVar(&f.poll, "poll", time.Minute, "how often to fetch the repo")
	fs.StringVar(&f.driftSchedule, "drift-schedule", "*/5 * * * *", "cron `SPEC` for drift scans")
	fs.BoolVar(&f.selfHeal, "self-heal", false, "revert out-of-band changes (revisions registered, services moved outside taskward) even when the commit does not change that family")
	fs.BoolVar(&f.retry, "retry", false, "apply again content whose rollout failed on a service (held otherwise until Git changes the family)")
	fs.BoolVar(&f.prune, "prune", false, "deregister managed families removed from Git")
	fs.BoolVar(&f.once, "once", false, "run one reconcile and one drift scan, print the report, exit 0 (in sync), 1 (drift) or 2 (error)")
	fs.BoolVar(&f.demo, "demo", false, "with --ecs local: after applying, change ECS behind Git's back (an unprotected service, a stripped defender) so the scan has drift to report")
	fs.StringSliceVar(&f.clusters, "clusters", nil, "ECS `CLUSTERS` to manage and scan, comma-separated (default: taskward.yaml's)")
	// One spelling: --clusters. --cluster NAME, which the ECS flags shared with diff and
	// apply give every command, still works here and says what to write instead.
	fs.MarkDeprecated("cluster", "use --clusters (one or more, comma-separated)")
	fs.StringVar(&f.eventsToken, "events-token-file", "", "`FILE` holding the bearer token defenders present to /v1/events (or env TASKWARD_CONTROLLER_EVENTS_TOKEN; not TASKWARD_EVENTS_TOKEN, which is the defender's own)")
	fs.StringVar(&f.alertURLFile, "alert-webhook-url-file", "", "`FILE` holding a URL that receives alerts as JSON (or env TASKWARD_ALERT_WEBHOOK_URL)")
	fs.StringVar(&f.slackURLFile, "slack-webhook-url-file", "", "`FILE` holding a Slack incoming-webhook URL (or env TASKWARD_SLACK_WEBHOOK_URL)")
}

// secret reads a secret from a file, or else from an environment variable.
func secret(file, envName string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading secret file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(os.Getenv(envName)), nil
}

func init() {
	register(&command{
		name:    "controller",
		summary: "keep ECS equal to Git, protected: reconcile, scan for drift, alert",
		server:  true,
		flags: func(fs *pflag.FlagSet) func(context.Context, *cmdEnv, []string) int {
			var f controllerFlags
			f.add(fs)
			return func(ctx context.Context, env *cmdEnv, args []string) int {
				return runController(ctx, env, &f)
			}
		},
	})
}

func runController(ctx context.Context, env *cmdEnv, f *controllerFlags) int {
	log := env.log
	if f.once && !env.logLevelSet {
		log = env.newLogger(slog.LevelWarn) // --once prints a report; keep the log to what matters
	}
	if f.demo && f.mode != "local" {
		fmt.Fprintln(env.stderr, "--demo changes ECS behind Git's back: it is only allowed with --ecs local")
		return exitError
	}
	if len(f.clusters) == 0 && f.cluster != "" {
		f.clusters = []string{f.cluster} // --cluster (shared with diff and apply) means the same here
	}
	src, cfg, err := f.source(ctx, log)
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward controller: %s\n", scrub.Error(err))
		return exitError
	}
	client, done, err := f.client(ctx, log, cfg.DeclaredRegion(), append(append([]string(nil), cfg.Clusters...), f.clusters...))
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward controller: %v\n", err)
		return exitError
	}
	defer done()

	opts := []controller.Option{
		controller.WithLogger(log), controller.WithPollInterval(f.poll), controller.WithDriftSchedule(f.driftSchedule),
		controller.WithSelfHeal(f.selfHeal), controller.WithRetry(f.retry), controller.WithPrune(f.prune), controller.WithImageSource(f.imageSource(ctx)),
		controller.WithReviewRegistries(f.reviewRegistries...),
	}
	// Reviews read images through a transport of their own that never dials a loopback,
	// private or link-local address unless --review-registry names the registry.
	if src := f.imageSource(ctx, manifests.WithRemoteOptions(remote.WithTransport(manifests.GuardedTransport(f.reviewRegistries)))); src != nil {
		opts = append(opts, controller.WithReviewImages(src))
	}
	if len(f.clusters) > 0 {
		opts = append(opts, controller.WithClusters(f.clusters...))
	}
	tok, err := secret(f.eventsToken, "TASKWARD_CONTROLLER_EVENTS_TOKEN")
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward controller: %v\n", err)
		return exitError
	}
	if tok != "" {
		opts = append(opts, controller.WithEventsToken([]byte(tok)))
	}
	for _, n := range []struct {
		file, env string
		make      func(string, *slog.Logger) controller.Notifier
	}{
		{f.alertURLFile, "TASKWARD_ALERT_WEBHOOK_URL", func(u string, l *slog.Logger) controller.Notifier { return controller.NewWebhookNotifier(u, l) }},
		{f.slackURLFile, "TASKWARD_SLACK_WEBHOOK_URL", func(u string, l *slog.Logger) controller.Notifier { return controller.NewSlackNotifier(u, l) }},
	} {
		u, err := secret(n.file, n.env)
		if err != nil {
			fmt.Fprintf(env.stderr, "taskward controller: %v\n", err)
			return exitError
		}
		if u != "" {
			opts = append(opts, controller.WithNotifiers(n.make(u, log)))
		}
	}
	c := controller.New(src, client, opts...)
	closeHooks, err := f.mountWebhooks(c, log)
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward controller: %s\n", scrub.Error(err))
		return exitError
	}
	defer closeHooks()

	if f.once {
		code := runOnce(ctx, env, f, c, client)
		return code
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		fmt.Fprintf(env.stderr, "taskward controller: %v\n", err)
		return exitError
	}
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	go srv.Serve(ln)
	// SIGHUP: reconcile and scan now (a local repo has no push webhook).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				c.RequestReconcile("SIGHUP")
			}
		}
	}()
	log.Info("controller started", "listen", ln.Addr().String(), "source", src.String())
	err = c.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(env.stderr, "taskward controller: %v\n", err)
		return exitError
	}
	return exitOK
}

func runOnce(ctx context.Context, env *cmdEnv, f *controllerFlags, c *controller.Controller, client ecsClient) int {
	if !f.demo {
		code := c.Once(ctx)
		printReport(env, c.Status())
		return code
	}
	c.Reconcile(ctx, "once")
	st := c.Status()
	printReport(env, st)
	if st.Result != "applied" && st.Result != "synced" {
		return exitError
	}
	fmt.Fprintln(env.stdout, "\n== demo: changing ECS behind Git's back")
	if err := demoDrift(ctx, env, client, f.clustersOr(c.Clusters())[0], c); err != nil {
		fmt.Fprintf(env.stderr, "demo: %v\n", err)
		return exitError
	}
	fmt.Fprintln(env.stdout, "\n== drift scan")
	code := c.Once(ctx)
	printReport(env, c.Status())
	return code
}

func printReport(env *cmdEnv, st *controller.Status) {
	w := env.stdout
	fmt.Fprintf(w, "source %s at %s: %s\n", st.Source, st.Commit, st.Result)
	switch {
	case st.SourceError != "" && st.Commit == "":
		fmt.Fprintf(w, "fetch failed (no commit fetched yet, nothing applied): %s\n", st.SourceError)
	case st.SourceError != "":
		fmt.Fprintf(w, "fetch failed (last good commit kept): %s\n", st.SourceError)
	}
	if st.BrokenCommit != "" {
		fmt.Fprintf(w, "commit %s does not load; nothing from it was applied:\n", st.BrokenCommit)
		for _, p := range st.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	for _, fam := range st.Families {
		line := fmt.Sprintf("  %-24s %-9s %s", fam.Family, fam.Sync, fam.Revision)
		if fam.LastError != "" {
			line += "  error: " + fam.LastError
		}
		if fam.Reason != "" {
			line += "  held: " + fam.Reason
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	for _, h := range st.Services {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  service %-16s %-11s %s", h.Cluster+"/"+h.Service, h.Health, h.Reason), " "))
	}
	if !st.LastScan.IsZero() {
		// A cluster that could not be scanned has unknown drift, which is not zero.
		switch {
		case len(st.ScanErrors) > 0 && len(st.Drift) == 0:
			fmt.Fprintln(w, "drift: unknown (the scan failed, see below)")
		case len(st.ScanErrors) > 0:
			fmt.Fprintf(w, "drift: at least %d (the scan failed for part of it, see below)\n", len(st.Drift))
		default:
			fmt.Fprintf(w, "drift: %d\n", len(st.Drift))
		}
		for _, d := range st.Drift {
			fmt.Fprintf(w, "  %-12s %s\n               %s\n", d.Kind, d.Resource, d.Detail)
		}
	}
	hint := ""
	for _, e := range st.ScanErrors {
		fmt.Fprintf(w, "scan error: %s\n", e)
		hint = cmp.Or(hint, ecsHint(e))
	}
	for _, fam := range st.Families {
		hint = cmp.Or(hint, ecsHint(fam.LastError))
	}
	if hint != "" {
		fmt.Fprintln(w, hint)
	}
}
