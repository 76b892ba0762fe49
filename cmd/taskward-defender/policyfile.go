package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/taskward/taskward/policy"
)

var unknownFieldRE = regexp.MustCompile(`field (\S+) not found in type \S+`)

// parsePolicyFile parses the file given to `run --policy`: the JSON that taskward renders
// into TASKWARD_POLICY, or a policy file as users write them in a GitOps repo's
// policies/ (YAML, one document). A YAML file is decoded strictly (an unknown key is an
// error with its line) and validated as taskward validate would; its `match` is ignored,
// since the file names the policy to run.
func parsePolicyFile(file string, b []byte) (*policy.Policy, error) {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		p, err := policy.ParseJSON(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return p, nil
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("%s: %d bytes: a policy file is at most 1 MiB", file, len(b))
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var docs []*policy.Policy
	for {
		var p policy.Policy
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "yaml: "), "unmarshal errors:\n  ")
			msg = unknownFieldRE.ReplaceAllString(msg, `unknown key "$1"`)
			return nil, fmt.Errorf("%s: not a policy (JSON or YAML): %s", file, msg)
		}
		docs = append(docs, &p)
	}
	switch len(docs) {
	case 0:
		return nil, fmt.Errorf("%s: no policy in the file", file)
	case 1:
	default:
		names := make([]string, len(docs))
		for i, p := range docs {
			names[i] = p.Name
		}
		return nil, fmt.Errorf("%s: holds %d policies (%s): the defender runs one; put it in a file of its own", file, len(docs), strings.Join(names, ", "))
	}
	p := docs[0]
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: policy %q: %w", file, p.Name, err)
	}
	return p.Resolved(), nil
}
