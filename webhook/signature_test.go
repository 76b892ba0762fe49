package webhook

import (
	"strings"
	"testing"
)

// GitHub's documented test values (docs.github.com, "Validating webhook deliveries",
// "Testing the webhook payload validation").
const (
	githubDocSecret    = "It's a Secret to Everybody"
	githubDocPayload   = "Hello, World!"
	githubDocSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestGitHubSignatureDocumentedVector(t *testing.T) {
	if got := SignGitHub([]byte(githubDocSecret), []byte(githubDocPayload)); got != githubDocSignature {
		t.Fatalf("SignGitHub = %s, want %s", got, githubDocSignature)
	}
	if !VerifyGitHubSignature([]byte(githubDocSecret), []byte(githubDocPayload), githubDocSignature) {
		t.Fatal("documented signature does not verify")
	}
}

func TestGitHubSignatureRejects(t *testing.T) {
	secret, body := []byte(githubDocSecret), []byte(githubDocPayload)
	flip := []byte(githubDocSignature)
	flip[len(flip)-1] = '0'
	for name, tc := range map[string]struct {
		secret, body []byte
		header       string
	}{
		"empty header":         {secret, body, ""},
		"sha1 header":          {secret, body, "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6"},
		"no prefix":            {secret, body, strings.TrimPrefix(githubDocSignature, "sha256=")},
		"upper-case prefix":    {secret, body, "SHA256=" + strings.TrimPrefix(githubDocSignature, "sha256=")},
		"last digit changed":   {secret, body, string(flip)},
		"truncated":            {secret, body, githubDocSignature[:40]},
		"not hex":              {secret, body, "sha256=" + strings.Repeat("zz", 32)},
		"body changed":         {secret, []byte("Hello, World?"), githubDocSignature},
		"trailing newline":     {secret, []byte(githubDocPayload + "\n"), githubDocSignature},
		"other secret":         {[]byte("It's a Secret to Nobody"), body, githubDocSignature},
		"empty secret":         {nil, body, SignGitHub(nil, body)},
		"signature plus extra": {secret, body, githubDocSignature + "00"},
	} {
		if VerifyGitHubSignature(tc.secret, tc.body, tc.header) {
			t.Errorf("%s: verified, want rejected", name)
		}
	}
}

func TestGitLabToken(t *testing.T) {
	// GitLab sends the webhook's secret token verbatim in X-Gitlab-Token (docs.gitlab.com,
	// "Validate payloads by using a secret token"); there is no signature over the body.
	token := []byte("glwht-8c5c2d7f0a1e")
	if !VerifyGitLabToken(token, "glwht-8c5c2d7f0a1e") {
		t.Fatal("right token refused")
	}
	for _, h := range []string{"", "glwht-8c5c2d7f0a1", "glwht-8c5c2d7f0a1e ", "GLWHT-8C5C2D7F0A1E", "glwht-8c5c2d7f0a1e\n"} {
		if VerifyGitLabToken(token, h) {
			t.Errorf("token %q accepted", h)
		}
	}
	if VerifyGitLabToken(nil, "") {
		t.Error("empty token accepted an empty header")
	}
}
