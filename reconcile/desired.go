package reconcile

import "github.com/taskward/taskward/internal/ojson"

// Desired is one task definition as Git wants it: the rendered RegisterTaskDefinition
// input of one family. manifests produces these; reconcile does not import manifests
// (the layout table in DESIGN.md allows it, but the input is this small on purpose).
type Desired struct {
	Family     string
	SourcePath string       // repo-relative, e.g. tasks/web.json; recorded in a tag
	Definition *ojson.Value // family, containerDefinitions, ... (register input shape)
}
