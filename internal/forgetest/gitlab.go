package forgetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// GitLab implements the documented REST endpoints the publisher uses under /api/v4,
// checks PRIVATE-TOKEN, and records every call:
//
//	POST /projects/:id/statuses/:sha                          201, {state, name, description, target_url}
//	GET  /projects/:id/merge_requests/:iid/notes              200, per_page, page, X-Next-Page, X-Total, Link
//	POST /projects/:id/merge_requests/:iid/notes              201, {body}
//	PUT  /projects/:id/merge_requests/:iid/notes/:note_id     200, {body}; 403 for another user's note
//	GET  /user                                                200, {id, username} of the token's user
//
// Notes carry their author (author.id, author.username), as the API documents.
// :id is the numeric id or the URL-encoded path (platform%2Fdeploy); both name project 15.
type GitLab struct {
	t        *testing.T
	token    string
	Srv      *httptest.Server
	mu       sync.Mutex
	Calls    []string
	Statuses map[string][]map[string]string
	Notes    map[int][]*Note
	nextID   int64
	Me       GLUser // the token's user
}

type GLUser struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

type Note struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	System bool   `json:"system"`
	Author GLUser `json:"author"`
}

func NewGitLab(t *testing.T, token string) *GitLab {
	f := &GitLab{t: t, token: token, Statuses: map[string][]map[string]string{}, Notes: map[int][]*Note{}, nextID: 500,
		Me: GLUser{ID: 9001, Username: "project_15_bot_1"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/user", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": f.Me.ID, "username": f.Me.Username, "bot": true, "state": "active"})
	})
	mux.HandleFunc("POST /api/v4/projects/{id}/statuses/{sha}", f.project(f.createStatus))
	mux.HandleFunc("GET /api/v4/projects/{id}/merge_requests/{iid}/notes", f.project(f.listNotes))
	mux.HandleFunc("POST /api/v4/projects/{id}/merge_requests/{iid}/notes", f.project(f.createNote))
	mux.HandleFunc("PUT /api/v4/projects/{id}/merge_requests/{iid}/notes/{note}", f.project(f.updateNote))
	f.Srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.Calls = append(f.Calls, r.Method+" "+r.URL.EscapedPath())
		f.mu.Unlock()
		if r.Header.Get("PRIVATE-TOKEN") != f.token {
			glError(w, http.StatusUnauthorized, "401 Unauthorized")
			return
		}
		if r.Method != http.MethodGet && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			glError(w, http.StatusBadRequest, "content type")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Srv.Close)
	return f
}

func glError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (f *GitLab) project(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id := r.PathValue("id"); id != "15" && id != "platform/deploy" {
			glError(w, http.StatusNotFound, "404 Project Not Found")
			return
		}
		h(w, r)
	}
}

func (f *GitLab) body(w http.ResponseWriter, r *http.Request) map[string]string {
	var in map[string]string
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		glError(w, http.StatusBadRequest, "400 Bad request")
		return nil
	}
	return in
}

func (f *GitLab) createStatus(w http.ResponseWriter, r *http.Request) {
	in := f.body(w, r)
	if in == nil {
		return
	}
	switch in["state"] {
	case "pending", "running", "success", "failed", "canceled", "skipped":
	default:
		glError(w, http.StatusBadRequest, "state does not have a valid value")
		return
	}
	f.mu.Lock()
	f.Statuses[r.PathValue("sha")] = append(f.Statuses[r.PathValue("sha")], in)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"id": 93, "sha": r.PathValue("sha"), "status": in["state"], "name": in["name"], "description": in["description"]})
}

func (f *GitLab) listNotes(w http.ResponseWriter, r *http.Request) {
	iid, _ := strconv.Atoi(r.PathValue("iid"))
	perPage, page := 20, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	f.mu.Lock()
	all := f.Notes[iid]
	start := min((page-1)*perPage, len(all))
	out := append([]*Note(nil), all[start:min(start+perPage, len(all))]...)
	total := len(all)
	f.mu.Unlock()
	pages := max(1, (total+perPage-1)/perPage)
	w.Header().Set("X-Page", strconv.Itoa(page))
	w.Header().Set("X-Per-Page", strconv.Itoa(perPage))
	w.Header().Set("X-Total", strconv.Itoa(total))
	w.Header().Set("X-Total-Pages", strconv.Itoa(pages))
	w.Header().Set("X-Next-Page", "")
	if page < pages {
		w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d&per_page=%d>; rel="next"`, f.Srv.URL, r.URL.EscapedPath(), page+1, perPage))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (f *GitLab) createNote(w http.ResponseWriter, r *http.Request) {
	in := f.body(w, r)
	if in == nil {
		return
	}
	iid, _ := strconv.Atoi(r.PathValue("iid"))
	f.mu.Lock()
	f.nextID++
	n := &Note{ID: f.nextID, Body: in["body"], Author: f.Me}
	f.Notes[iid] = append(f.Notes[iid], n)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(n)
}

func (f *GitLab) updateNote(w http.ResponseWriter, r *http.Request) {
	in := f.body(w, r)
	if in == nil {
		return
	}
	iid, _ := strconv.Atoi(r.PathValue("iid"))
	id, _ := strconv.ParseInt(r.PathValue("note"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.Notes[iid] {
		if n.ID == id {
			if n.Author != f.Me {
				glError(w, http.StatusForbidden, "403 Forbidden")
				return
			}
			n.Body = in["body"]
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(n)
			return
		}
	}
	glError(w, http.StatusNotFound, "404 Not found")
}

func (f *GitLab) Seed(iid, n int) {
	for i := range n {
		f.nextID++
		f.Notes[iid] = append(f.Notes[iid], &Note{ID: f.nextID, Body: fmt.Sprintf("note %d", i), System: i%3 == 0, Author: GLUser{ID: 12, Username: "alice"}})
	}
}

// PostAs adds a note written by another user (a merge request's author).
func (f *GitLab) PostAs(iid int, u GLUser, body string) *Note {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	n := &Note{ID: f.nextID, Body: body, Author: u}
	f.Notes[iid] = append(f.Notes[iid], n)
	return n
}

func (f *GitLab) Ours(iid int, marker string) []*Note {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*Note
	for _, n := range f.Notes[iid] {
		if strings.HasPrefix(n.Body, marker) && n.Author == f.Me {
			out = append(out, n)
		}
	}
	return out
}
