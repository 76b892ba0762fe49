package deploycheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// root is the module's root directory.
const root = "../.."

// tool finds a command in PATH or in GOPATH/bin (where hack/install-deps.sh puts Go-built
// tools). In CI (CI set) a missing tool fails the test; elsewhere it skips it.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found (CI installs it: %s)", name, install)
	}
	t.Skipf("%s not found: %s (make deps)", name, install)
	return ""
}

var taskwardBin struct {
	once sync.Once
	path string
	dir  string
	err  error
}

// taskward builds cmd/taskward once per test binary and returns its path.
func taskward(t *testing.T) string {
	t.Helper()
	taskwardBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "deploycheck-")
		if err != nil {
			taskwardBin.err = err
			return
		}
		taskwardBin.dir = dir
		taskwardBin.path = filepath.Join(dir, "taskward")
		cmd := exec.Command("go", "build", "-o", taskwardBin.path, "./cmd/taskward")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			taskwardBin.err = &exec.Error{Name: "go build ./cmd/taskward: " + string(out), Err: err}
		}
	})
	if taskwardBin.err != nil {
		t.Fatal(taskwardBin.err)
	}
	return taskwardBin.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if taskwardBin.dir != "" {
		os.RemoveAll(taskwardBin.dir)
	}
	os.Exit(code)
}

// controllerFlags returns the flags `taskward controller` has, from its own help.
func controllerFlags(t *testing.T) map[string]bool {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(taskward(t), "help", "controller")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("taskward help controller: %v\n%s", err, stderr.String())
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`).FindAllStringSubmatch(stderr.String(), -1) {
		flags[m[1]] = true
	}
	if !flags["repo"] || !flags["listen"] {
		t.Fatalf("taskward help controller: could not read the flags:\n%s", stderr.String())
	}
	return flags
}
