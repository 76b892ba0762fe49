package manifests

import (
	"bytes"

	"go.yaml.in/yaml/v3"

	"github.com/taskward/taskward/internal/ojson"
)

// ToYAML encodes a JSON tree as YAML, keeping member order and number text.
func ToYAML(v *ojson.Value) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(yamlNode(v)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func yamlNode(v *ojson.Value) *yaml.Node {
	if v == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	switch v.Kind {
	case ojson.Null:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case ojson.Bool:
		s := "false"
		if v.Bool {
			s = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: s}
	case ojson.Number:
		tag := "!!int"
		for _, c := range v.Num {
			if c == '.' || c == 'e' || c == 'E' {
				tag = "!!float"
			}
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v.Num}
	case ojson.String:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.Str}
	case ojson.Array:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v.Arr {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, m := range v.Obj {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: m.Key}, yamlNode(m.Value))
	}
	return n
}
