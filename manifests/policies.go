package manifests

import (
	"github.com/taskward/taskward/policy"
)

// ParsePolicies parses a policies/*.yaml file: one or more YAML documents, each a policy.
func ParsePolicies(file string, src []byte) ([]*policy.Policy, Problems) {
	var probs Problems
	c := &collector{file: file, out: &probs}
	docs := decodeYAMLDocs[policy.Policy](c, src)
	var out []*policy.Policy
	for _, p := range docs {
		if err := p.Validate(); err != nil {
			for _, e := range splitJoined(err) {
				c.add(-1, "", "policy %q: %v", p.Name, e)
			}
			continue
		}
		out = append(out, p)
	}
	return out, probs
}

// splitJoined undoes errors.Join so that each problem is reported on its own.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
