package ecslocal

import (
	"slices"
	"strings"
)

// tag is an ECS resource tag.
type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Tag limits from the ECS tagging documentation: at most 50 tags per resource, keys of
// 1-128 and values of 0-256 characters, and the "aws:" prefix reserved for AWS.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

func validateTags(tags []tag) error {
	if len(tags) > maxTags {
		return invalidParam("Too many tags: a resource has at most %d tags, got %d", maxTags, len(tags))
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > maxTagKeyLen {
			return invalidParam("Tag keys must be 1-%d characters, got %q", maxTagKeyLen, t.Key)
		}
		if len(t.Value) > maxTagValueLen {
			return invalidParam("Tag value for key %q is longer than %d characters", t.Key, maxTagValueLen)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidParam("Tag keys with the prefix 'aws:' are reserved for AWS use: %q", t.Key)
		}
	}
	return nil
}

// tagsFromWire converts the conformed "tags" member of a request.
func tagsFromWire(v any) []tag {
	l, _ := v.([]any)
	out := make([]tag, 0, len(l))
	for _, e := range l {
		m, _ := e.(map[string]any)
		k, _ := getString(m, "key")
		val, _ := getString(m, "value")
		out = append(out, tag{Key: k, Value: val})
	}
	return out
}

// mergeTags sets each new tag on the resource, replacing the value of an existing key,
// and keeps the resource within the tag limit.
func (s *Server) mergeTags(arn string, add []tag) error {
	cur := slices.Clone(s.st.Tags[arn])
	for _, t := range add {
		i := slices.IndexFunc(cur, func(c tag) bool { return c.Key == t.Key })
		if i >= 0 {
			cur[i].Value = t.Value
		} else {
			cur = append(cur, t)
		}
	}
	if err := validateTags(cur); err != nil {
		return err
	}
	if len(cur) == 0 {
		delete(s.st.Tags, arn)
		return nil
	}
	s.st.Tags[arn] = cur
	return nil
}

// tagsOf returns a resource's tags, never nil (ECS returns "tags": [] for none).
func (s *Server) tagsOf(arn string) []tag {
	t := s.st.Tags[arn]
	if t == nil {
		return []tag{}
	}
	return slices.Clone(t)
}

// resourceExists reports whether arn names a task definition revision, cluster, service
// or task this server holds.
func (s *Server) resourceExists(arn string) bool {
	kind, rest, ok := s.resourceOf(arn)
	if !ok {
		return false
	}
	switch kind {
	case "task-definition":
		f, rev, hasRev, err := splitFamilyRev(rest)
		return err == nil && hasRev && rev <= len(s.st.TaskDefs[f])
	case "cluster":
		c, ok := s.st.Clusters[rest]
		return ok && c.Status == "ACTIVE"
	case "service":
		_, ok := s.st.Services[arn]
		return ok
	case "task":
		_, ok := s.st.Tasks[arn]
		return ok
	}
	return false
}

type tagResourceInput struct {
	ResourceArn string `json:"resourceArn"`
	Tags        []tag  `json:"tags"`
}

func (s *Server) tagResource(body []byte) (any, error) {
	var in tagResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !s.resourceExists(in.ResourceArn) {
		return nil, newError(errResourceNotFound, "The specified resource could not be found: %s", in.ResourceArn)
	}
	if len(in.Tags) == 0 {
		return nil, invalidParam("Tags must not be empty")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := s.mergeTags(in.ResourceArn, in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type untagResourceInput struct {
	ResourceArn string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

func (s *Server) untagResource(body []byte) (any, error) {
	var in untagResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !s.resourceExists(in.ResourceArn) {
		return nil, newError(errResourceNotFound, "The specified resource could not be found: %s", in.ResourceArn)
	}
	cur := slices.DeleteFunc(slices.Clone(s.st.Tags[in.ResourceArn]), func(t tag) bool {
		return slices.Contains(in.TagKeys, t.Key)
	})
	if len(cur) == 0 {
		delete(s.st.Tags, in.ResourceArn)
	} else {
		s.st.Tags[in.ResourceArn] = cur
	}
	return struct{}{}, nil
}

type listTagsInput struct {
	ResourceArn string `json:"resourceArn"`
}

func (s *Server) listTagsForResource(body []byte) (any, error) {
	var in listTagsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !s.resourceExists(in.ResourceArn) {
		return nil, newError(errResourceNotFound, "The specified resource could not be found: %s", in.ResourceArn)
	}
	return map[string]any{"tags": s.tagsOf(in.ResourceArn)}, nil
}
