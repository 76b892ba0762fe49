package controller

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type route struct {
	pattern string
	h       http.Handler
}

// Handle mounts an extra handler (a webhook receiver) on the controller's listener. Call
// it before Handler.
func (c *Controller) Handle(pattern string, h http.Handler) {
	c.extraRoutes = append(c.extraRoutes, route{pattern, h})
}

// Handler returns the controller's HTTP handler: /healthz, /readyz, /metrics, /status
// (JSON), / (the same status as a page), POST /v1/events, POST /v1/reconcile, and any
// routes mounted with Handle.
func (c *Controller) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !c.Status().Ready {
			http.Error(w, "not ready: no successful reconcile yet", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(c.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(c.Status())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		statusPage.Execute(w, newStatusView(c.Status()))
	})
	mux.Handle("/v1/events", c.events)
	mux.HandleFunc("POST /v1/reconcile", c.reconcileNow)
	for _, rt := range c.extraRoutes {
		mux.Handle(rt.pattern, rt.h)
	}
	return mux
}

// Registerer lets other components (the webhook receivers) put their metrics on the
// controller's /metrics.
func (c *Controller) Registerer() prometheus.Registerer { return c.metrics.reg }

var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taskward: {{.Verdict}}</title>
<meta http-equiv="refresh" content="30">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.Synced,.Healthy,.synced,.applied{color:#16794c}.OutOfSync,.Progressing,.out-of-sync{color:#b26b00}.Failed,.Degraded,.failed,.broken-commit,.err{color:#b3261e}
code{font-size:13px}.hint{color:#555}nav a{margin-right:1em}
</style></head><body>
<h1>taskward: <span id="verdict" class="{{.Verdict}}">{{.Verdict}}</span></h1>
<nav><a href="/">refresh</a> (this page refreshes itself every 30 s) <a href="/status">/status (JSON)</a> <a href="/metrics">/metrics</a></nav>
<p>Source <code>{{.S.Source}}</code> at <code>{{.S.Commit}}</code> {{.S.CommitMessage}}<br>
Last reconcile: {{if .S.LastReconcile.IsZero}}none yet{{else}}{{.S.LastReconcile.Format "2006-01-02 15:04:05 MST"}}{{end}};
ready: {{.S.Ready}}. Last applied: <code>{{.S.LastApplied}}</code><br>
Last drift scan: <span id="last-scan">{{if .S.LastScan.IsZero}}none yet{{else}}{{.S.LastScan.Format "2006-01-02 15:04:05 MST"}}{{end}}</span>;
next: <span id="next-scan">{{if .S.NextScan.IsZero}}not scheduled{{else}}{{.S.NextScan.Format "2006-01-02 15:04:05 MST"}}{{end}}</span>.</p>
{{if .S.SourceError}}<p class="err">Fetch failed ({{if .S.Commit}}the last good commit stays in force{{else}}no commit was fetched yet: nothing is applied{{end}}): {{.S.SourceError}}</p>{{end}}
{{if .S.BrokenCommit}}<p class="err">Commit <code>{{.S.BrokenCommit}}</code> does not load; nothing from it is applied:</p>
<ul>{{range .S.Problems}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
<h2>Families</h2>
<table id="families"><tr><th>family</th><th>file</th><th>sync</th><th>revision</th><th>last error</th></tr>
{{range .Families}}<tr><td>{{.Family}}</td><td><code>{{.Path}}</code></td><td class="{{.Sync}}">{{.Sync}}{{if .Action}} ({{.Action}}){{end}}</td><td><code title="{{.RevisionARN}}">{{.Revision}}</code></td><td class="err">{{.LastError}}</td></tr>{{end}}
</table>
<h2>Services</h2>
{{if .S.Services}}<table id="services"><tr><th>cluster</th><th>service</th><th>health</th><th>reason</th></tr>
{{range .S.Services}}<tr><td>{{.Cluster}}</td><td>{{.Service}}</td><td class="{{.Health}}">{{.Health}}</td><td>{{.Reason}}</td></tr>{{end}}
</table>{{else}}<p>None.</p>{{end}}
<h2>Drift</h2>
<p id="drift-counts">{{if .Counts}}{{range $i, $c := .Counts}}{{if $i}}, {{end}}{{$c.N}} {{$c.Kind}}{{end}}{{else}}none{{end}}{{if .S.LastScan.IsZero}} (no scan yet){{end}}</p>
{{if .Resources}}<table id="drift"><tr><th>cluster</th><th>resource</th><th>runs</th><th>findings</th><th>what to do</th></tr>
{{range .Resources}}<tr><td>{{.Cluster}}</td><td><code title="{{.ARN}}">{{.Name}}</code></td><td><code title="{{.RevisionARN}}">{{.Revision}}</code></td>
<td>{{range .Findings}}<div><b>{{.Kind}}</b>: {{.Detail}}</div>{{end}}</td><td class="hint">{{range .Hints}}<div>{{.}}</div>{{end}}</td></tr>{{end}}
</table>{{end}}
{{range .S.ScanErrors}}<p class="err">Scan error: {{.}}</p>{{end}}
</body></html>
`))
