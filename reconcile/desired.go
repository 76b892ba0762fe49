package reconcile

import "github.com/taskward/taskward/internal/ojson"

// Desired is one task definition as Git wants it: the rendered RegisterTaskDefinition
// input of one family. [Prepare] builds them from manifests' rendered definitions; Plan
// and Apply need nothing else.
type Desired struct {
	Family     string
	SourcePath string       // repo-relative, e.g. tasks/web.json; recorded in a tag
	Definition *ojson.Value // family, containerDefinitions, ... (register input shape)
	// Service, when set, makes this entry a service in Git (services/*.json) instead of
	// a task definition; Family and SourcePath are the service's.
	Service *DesiredService
}
