package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile keeps the Dockerfile and this builder saying the same thing: the two
// targets, their entrypoints, users and paths, reproducible flags and pinned bases. The
// Dockerfile cannot be built here (no engine); this is what can be checked without one.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	stages := map[string]string{} // target -> its text
	var name string
	for _, line := range strings.Split(df, "\n") {
		if m := regexp.MustCompile(`^FROM .* AS (\S+)$`).FindStringSubmatch(line); m != nil {
			name = m[1]
		}
		if name != "" {
			stages[name] += line + "\n"
		}
	}
	for _, want := range []struct{ stage, text string }{
		{"defender", "FROM scratch AS defender\n"},
		{"defender", `COPY --from=build --chmod=0755 /out/taskward-defender /taskward-defender`},
		{"defender", `ENTRYPOINT ["/taskward-defender"]`},
		{"defender", `CMD ["install", "/taskward"]`},
		{"controller", "FROM ${BASE_IMAGE} AS controller\n"},
		{"controller", `COPY --from=build --chmod=0755 /out/taskward /taskward`},
		{"controller", "USER 65532:65532\n"},
		{"controller", "WORKDIR /home/nonroot\n"},
		{"controller", `ENTRYPOINT ["/taskward", "controller"]`},
		{"build", "-trimpath"},
		{"build", "internal/version.Version=${VERSION}"},
		{"build", "internal/version.DefaultDefenderImage=${DEFENDER_IMAGE}"},
	} {
		if !strings.Contains(stages[want.stage], want.text) {
			t.Errorf("Dockerfile target %s: no %q", want.stage, want.text)
		}
	}
	pinned := regexp.MustCompile(`(?m)^ARG (GO_IMAGE|BASE_IMAGE)=(\S+)$`).FindAllStringSubmatch(df, -1)
	if len(pinned) != 2 {
		t.Fatalf("want ARG GO_IMAGE and ARG BASE_IMAGE, got %v", pinned)
	}
	for _, m := range pinned {
		if !regexp.MustCompile(`^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$`).MatchString(m[2]) {
			t.Errorf("%s=%s: not pinned by digest (NAME:TAG@sha256:...)", m[1], m[2])
		}
	}
	if !strings.Contains(pinned[1][2], "distroless/static") || !strings.Contains(pinned[1][2], ":nonroot@") {
		t.Errorf("BASE_IMAGE=%s: want distroless/static:nonroot", pinned[1][2])
	}
	for _, line := range strings.Split(df, "\n") {
		if strings.HasPrefix(line, "FROM ") && !strings.Contains(line, "${") && !strings.HasPrefix(line, "FROM scratch") {
			t.Errorf("%q: base images go through the pinned ARGs", line)
		}
	}
}
