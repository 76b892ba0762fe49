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

// yamlDoc is one decoded document of a YAML file.
type yamlDoc[T any] struct {
	v *T
	// pos locates each path of the document, for problems found after decoding.
	pos map[string]*yaml.Node
	// broken: a value has the wrong shape (reported); v holds what did decode, so that
	// validation can still report the document's other problems, but it must not be used.
	broken bool
}

// decodeYAMLDocs decodes every document of a YAML file into a new T, strictly: unknown
// keys get a did-you-mean with their line, values of the wrong shape (a string where a
// list goes, say) are reported at their line and column with their whole value and path.
func decodeYAMLDocs[T any](c *collector, src []byte) []yamlDoc[T] {
	var out []yamlDoc[T]
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
		if msg := yamlTooBig(root); msg != "" {
			*c.out = append(*c.out, &Problem{File: c.file, Line: root.Line, Col: root.Column, Msg: msg})
			continue
		}
		var v T
		// Unknown keys and wrong shapes are reported, and the document is still decoded
		// and validated so that one run reports every problem.
		before := len(*c.out)
		pos := map[string]*yaml.Node{}
		checkYAMLKeys(c, root, reflect.TypeOf(v), "", pos)
		shapeErrs := false
		for _, p := range (*c.out)[before:] {
			shapeErrs = shapeErrs || !p.Warning
		}
		if err := root.Decode(&v); err != nil && !shapeErrs {
			// A mistake checkYAMLKeys does not know; yaml.v3's words, made plainer.
			line, msg := yamlErrLine(err)
			*c.out = append(*c.out, &Problem{File: c.file, Line: line, Col: 1, Msg: msg})
			shapeErrs = true
		}
		out = append(out, yamlDoc[T]{v: &v, pos: pos, broken: shapeErrs})
	}
}

// Bounds on one YAML document, checked before it is decoded: a policy or taskward.yaml
// from a pull request is an attacker's input, and aliases let 1 KiB stand for billions of
// values ("billion laughs").
const (
	// MaxYAMLNodes is the most values a document may hold once its aliases are expanded.
	MaxYAMLNodes = 100_000
	// MaxYAMLDepth is how deeply lists and mappings may nest.
	MaxYAMLDepth = 64
)

// yamlTooBig says why a document is refused, or "". It sizes the document with aliases
// expanded, each anchored value sized once (linear in the document's text).
func yamlTooBig(root *yaml.Node) string {
	sizes := map[*yaml.Node]int{}
	var size func(n *yaml.Node, depth int) (int, string)
	size = func(n *yaml.Node, depth int) (int, string) {
		if depth > MaxYAMLDepth {
			return 0, fmt.Sprintf("lists and mappings nested deeper than %d levels at line %d: taskward reads at most that", MaxYAMLDepth, n.Line)
		}
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return 1, ""
			}
			n = n.Alias
		}
		if s, ok := sizes[n]; ok {
			if s < 0 { // an anchor that contains itself
				return 0, fmt.Sprintf("an alias at line %d refers to the value that contains it", n.Line)
			}
			return s, ""
		}
		sizes[n] = -1
		total := 1
		for _, k := range n.Content {
			s, msg := size(k, depth+1)
			if msg != "" {
				return 0, msg
			}
			if total += s; total > MaxYAMLNodes {
				return 0, fmt.Sprintf("the document's aliases expand to more than %d values (an alias bomb?): taskward reads at most that; write the values out or use fewer aliases", MaxYAMLNodes)
			}
		}
		sizes[n] = total
		return total, ""
	}
	_, msg := size(root, 0)
	return msg
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
// slices) has no yaml field for, and values whose shape t cannot take. It records each
// path's node in pos.
func checkYAMLKeys(c *collector, n *yaml.Node, t reflect.Type, path string, pos map[string]*yaml.Node) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" {
		pos[path] = n
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // absent
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			addYAML(c, n, path, fmt.Sprintf("must be a mapping of keys to values (key: value on the lines below, indented), got %s", yamlShape(n)))
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
			checkYAMLKeys(c, v, ft, join(path, k.Value), pos)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			fix := "a list: [a, b] or one \"- item\" per line"
			if n.Kind == yaml.ScalarNode {
				fix = fmt.Sprintf("a list, even of one: [%s]", yamlQuote(n.Value))
			}
			addYAML(c, n, path, fmt.Sprintf("must be %s; got %s", fix, yamlShape(n)))
			return
		}
		for i, e := range n.Content {
			checkYAMLKeys(c, e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pos)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			addYAML(c, n, path, fmt.Sprintf("must be a mapping of keys to values, got %s", yamlShape(n)))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			checkYAMLKeys(c, n.Content[i+1], t.Elem(), p, pos)
			pos[p] = n.Content[i] // a map's entry is named by its key: locate it there
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			addYAML(c, n, path, fmt.Sprintf("must be a single value, got %s", yamlShape(n)))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			addYAML(c, n, path, fmt.Sprintf("must be true or false, got %s", yamlShape(n)))
		}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			addYAML(c, n, path, fmt.Sprintf("must be a whole number, got %s", yamlShape(n)))
		}
	}
}

// yamlShape describes what a node holds, with a scalar's whole value.
func yamlShape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return fmt.Sprintf("%q", n.Value)
}

// yamlQuote writes s as a YAML flow scalar, quoted when it must be.
func yamlQuote(s string) string {
	if s == "" || strings.ContainsAny(s, ",[]{}:#&*!|>'\"%@` ") {
		return strconv.Quote(s)
	}
	return s
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
