package main

import (
	"flag"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

var updateDeps = flag.Bool("update-deps", false, "rewrite depaware.txt from go list -deps")

// depArchs are the architectures the defender image ships for.
var depArchs = []string{"amd64", "arm64"}

// TestDeps is the defender's dependency allow-list (STYLE.md rule 8, after tailscale's
// depaware): depaware.txt is every package cmd/taskward-defender links, standard library
// included, with the architectures that link it when not all do. The binary travels into
// every task, so a new import must show up as a reviewed diff of that file:
//
//	go test ./cmd/taskward-defender -run TestDeps -update-deps
//
// Some packages may never be on the list, -update-deps or not: the controller's heavy
// dependencies, cgo, and the testing package.
func TestDeps(t *testing.T) {
	byPkg := map[string][]string{}
	for _, goarch := range depArchs {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (%s): %v", goarch, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			byPkg[dep] = append(byPkg[dep], goarch)
		}
	}
	var lines []string
	for pkg, archs := range byPkg {
		for _, bad := range []string{"github.com/aws/", "github.com/go-git/", "github.com/robfig/cron", "github.com/hashicorp/go-retryablehttp", "testing", "runtime/cgo"} {
			if pkg == bad || strings.HasPrefix(pkg, strings.TrimSuffix(bad, "/")+"/") {
				t.Errorf("taskward-defender links %s (%s), which it must never link (%s)", pkg, strings.Join(archs, ", "), bad)
			}
		}
		if len(archs) < len(depArchs) {
			pkg += " [" + strings.Join(archs, " ") + "]"
		}
		lines = append(lines, pkg)
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"
	if *updateDeps {
		if err := os.WriteFile("depaware.txt", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile("depaware.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for _, l := range lines {
		if !slices.Contains(want, l) {
			t.Errorf("new dependency %q: not in depaware.txt; if it belongs in every task, run go test ./cmd/taskward-defender -run TestDeps -update-deps and have the diff reviewed", l)
		}
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("depaware.txt lists %q, which is no longer linked: run go test ./cmd/taskward-defender -run TestDeps -update-deps", w)
		}
	}
}

// TestVetsOnDarwin: a developer's Mac builds and vets the CLI and the controller with ./...,
// so the defender's Linux-only code and its container tests carry linux build constraints
// (file names or //go:build lines); this catches a new file that forgets its constraint.
func TestVetsOnDarwin(t *testing.T) {
	cmd := exec.Command("go", "vet", ".", "../../defender")
	cmd.Env = append(cmd.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=darwin go vet: %v\n%s\nadd //go:build linux (or a _linux file name) to the file named above", err, out)
	}
}
