package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestMakeDemo runs hack/demo.sh (what `make demo` runs) with freshly built binaries, with
// busybox netcat and without: the GitOps half must report its drift and explain every
// term it prints, and the defender half must refuse `apk add curl` with "Permission
// denied" and report it.
func TestMakeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries and runs the demo")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "../taskward", "../taskward-defender")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	modes := []string{"no"}
	if _, err := exec.LookPath("busybox"); err == nil {
		modes = append(modes, "yes")
	} else {
		t.Log("busybox is not installed (hack/install-deps.sh installs it): the netcat path is not run")
	}
	for _, netcat := range modes {
		t.Run("netcat="+netcat, func(t *testing.T) {
			cmd := exec.Command("bash", "../../hack/demo.sh")
			cmd.Env = append(os.Environ(), "BIN="+bin, "DEMO_NETCAT="+netcat)
			outb, err := cmd.CombinedOutput()
			out := string(outb)
			if err != nil {
				t.Fatalf("demo.sh: %v\n%s", err, out)
			}
			gitops, defender, ok := strings.Cut(out, "== 2.")
			if !ok {
				t.Fatalf("no defender part:\n%s", out)
			}
			legend := gitops[strings.Index(gitops, "What the lines above mean:"):]
			// Every term the report prints is explained: the version, the sync states,
			// the drift kinds, a family:revision.
			version := regexp.MustCompile(`at (dir:[0-9a-f]{12})`).FindStringSubmatch(gitops)
			if version == nil || !strings.Contains(legend, "  "+version[1]+"   ") {
				t.Errorf("the repo version is not explained (found %v):\n%s", version, legend)
			}
			for _, term := range regexp.MustCompile(`(?m)^\s+(out-of-sync|unprotected|unmanaged)\s`).FindAllStringSubmatch(gitops, -1) {
				if !strings.Contains(legend, "  "+term[1]+" ") {
					t.Errorf("drift kind %q is printed but not explained", term[1])
				}
			}
			for _, state := range []string{"Synced", "OutOfSync", "drift:"} {
				if !strings.Contains(legend, state) {
					t.Errorf("%q is not explained", state)
				}
			}
			if !regexp.MustCompile(`runs cache:\d`).MatchString(gitops) || !strings.Contains(legend, "cache:2") {
				t.Errorf("family:revision is not explained")
			}
			if !strings.Contains(defender, "apk: Permission denied") || !strings.Contains(defender, "(exit status 126)") || strings.Contains(defender, "apk ran") {
				t.Errorf("apk add curl was not refused:\n%s", defender)
			}
			if !regexp.MustCompile(`"action":"blocked","rule":"packageManagers".*"argv":\["apk","add","curl"\]`).MatchString(defender) {
				t.Errorf("no blocked event for apk:\n%s", defender)
			}
			if netcat == "yes" && !strings.Contains(defender, `"rule":"reverseShell"`) {
				// The defender's own tests (TestSeedDemo) hold it to this; the demo only shows it.
				t.Logf("no reverseShell alert in this run:\n%s", defender)
			}
		})
	}
}
