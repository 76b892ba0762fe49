package policy

import "fmt"

// Matches reports whether the selector picks the container. A nil selector matches all.
func (s *Selector) Matches(family, container, image string) bool {
	if s == nil {
		return true
	}
	return anyGlob(s.Families, family) && anyGlob(s.Containers, container) && anyGlob(s.Images, image)
}

func anyGlob(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if Glob(p, s) {
			return true
		}
	}
	return false
}

// Select picks the policy for one container from a set: the one selective policy (with
// Match) that matches; else the one fallback policy (without Match); else the built-in
// default. Two selective policies matching the same container is an error, because which
// one wins would depend on file order.
func Select(policies []*Policy, family, container, image string) (*Policy, error) {
	var hit, fallback *Policy
	for _, p := range policies {
		if p.Match == nil {
			if fallback == nil {
				fallback = p
			}
			continue
		}
		if p.Match.Matches(family, container, image) {
			if hit != nil {
				return nil, fmt.Errorf("container %q of family %q is matched by policies %q and %q: narrow one policy's match so that exactly one applies", container, family, hit.Name, p.Name)
			}
			hit = p
		}
	}
	switch {
	case hit != nil:
		return hit, nil
	case fallback != nil:
		return fallback, nil
	}
	return Default(), nil
}
