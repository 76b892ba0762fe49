package manifests

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/ecs/schemas"

	"github.com/taskward/taskward/internal/ojson"
)

// ServicesDir holds one service per file, in the shape `aws ecs create-service
// --cli-input-json` takes.
const ServicesDir = "services"

// createServiceSchema is the SDK's model of CreateService's input: a service file is
// checked against it as a task definition file is against RegisterTaskDefinition's.
var createServiceSchema = schemas.CreateServiceRequest

var serviceNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// ServiceDef is one service of the repo: CreateService input, every field in its
// original order.
type ServiceDef struct {
	Path string
	Name string // serviceName
	// Cluster is the file's "cluster", or "" for every cluster of taskward.yaml.
	Cluster string
	// Family is the task definition family the service runs ("taskDefinition" names a
	// family of the repo, not a revision: taskward picks the revision).
	Family string
	Doc    *ojson.Value
}

// ParseServiceDef parses and validates one service file against the SDK's CreateService
// model: unknown fields (with the closest known one), types, enum values, with line and
// column. Problems include warnings; the ServiceDef is nil when there are errors.
func ParseServiceDef(path string, src []byte) (*ServiceDef, Problems) {
	var probs Problems
	c := &collector{file: path, src: src, out: &probs}
	if len(src) > MaxTaskFileBytes {
		c.add(-1, "", "file is %d bytes; a service file is at most %d KiB", len(src), MaxTaskFileBytes>>10)
		return nil, probs
	}
	doc := parseObject(c, src, "aws ecs create-service --cli-input-json")
	if doc == nil {
		return nil, probs
	}
	checkSchema(c, doc, createServiceSchema, "")
	name := doc.Get("serviceName")
	switch {
	case name == nil || name.IsNull():
		c.add(doc.Offset, "serviceName", "required: the service's name")
	case name.Kind == ojson.String && !serviceNameRE.MatchString(name.Str):
		c.add(name.Offset, "serviceName", "%q: up to 255 letters, digits, hyphens and underscores", name.Str)
	}
	td := doc.Get("taskDefinition")
	switch {
	case td == nil || td.IsNull():
		c.add(doc.Offset, "taskDefinition", "required: the family of a task definition in tasks/")
	case td.Kind == ojson.String && !familyRE.MatchString(td.Str):
		c.add(td.Offset, "taskDefinition", "%q: name the family (\"web\"), not a revision or ARN: taskward registers the revisions and picks the one to run", td.Str)
	}
	if n := doc.Get("desiredCount"); n != nil && n.Kind == ojson.Number && len(n.Num) > 0 && n.Num[0] == '-' {
		c.add(n.Offset, "desiredCount", "must be 0 or more, got %s", n.Num)
	}
	if len(probs.Errors()) > 0 {
		return nil, probs
	}
	return &ServiceDef{Path: path, Name: name.Str, Cluster: doc.Get("cluster").StringOr(""), Family: td.Str, Doc: doc}, probs
}

// checkServices reports services naming a family the repo does not have, and two files
// for one service in one cluster.
func checkServices(repo *Repo) Problems {
	var probs Problems
	fams := map[string]bool{}
	for _, td := range repo.Tasks {
		fams[td.Family] = true
	}
	seen := map[string]string{}
	for _, s := range repo.Services {
		if !fams[s.Family] {
			probs = append(probs, &Problem{File: s.Path, Path: "taskDefinition", Msg: fmt.Sprintf("family %q is not in tasks/: a service in Git runs a task definition in Git", s.Family)})
		}
		key := s.Cluster + "/" + s.Name
		if other, dup := seen[key]; dup {
			probs = append(probs, &Problem{File: s.Path, Path: "serviceName", Msg: fmt.Sprintf("service %q is also defined in %s", s.Name, other)})
			continue
		}
		seen[key] = s.Path
	}
	return probs
}
