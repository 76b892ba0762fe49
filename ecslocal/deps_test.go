package ecslocal

import (
	"go/build"
	"strings"
	"testing"
)

// ecslocal implements ECS on its own (DESIGN.md): if it shared code with the differ,
// a bug in that code would agree with itself and every end-to-end test would pass.
func TestDoesNotImportTaskwardPackages(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/taskward/taskward/") {
			t.Errorf("ecslocal imports %s; it must stay independent of taskward's packages", imp)
		}
	}
}
