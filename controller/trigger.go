package controller

import (
	"io"
	"net/http"
)

// reconcileNow serves POST /v1/reconcile: a reconcile and a drift scan right away, for a
// local repo (no push webhook) or an operator who just changed something. It takes the
// events token, as /v1/events does; SIGHUP to the process does the same (cmd/taskward).
func (c *Controller) reconcileNow(w http.ResponseWriter, r *http.Request) {
	if len(c.eventsToken) == 0 {
		http.Error(w, "no events token configured: start the controller with --events-token-file, or send it SIGHUP", http.StatusServiceUnavailable)
		return
	}
	if !c.bearerOK(r) {
		http.Error(w, "bad or missing bearer token (the events token)", http.StatusUnauthorized)
		return
	}
	io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4<<10)) // nothing to read: bounded
	c.RequestReconcile("POST /v1/reconcile from " + r.RemoteAddr)
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte("reconcile requested\n"))
}
