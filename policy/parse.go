package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// MaxEncodedSize bounds a policy's JSON: it travels in an environment variable of an ECS
// container definition, and a whole task definition may be at most 64 KiB.
const MaxEncodedSize = 16 << 10

// ParseJSON parses a policy as the defender receives it: strict JSON (unknown fields are
// errors), one object, validated. The result is Resolved.
func ParseJSON(b []byte) (*Policy, error) {
	if len(b) > MaxEncodedSize {
		return nil, fmt.Errorf("policy is %d bytes, at most %d are allowed", len(b), MaxEncodedSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("policy: unexpected data after the policy object")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p.Resolved(), nil
}

// Encode returns the compact JSON form of the resolved policy, deterministic for equal
// policies, without the selector (the renderer has already applied it) and the description.
func (p *Policy) Encode() string {
	q := p.Resolved()
	q.Match = nil
	q.Description = "" // for people reading the repo; the defender has no use for it
	b, err := json.Marshal(q)
	if err != nil {
		// Only strings, slices and structs: Marshal cannot fail.
		panic("policy: encode: " + err.Error())
	}
	return string(b)
}

// Validate checks the policy and returns every problem found, each naming its field.
func (p *Policy) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if p.Name == "" {
		add(errors.New("name: required: give the policy a name such as \"web\""))
	} else if !validName(p.Name) {
		add(fmt.Errorf("name: %q must be 1-64 letters, digits, '-', '_' or '.'", p.Name))
	}
	add(p.Processes.Effect.check("processes.effect"))
	add(p.PackageManagers.check("packageManagers"))
	add(p.Drift.check("drift"))
	add(p.Loader.check("loader"))
	add(p.ReverseShell.check("reverseShell"))
	add(p.ExecSessions.check("execSessions"))
	add(p.TrustedImages.Effect.check("trustedImages.effect"))
	for i, pat := range p.Processes.Allow {
		add(checkPattern(fmt.Sprintf("processes.allow[%d]", i), pat))
	}
	for i, pat := range p.Processes.Deny {
		add(checkPattern(fmt.Sprintf("processes.deny[%d]", i), pat))
	}
	if m := p.Match; m != nil {
		for field, list := range map[string][]string{"families": m.Families, "containers": m.Containers, "images": m.Images} {
			for i, pat := range list {
				add(checkPattern(fmt.Sprintf("match.%s[%d]", field, i), pat))
			}
		}
	}
	for i, r := range p.TrustedImages.Rules {
		path := fmt.Sprintf("trustedImages.rules[%d]", i)
		if r.empty() {
			add(fmt.Errorf("%s: empty rule would trust every image: set registry, repository, tag or digest", path))
		}
		for field, pat := range map[string]string{"registry": r.Registry, "repository": r.Repository, "tag": r.Tag, "digest": r.Digest} {
			if pat != "" {
				add(checkPattern(path+"."+field, pat))
			}
		}
	}
	return errors.Join(sortedErrs(errs)...)
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// sortedErrs orders errors by message so that reports are stable across runs.
func sortedErrs(errs []error) []error {
	slices.SortStableFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}
