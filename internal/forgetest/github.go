// Package forgetest holds hand-written fakes of the GitHub and GitLab REST APIs that
// taskward publishes reviews to, following their documentation, for tests of package
// webhook and of the controller end to end.
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

// GitHub implements the documented REST endpoints the publisher uses, checks the
// documented headers, and records every call:
//
//	POST  /repos/{owner}/{repo}/statuses/{sha}             201, {state, target_url, description, context}
//	GET   /repos/{owner}/{repo}/issues/{n}/comments        200, per_page (default 30, max 100), page, Link
//	POST  /repos/{owner}/{repo}/issues/{n}/comments        201, {body}
//	PATCH /repos/{owner}/{repo}/issues/comments/{id}       200, {body}; 403 for another user's comment
//	GET   /user                                            200, {login, id, type} of the token's user
//
// Comments carry their author (user.login, user.id), as the API documents.
type GitHub struct {
	t      *testing.T
	token  string
	Srv    *httptest.Server
	mu     sync.Mutex
	Calls  []string
	Status map[string][]map[string]string // by sha
	// Comments by issue number, in creation order; ids are global.
	Comments map[int][]*Comment
	nextID   int64
	FailNext int // answer this many requests with 502 first
	// Me is the token's user: GET /user, and the author of the comments it writes.
	Me User
}

type User struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
}

type Comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User User   `json:"user"`
}

func NewGitHub(t *testing.T, token string) *GitHub {
	f := &GitHub{t: t, token: token, Status: map[string][]map[string]string{}, Comments: map[int][]*Comment{}, nextID: 1000,
		Me: User{Login: "taskward-bot", ID: 7001}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"login": f.Me.Login, "id": f.Me.ID, "type": "User"})
	})
	mux.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", f.createStatus)
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{n}/comments", f.listComments)
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{n}/comments", f.createComment)
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", f.updateComment)
	f.Srv = httptest.NewServer(f.check(mux))
	t.Cleanup(f.Srv.Close)
	return f
}

func (f *GitHub) Seed(issue, n int) {
	for i := range n {
		f.nextID++
		f.Comments[issue] = append(f.Comments[issue], &Comment{ID: f.nextID, Body: fmt.Sprintf("comment %d by a person", i), User: User{Login: "octocat", ID: 583231}})
	}
}

// PostAs adds a comment written by another user (a pull request's author).
func (f *GitHub) PostAs(issue int, u User, body string) *Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	c := &Comment{ID: f.nextID, Body: body, User: u}
	f.Comments[issue] = append(f.Comments[issue], c)
	return c
}

func ghError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

// check enforces the documented request headers before any endpoint runs.
func (f *GitHub) check(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.Calls = append(f.Calls, r.Method+" "+r.URL.Path)
		fail := f.FailNext > 0
		if fail {
			f.FailNext--
		}
		f.mu.Unlock()
		if fail {
			ghError(w, http.StatusBadGateway, "Server Error")
			return
		}
		auth := r.Header.Get("Authorization")
		if auth != "Bearer "+f.token && auth != "token "+f.token {
			ghError(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
		if r.Header.Get("Accept") != "application/vnd.github+json" {
			f.t.Errorf("%s %s: Accept %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
		}
		if r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
			ghError(w, http.StatusBadRequest, "unsupported API version")
			return
		}
		if r.Header.Get("User-Agent") == "" {
			ghError(w, http.StatusForbidden, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header")
			return
		}
		if r.Method != http.MethodGet && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			ghError(w, http.StatusUnsupportedMediaType, "content type")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *GitHub) decode(w http.ResponseWriter, r *http.Request) map[string]string {
	var in map[string]string
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		ghError(w, http.StatusBadRequest, "Problems parsing JSON")
		return nil
	}
	return in
}

func (f *GitHub) createStatus(w http.ResponseWriter, r *http.Request) {
	in := f.decode(w, r)
	if in == nil {
		return
	}
	switch in["state"] {
	case "error", "failure", "pending", "success":
	default:
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed")
		return
	}
	f.mu.Lock()
	f.Status[r.PathValue("sha")] = append(f.Status[r.PathValue("sha")], in)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"id": 1, "state": in["state"], "description": in["description"], "context": in["context"], "target_url": in["target_url"]})
}

func (f *GitHub) listComments(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	perPage, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	f.mu.Lock()
	all := f.Comments[n]
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	out := append([]*Comment(nil), all[start:end]...)
	last := max(1, (len(all)+perPage-1)/perPage)
	f.mu.Unlock()
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s%s?per_page=%d&page=%d>; rel="%s"`, f.Srv.URL, r.URL.Path, perPage, p, rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(out)
}

// commentBody decodes a comment's {body}, refusing one over the documented 65,536
// characters; nil when it answered an error.
func (f *GitHub) commentBody(w http.ResponseWriter, r *http.Request) map[string]string {
	in := f.decode(w, r)
	if in != nil && len([]rune(in["body"])) > 65536 {
		ghError(w, http.StatusUnprocessableEntity, "Body is too long (maximum is 65536 characters)")
		return nil
	}
	return in
}

func (f *GitHub) createComment(w http.ResponseWriter, r *http.Request) {
	in := f.commentBody(w, r)
	if in == nil {
		return
	}
	n, _ := strconv.Atoi(r.PathValue("n"))
	f.mu.Lock()
	f.nextID++
	c := &Comment{ID: f.nextID, Body: in["body"]}
	c.User = f.Me
	f.Comments[n] = append(f.Comments[n], c)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(c)
}

func (f *GitHub) updateComment(w http.ResponseWriter, r *http.Request) {
	in := f.commentBody(w, r)
	if in == nil {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cs := range f.Comments {
		for _, c := range cs {
			if c.ID == id {
				if c.User != f.Me {
					// The token's user may not edit it (no admin or maintain role).
					ghError(w, http.StatusForbidden, "Resource not accessible by personal access token")
					return
				}
				c.Body = in["body"]
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				json.NewEncoder(w).Encode(c)
				return
			}
		}
	}
	ghError(w, http.StatusNotFound, "Not Found")
}

// Ours returns the comments on issue n that carry the marker and that the token's user
// wrote.
func (f *GitHub) Ours(n int, marker string) []*Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*Comment
	for _, c := range f.Comments[n] {
		if strings.HasPrefix(c.Body, marker) && c.User == f.Me {
			out = append(out, c)
		}
	}
	return out
}

func (f *GitHub) CallCount(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.Calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// StatusesOf returns the commit statuses set on sha, oldest first.
func (f *GitHub) StatusesOf(sha string) []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.Status[sha]...)
}
