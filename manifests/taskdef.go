package manifests

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs/schemas"

	"github.com/taskward/taskward/internal/ojson"
)

// ECS limits (Amazon ECS service quotas and RegisterTaskDefinition validation).
const (
	MaxContainers    = 10
	MaxTaskDefSize   = 64 << 10 // bytes of the JSON request
	MaxTaskFileBytes = 1 << 20  // refuse to even parse larger files
)

var (
	familyRE        = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)
	containerNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)
)

// TaskDef is one task definition of the repo, reduced to RegisterTaskDefinition input.
type TaskDef struct {
	// Path is where it came from (repo-relative for a repo, as given for a single file).
	Path string
	// Family is the task definition family.
	Family string
	// Doc is the RegisterTaskDefinition input, every field in its original order.
	Doc *ojson.Value
	// Dropped lists the read-only fields removed from a DescribeTaskDefinition output.
	Dropped []string
}

// serverFields are what DescribeTaskDefinition returns but RegisterTaskDefinition does not
// take (taskDefinitionArn, revision, status, requiresAttributes, compatibilities,
// registeredAt/By, deregisteredAt, ...): computed from the SDK model, not listed by hand.
var serverFields = func() map[string]bool {
	out := map[string]bool{}
	for name := range schemas.TaskDefinition.Members() {
		if registerSchema.Member(name) == nil {
			out[name] = true
		}
	}
	return out
}()

// ParseTaskDef parses and validates one task definition file. It accepts the
// register-task-definition input shape and a DescribeTaskDefinition output (its
// "taskDefinition" wrapper, a sibling "tags" list, and the read-only fields are reduced
// away). Problems include warnings; the TaskDef is nil when there are errors.
func ParseTaskDef(path string, src []byte) (*TaskDef, Problems) {
	var probs Problems
	c := &collector{file: path, src: src, out: &probs}
	if len(src) > MaxTaskFileBytes {
		c.add(-1, "", "file is %d bytes; a task definition is at most %d KiB", len(src), MaxTaskDefSize>>10)
		return nil, probs
	}
	doc := parseObject(c, src, "a task definition")
	if doc == nil {
		return nil, probs
	}
	td := &TaskDef{Path: path}
	doc = td.unwrap(c, doc)
	for _, k := range doc.Keys() {
		if serverFields[k] {
			td.Dropped = append(td.Dropped, k)
		}
	}
	for _, k := range td.Dropped {
		doc.Delete(k)
	}
	td.Doc = doc
	checkSchema(c, doc, registerSchema, "")
	checkTaskDef(c, doc)
	if len(probs.Errors()) > 0 {
		return nil, probs
	}
	td.Family = doc.Get("family").Str
	return td, probs
}

// unwrap reduces a DescribeTaskDefinition output to its task definition, merging the
// output's sibling "tags" into the definition's tags.
func (td *TaskDef) unwrap(c *collector, doc *ojson.Value) *ojson.Value {
	inner := doc.Get("taskDefinition")
	if inner == nil || inner.Kind != ojson.Object {
		return doc
	}
	for _, k := range doc.Keys() {
		switch k {
		case "taskDefinition":
		case "tags":
			tags := doc.Get("tags")
			if tags.IsNull() {
				continue
			}
			if inner.Has("tags") && !inner.Get("tags").IsNull() {
				c.add(tags.Offset, "tags", "tags given both beside and inside \"taskDefinition\": keep one list")
				continue
			}
			inner.Set("tags", tags)
		default:
			c.add(doc.Get(k).Offset, k, "unknown field beside \"taskDefinition\": a DescribeTaskDefinition output has only \"taskDefinition\" and \"tags\"")
		}
	}
	td.Dropped = append(td.Dropped, "taskDefinition (wrapper)")
	return inner
}

