package main

import (
	"strings"
	"testing"
)

// TestControllerRefusesTokenInQuery: a token in the repo URL's query string (GitLab's
// ?private_token=) would be shown with the URL on /status, the status page and in logs.
// The controller refuses the URL, and its error does not repeat the token.
func TestControllerRefusesTokenInQuery(t *testing.T) {
	const tok = "glpat-0123456789abcdefghij"
	for _, u := range []string{
		"https://gitlab.example.com/g/r.git?private_token=" + tok,
		"https://gitlab.example.com/g/r.git?ref=main&x=" + tok,
	} {
		code, stdout, stderr := runCmd(t, "", "controller", "--once", "--ecs", "local", "--repo", u)
		if code == 0 || !strings.Contains(stderr, "query string") {
			t.Fatalf("controller --repo %s: exit %d, stderr %q; want a refusal naming the query string", u, code, stderr)
		}
		if strings.Contains(stdout+stderr, tok) {
			t.Fatalf("the token is shown:\n%s%s", stdout, stderr)
		}
	}
}
