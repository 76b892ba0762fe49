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
		statusPage.Execute(w, c.Status())
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
<html lang="en"><head><meta charset="utf-8"><title>taskward</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.Synced,.Healthy{color:#16794c}.OutOfSync,.Progressing{color:#b26b00}.Failed,.Degraded,.err{color:#b3261e}code{font-size:13px}
</style></head><body>
<h1>taskward</h1>
<p>Source <code>{{.Source}}</code> at <code>{{.Commit}}</code> {{.CommitMessage}}<br>
Last reconcile: {{if .LastReconcile.IsZero}}none yet{{else}}{{.LastReconcile.Format "2006-01-02 15:04:05 MST"}} — <b>{{.Result}}</b>{{end}};
ready: {{.Ready}}. Last applied: <code>{{.LastApplied}}</code></p>
{{if .SourceError}}<p class="err">Fetch failed ({{if .Commit}}the last good commit stays in force{{else}}no commit was fetched yet: nothing is applied{{end}}): {{.SourceError}}</p>{{end}}
{{if .BrokenCommit}}<p class="err">Commit <code>{{.BrokenCommit}}</code> does not load; nothing from it is applied:</p>
<ul>{{range .Problems}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
<h2>Families</h2>
<table><tr><th>family</th><th>file</th><th>sync</th><th>revision</th><th>last error</th></tr>
{{range .Families}}<tr><td>{{.Family}}</td><td><code>{{.Path}}</code></td><td class="{{.Sync}}">{{.Sync}}{{if .Action}} ({{.Action}}){{end}}</td><td><code>{{.Revision}}</code></td><td class="err">{{.LastError}}</td></tr>{{end}}
</table>
<h2>Services</h2>
{{if .Services}}<table><tr><th>cluster</th><th>service</th><th>health</th><th>reason</th></tr>
{{range .Services}}<tr><td>{{.Cluster}}</td><td>{{.Service}}</td><td class="{{.Health}}">{{.Health}}</td><td>{{.Reason}}</td></tr>{{end}}
</table>{{else}}<p>None.</p>{{end}}
<h2>Drift</h2>
{{if .Drift}}<table><tr><th>kind</th><th>resource</th><th>detail</th></tr>
{{range .Drift}}<tr><td>{{.Kind}}</td><td><code>{{.Resource}}</code></td><td>{{.Detail}}</td></tr>{{end}}
</table>{{else}}<p>None{{if not .LastScan.IsZero}} (scanned {{.LastScan.Format "15:04:05"}}){{end}}.</p>{{end}}
{{range .ScanErrors}}<p class="err">Scan error: {{.}}</p>{{end}}
</body></html>
`))
