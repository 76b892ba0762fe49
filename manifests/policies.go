package manifests

import (
	"strings"

	"github.com/taskward/taskward/policy"
)

// ParsePolicies parses a policies/*.yaml file: one or more YAML documents, each a policy.
func ParsePolicies(file string, src []byte) ([]*policy.Policy, Problems) {
	var probs Problems
	c := &collector{file: file, out: &probs}
	docs := decodeYAMLDocs[policy.Policy](c, src)
	var out []*policy.Policy
	for _, d := range docs {
		c.yamlPos = d.pos
		if err := d.v.Validate(); err != nil {
			for _, e := range splitJoined(err) {
				// Validate names the field first ("processes.effect: ..."): put the
				// problem at that field's line.
				path, msg, ok := strings.Cut(e.Error(), ": ")
				if !ok || strings.ContainsAny(path, " \"") {
					c.add(-1, "", "policy %q: %s", d.v.Name, e.Error())
					continue
				}
				c.add(-1, path, "%s (policy %q)", msg, d.v.Name)
			}
			continue
		}
		if !d.broken {
			out = append(out, d.v)
		}
	}
	c.yamlPos = nil
	return out, probs
}

// splitJoined undoes errors.Join so that each problem is reported on its own.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