// checkTaskDef checks what the schema cannot: required fields, ECS limits and patterns,
// unique names and references between containers and volumes.
func checkTaskDef(c *collector, doc *ojson.Value) {
	fam := doc.Get("family")
	switch {
	case fam.IsNull():
		c.add(doc.Offset, "family", "required: name the task definition family, e.g. \"family\": \"web\"")
	case fam.Kind == ojson.String && !familyRE.MatchString(fam.Str):
		c.add(fam.Offset, "family", "%q must be 1-255 letters, digits, '-' or '_'", fam.Str)
	}
	if size := len(doc.Marshal()); size > MaxTaskDefSize {
		c.add(doc.Offset, "", "task definition is %d bytes as JSON; ECS allows at most %d (64 KiB)", size, MaxTaskDefSize)
	}
	volumes := map[string]bool{}
	if vs := doc.Get("volumes"); vs != nil && vs.Kind == ojson.Array {
		for i, v := range vs.Arr {
			n := v.Get("name")
			if n == nil || n.Kind != ojson.String || n.Str == "" {
				c.add(v.Offset, fmt.Sprintf("volumes[%d].name", i), "required")
				continue
			}
			if volumes[n.Str] {
				c.add(n.Offset, fmt.Sprintf("volumes[%d].name", i), "duplicate volume name %q", n.Str)
			}
			volumes[n.Str] = true
		}
	}
	cds := doc.Get("containerDefinitions")
	if cds.IsNull() || cds.Kind != ojson.Array || len(cds.Arr) == 0 {
		if cds.IsNull() || cds.Kind == ojson.Array {
			c.add(doc.Offset, "containerDefinitions", "required: a task definition needs at least one container")
		}
		return
	}
	if len(cds.Arr) > MaxContainers {
		c.add(cds.Offset, "containerDefinitions", "%d containers; ECS allows at most %d per task definition", len(cds.Arr), MaxContainers)
	}
	names := map[string]bool{}
	var nameList []string
	for i, cd := range cds.Arr {
		p := fmt.Sprintf("containerDefinitions[%d]", i)
		if cd.Kind != ojson.Object {
			continue // the schema check reported it
		}
		n := cd.Get("name")
		switch {
		case n.IsNull() || (n.Kind == ojson.String && n.Str == ""):
			c.add(cd.Offset, p+".name", "required: every container needs a name")
		case n.Kind == ojson.String && !containerNameRE.MatchString(n.Str):
			c.add(n.Offset, p+".name", "%q must be 1-255 letters, digits, '-' or '_'", n.Str)
		case n.Kind == ojson.String && names[n.Str]:
			c.add(n.Offset, p+".name", "duplicate container name %q", n.Str)
		case n.Kind == ojson.String:
			names[n.Str] = true
			nameList = append(nameList, n.Str)
		}
		img := cd.Get("image")
		if img.IsNull() || (img.Kind == ojson.String && strings.TrimSpace(img.Str) == "") {
			c.add(offsetOr(img, cd), p+".image", "required: set the container image (an empty image is usually a CI placeholder not filled in)")
		}
		checkPorts(c, cd, p)
	}
	sort.Strings(nameList)
	known := strings.Join(nameList, ", ")
	ref := func(v *ojson.Value, path, what string) {
		if v == nil || v.Kind != ojson.String || names[v.Str] {
			return
		}
		c.add(v.Offset, path, "%s %q is not a container of this task definition (containers: %s)", what, v.Str, known)
	}
	for i, cd := range cds.Arr {
		p := fmt.Sprintf("containerDefinitions[%d]", i)
		eachObj(cd.Get("dependsOn"), func(j int, d *ojson.Value) {
			ref(d.Get("containerName"), fmt.Sprintf("%s.dependsOn[%d].containerName", p, j), "dependsOn names container")
		})
		eachObj(cd.Get("volumesFrom"), func(j int, d *ojson.Value) {
			ref(d.Get("sourceContainer"), fmt.Sprintf("%s.volumesFrom[%d].sourceContainer", p, j), "volumesFrom names container")
		})
		eachObj(cd.Get("mountPoints"), func(j int, d *ojson.Value) {
			sv := d.Get("sourceVolume")
			if sv != nil && sv.Kind == ojson.String && !volumes[sv.Str] {
				c.add(sv.Offset, fmt.Sprintf("%s.mountPoints[%d].sourceVolume", p, j), "no volume named %q in \"volumes\"", sv.Str)
			}
		})
		if links := cd.Get("links"); links != nil && links.Kind == ojson.Array {
			for j, l := range links.Arr {
				if l.Kind != ojson.String {
					continue
				}
				target, _, _ := strings.Cut(l.Str, ":")
				if !names[target] {
					c.add(l.Offset, fmt.Sprintf("%s.links[%d]", p, j), "link %q names no container of this task definition (containers: %s)", l.Str, known)
				}
			}
		}
		if hc := cd.Get("healthCheck"); hc != nil && hc.Kind == ojson.Object {
			if cmd, ok := hc.Get("command").Strings(); ok && len(cmd) > 0 && cmd[0] != "CMD" && cmd[0] != "CMD-SHELL" {
				c.warn(hc.Get("command").Offset, p+".healthCheck.command", "starts with %q: ECS expects \"CMD\" or \"CMD-SHELL\" first", cmd[0])
			}
		}
	}
	if pc := doc.Get("proxyConfiguration"); pc != nil && pc.Kind == ojson.Object {
		ref(pc.Get("containerName"), "proxyConfiguration.containerName", "proxyConfiguration names container")
	}
}

func checkPorts(c *collector, cd *ojson.Value, p string) {
	eachObj(cd.Get("portMappings"), func(j int, pm *ojson.Value) {
		for _, k := range []string{"containerPort", "hostPort"} {
			v := pm.Get(k)
			if v == nil || v.Kind != ojson.Number {
				continue
			}
			var n int
			if _, err := fmt.Sscan(v.Num, &n); err != nil {
				continue
			}
			lo := 1
			if k == "hostPort" {
				lo = 0 // 0 asks for a dynamic host port in bridge mode
			}
			if n < lo || n > 65535 {
				c.add(v.Offset, fmt.Sprintf("%s.portMappings[%d].%s", p, j, k), "must be %d-65535, got %d", lo, n)
			}
		}
	})
}

// parseObject parses a file that must hold one JSON object (what names it for the error),
// reporting a syntax error at its line and column. nil when it does not.
func parseObject(c *collector, src []byte, what string) *ojson.Value {
	doc, err := ojson.Parse(src)
	if err != nil {
		if se, ok := err.(*ojson.SyntaxError); ok {
			*c.out = append(*c.out, &Problem{File: c.file, Line: se.Line, Col: se.Column, Msg: "invalid JSON: " + se.Msg})
		} else {
			c.add(-1, "", "invalid JSON: %v", err)
		}
		return nil
	}
	if doc.Kind != ojson.Object {
		c.add(doc.Offset, "", "must be a JSON object (%s), got %s", what, describe(doc))
		return nil
	}
	return doc
}

func eachObj(list *ojson.Value, f func(int, *ojson.Value)) {
	if list == nil || list.Kind != ojson.Array {
		return
	}
	for i, e := range list.Arr {
		if e.Kind == ojson.Object {
			f(i, e)
		}
	}
}

func offsetOr(v, parent *ojson.Value) int {
	if v != nil {
		return v.Offset
	}
	return parent.Offset
}
