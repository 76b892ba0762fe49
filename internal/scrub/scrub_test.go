package scrub

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, secret string }{
		{"fetch https://alice:s3cr3t-pass@git.example.com/repo.git failed", "s3cr3t-pass"},
		{"clone https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/x", "ghp_abcdefghijklmnopqrstuvwxyz0123"},
		{"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc", "eyJhbGciOiJIUzI1NiJ9.abc"},
		{"key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"},
		{"DB_PASSWORD=hunter2hunter2 MODE=prod", "hunter2hunter2"},
		{`{"api_key": "abc123def456"}`, "abc123def456"},
		{"https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX", "XXXXXXXXXXXX"},
		{"token glpat-abcdefghijklmnopqrst1234", "glpat-abcdefghijklmnopqrst1234"},
		{"password: hunter2 token: abcdef123 /x/secret: kept", "hunter2"},
		{"spring.datasource.password=hunter2", "hunter2"},
		{"/etc/app/db_password=hunter2", "hunter2"},
		{"fetch https://gitlab.example.com/g/r.git?private_token=glp4t0ken0000 failed", "glp4t0ken0000"},
		{"GET https://s3.example.com/o?X-Amz-Credential=AKIDx&X-Amz-Signature=deadbeefcafe: 403", "deadbeefcafe"},
		{`source "http://git.local/r?sig=s3cr3tsig#frag"`, "s3cr3tsig"},
	} {
		got := String(tc.in)
		if strings.Contains(got, tc.secret) {
			t.Errorf("String(%q) = %q still holds the secret", tc.in, got)
		}
		if !strings.Contains(got, "***") {
			t.Errorf("String(%q) = %q marks nothing", tc.in, got)
		}
	}
	for _, keep := range []string{"tasks/web.json:3:4: family: required", "https://github.com/taskward/taskward", "MODE=prod",
		// A secret's file name followed by the error about it: no word is eaten.
		"open /secrets/git-token: no such file or directory",
		"read /run/secrets/api_key: permission denied",
		"open C:\\secrets\\db-password: access denied"} {
		if got := String(keep); got != keep {
			t.Errorf("String(%q) = %q changed harmless text", keep, got)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("https://u:p@h/x token abcdefghijkl")
	f.Fuzz(func(t *testing.T, s string) {
		once := String(s)
		if String(once) != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, String(once))
		}
	})
}
