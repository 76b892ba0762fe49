package policy

import (
	"fmt"
	"strings"
)

// ImageRef is an image reference split into the parts trusted-image rules match.
type ImageRef struct {
	Registry   string // docker.io when the reference names none
	Repository string // library/NAME for an official Docker Hub image
	Tag        string // latest when neither tag nor digest is given
	Digest     string // algorithm:hex, or empty
}

// String returns the normalized reference.
func (r ImageRef) String() string {
	s := r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// ParseImageRef parses a container image reference the way Docker does: the first path
// component is a registry when it contains a '.' or ':' or is "localhost".
func ParseImageRef(s string) (ImageRef, error) {
	var r ImageRef
	if s == "" {
		return r, fmt.Errorf("empty image reference")
	}
	if strings.ContainsAny(s, " \t\n\r") {
		return r, fmt.Errorf("image reference %q contains whitespace", s)
	}
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest = rest[i+1:]
		rest = rest[:i]
		alg, hex, ok := strings.Cut(r.Digest, ":")
		if !ok || alg == "" || hex == "" {
			return r, fmt.Errorf("image reference %q: digest must be ALGORITHM:HEX", s)
		}
	}
	// A tag follows the last ':' that comes after the last '/'.
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		r.Tag = rest[i+1:]
		rest = rest[:i]
		if r.Tag == "" {
			return r, fmt.Errorf("image reference %q: empty tag", s)
		}
	}
	first, remainder, hasSlash := strings.Cut(rest, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Registry, r.Repository = first, remainder
	} else {
		r.Registry, r.Repository = "docker.io", rest
	}
	if r.Registry == "index.docker.io" || r.Registry == "registry-1.docker.io" {
		r.Registry = "docker.io"
	}
	if r.Registry == "docker.io" && !strings.Contains(r.Repository, "/") {
		r.Repository = "library/" + r.Repository
	}
	if r.Repository == "" || strings.HasPrefix(r.Repository, "/") || strings.HasSuffix(r.Repository, "/") || strings.Contains(r.Repository, "//") {
		return r, fmt.Errorf("image reference %q: bad repository path", s)
	}
	if r.Repository != strings.ToLower(r.Repository) {
		return r, fmt.Errorf("image reference %q: repository must be lower case", s)
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// Matches reports whether the rule trusts ref.
func (rule ImageRule) Matches(ref ImageRef) bool {
	return globOrAny(rule.Registry, ref.Registry) &&
		globOrAny(rule.Repository, ref.Repository) &&
		globOrAny(rule.Tag, ref.Tag) &&
		globOrAny(rule.Digest, ref.Digest)
}

func (rule ImageRule) empty() bool {
	return rule.Registry == "" && rule.Repository == "" && rule.Tag == "" && rule.Digest == ""
}

func globOrAny(pattern, s string) bool { return pattern == "" || Glob(pattern, s) }

// TrustImage decides whether image may be used. With no rules every image is trusted
// (Effect Off). Otherwise an image no rule matches gets the trustedImages effect.
// The policy must be Resolved.
func (p *Policy) TrustImage(image string) (Decision, error) {
	ref, err := ParseImageRef(image)
	if err != nil {
		return Decision{}, err
	}
	if len(p.TrustedImages.Rules) == 0 {
		return Decision{Effect: Off, Rule: RuleTrustedImages, Reason: "no trusted-image rules: every image is trusted"}, nil
	}
	for i, r := range p.TrustedImages.Rules {
		if r.Matches(ref) {
			return Decision{Effect: Off, Rule: RuleTrustedImages, Reason: fmt.Sprintf("trusted by rule %d", i)}, nil
		}
	}
	return Decision{
		Effect: p.TrustedImages.Effect,
		Rule:   RuleTrustedImages,
		Reason: fmt.Sprintf("image %s matches no trusted-image rule of policy %q", ref, p.Name),
	}, nil
}
