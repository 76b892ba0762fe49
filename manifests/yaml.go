package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/taskward/taskward/internal/didyoumean"
)

// decodeYAMLDocs decodes every document of a YAML file into a new value made by newT,
// strictly: unknown keys get a did-you-mean with their line, wrong types name the field.
// It returns every document that decoded.
func decodeYAMLDocs[T any](c *collector, src []byte) []*T {
	var out []*T
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			line, msg := yamlErrLine(err)
			*c.out = append(*c.out, &Problem{File: c.file, Line: line, Col: 1, Msg: "invalid YAML: " + msg})
			return out
		}
		if len(node.Content) == 0 {
			continue
		}
		root := node.Content[0]
		var v T
		// Unknown keys are reported, and the document is still decoded and validated so
		// that one run reports every problem.
		checkYAMLKeys(c, root, reflect.TypeOf(v), "")
		if err := root.Decode(&v); err != nil {
			line, msg := yamlErrLine(err)
			*c.out = append(*c.out, &Problem{File: c.file, Line: line, Col: 1, Msg: msg})
			continue
		}
		out = append(out, &v)
	}
}

var yamlLineRE = regexp.MustCompile(`line (\d+): `)

// yamlErrLine pulls the first line number out of a yaml.v3 error and rewrites Go type
// names into words a user knows.
func yamlErrLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = yamlLineRE.ReplaceAllString(msg, "")
	}
	r := strings.NewReplacer("into []string", "into a list of strings", "into string", "into a string",
		"into policy.Effect", "into an effect (block, alert or off)", "into bool", "into true/false")
	return line, r.Replace(msg)
}

// checkYAMLKeys reports mapping keys that t (a struct, possibly behind pointers, maps and
// slices) has no yaml field for.
func checkYAMLKeys(c *collector, n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Tag != "!!null" {
				addYAML(c, n, path, "must be a mapping of keys to values")
			}
			return
		}
		fields := yamlFields(t)
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				msg := fmt.Sprintf("unknown key %q", k.Value)
				if d := didyoumean.Closest(k.Value, names); d != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", d)
				}
				addYAML(c, k, join(path, k.Value), msg)
				continue
			}
			checkYAMLKeys(c, v, ft, join(path, k.Value))
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, e := range n.Content {
				checkYAMLKeys(c, e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				checkYAMLKeys(c, n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
			}
		}
	}
}

func addYAML(c *collector, n *yaml.Node, path, msg string) {
	*c.out = append(*c.out, &Problem{File: c.file, Line: n.Line, Col: n.Column, Path: path, Msg: msg})
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}
