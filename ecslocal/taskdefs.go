package ecslocal

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// Task definition statuses. Deregistering makes a revision INACTIVE (it can still be
// described and run by explicit revision, but not started by new services); deleting an
// INACTIVE revision makes it DELETE_IN_PROGRESS.
const (
	tdActive           = "ACTIVE"
	tdInactive         = "INACTIVE"
	tdDeleteInProgress = "DELETE_IN_PROGRESS"
)

var registerShape = reflect.TypeFor[ecs.RegisterTaskDefinitionInput]()

// registerTaskDefinition stores a new revision of a family: it conforms the request to the
// API shape, validates it like ECS, adds ECS's defaults and server fields, and returns
// {"taskDefinition": ..., "tags": [...]}.
func (s *Server) registerTaskDefinition(body []byte) (any, error) {
	raw, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	c, err := conform(raw, registerShape, "")
	if err != nil {
		return nil, err
	}
	td := c.(map[string]any)
	tags := tagsFromWire(td["tags"])
	delete(td, "tags")
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	if err := validateTaskDef(td); err != nil {
		return nil, err
	}
	applyDefaults(td)

	family, _ := getString(td, "family")
	rev := len(s.st.TaskDefs[family]) + 1
	arn := s.taskDefARN(family, rev)
	td["taskDefinitionArn"] = arn
	td["revision"] = rev
	td["status"] = tdActive
	td["requiresAttributes"] = requiresAttributes(td)
	td["compatibilities"] = compatibilities(td)
	td["registeredAt"] = epochSeconds(s.cfg.now())
	td["registeredBy"] = "arn:aws:iam::" + s.cfg.account + ":root"
	s.st.TaskDefs[family] = append(s.st.TaskDefs[family], td)
	if len(tags) > 0 {
		s.st.Tags[arn] = tags
	}
	return map[string]any{"taskDefinition": td, "tags": s.tagsOf(arn)}, nil
}

// decodeObject decodes a request body into a map, numbers as json.Number so that what
// is stored is exactly what was sent.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, newError(errSerialization, "malformed request: %v", err)
	}
	if dec.More() {
		return nil, newError(errSerialization, "malformed request: data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, newError(errSerialization, "malformed request: expected a JSON object, got %s", jsonKind(v))
	}
	return m, nil
}

// lookupTaskDef resolves a task definition reference the way ECS does: a full ARN or
// "family:revision" names one revision whatever its status; a bare family names the
// latest ACTIVE revision.
func (s *Server) lookupTaskDef(ref string) (map[string]any, error) {
	notFound := clientErr("Unable to describe task definition.")
	if ref == "" {
		return nil, clientErr("taskDefinition must not be empty.")
	}
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		kind, rest, ok := s.resourceOf(ref)
		if !ok || kind != "task-definition" {
			return nil, notFound
		}
		name = rest
	}
	family, rev, hasRev, err := splitFamilyRev(name)
	if err != nil {
		return nil, clientErr("Invalid revision number. Number: %s", strings.TrimPrefix(name, family+":"))
	}
	revs := s.st.TaskDefs[family]
	if hasRev {
		if rev > len(revs) {
			return nil, notFound
		}
		return revs[rev-1], nil
	}
	for i := len(revs) - 1; i >= 0; i-- {
		if st, _ := getString(revs[i], "status"); st == tdActive {
			return revs[i], nil
		}
	}
	return nil, notFound
}

type describeTaskDefinitionInput struct {
	TaskDefinition string   `json:"taskDefinition"`
	Include        []string `json:"include"`
}

func (s *Server) describeTaskDefinition(body []byte) (any, error) {
	var in describeTaskDefinitionInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	td, err := s.lookupTaskDef(in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"taskDefinition": td}
	if slices.Contains(in.Include, "TAGS") {
		arn, _ := getString(td, "taskDefinitionArn")
		out["tags"] = s.tagsOf(arn)
	}
	return out, nil
}

type deregisterTaskDefinitionInput struct {
	TaskDefinition string `json:"taskDefinition"`
}

// deregisterTaskDefinition marks one revision INACTIVE. ECS requires the revision: a
// bare family is rejected rather than deregistering the latest by accident.
func (s *Server) deregisterTaskDefinition(body []byte) (any, error) {
	var in deregisterTaskDefinitionInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.TaskDefinition, "arn:") && !strings.Contains(in.TaskDefinition, ":") {
		return nil, clientErr("Revision must be specified: use family:revision or the full ARN, got %q", in.TaskDefinition)
	}
	td, err := s.lookupTaskDef(in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if st, _ := getString(td, "status"); st == tdActive {
		td["status"] = tdInactive
		td["deregisteredAt"] = epochSeconds(s.cfg.now())
	}
	return map[string]any{"taskDefinition": td}, nil
}

type deleteTaskDefinitionsInput struct {
	TaskDefinitions []string `json:"taskDefinitions"`
}

type failure struct {
	Arn    string `json:"arn,omitempty"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// deleteTaskDefinitions deletes INACTIVE revisions (1-10 per call). ECS answers per
// revision: an ACTIVE or unknown revision is a failure, not an error of the call.
func (s *Server) deleteTaskDefinitions(body []byte) (any, error) {
	var in deleteTaskDefinitionsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.TaskDefinitions) == 0 || len(in.TaskDefinitions) > 10 {
		return nil, invalidParam("taskDefinitions must list 1 to 10 task definitions, got %d", len(in.TaskDefinitions))
	}
	deleted := []any{}
	failures := []failure{}
	for _, ref := range in.TaskDefinitions {
		if !strings.HasPrefix(ref, "arn:") && !strings.Contains(ref, ":") {
			failures = append(failures, failure{Arn: ref, Reason: "The specified task definition identifier is invalid. Specify a valid name or ARN and try again."})
			continue
		}
		td, err := s.lookupTaskDef(ref)
		if err != nil {
			failures = append(failures, failure{Arn: ref, Reason: "The specified task definition does not exist. Specify a valid account, family, revision and try again."})
			continue
		}
		switch st, _ := getString(td, "status"); st {
		case tdActive:
			arn, _ := getString(td, "taskDefinitionArn")
			failures = append(failures, failure{Arn: arn, Reason: "The specified task definition is still in ACTIVE status. Please deregister the target and try again."})
			continue
		case tdInactive:
			td["status"] = tdDeleteInProgress
		}
		deleted = append(deleted, td)
	}
	return map[string]any{"taskDefinitions": deleted, "failures": failures}, nil
}

type listTaskDefinitionsInput struct {
	FamilyPrefix *string `json:"familyPrefix"`
	Status       *string `json:"status"`
	Sort         *string `json:"sort"`
	MaxResults   *int32  `json:"maxResults"`
	NextToken    *string `json:"nextToken"`
}

// listTaskDefinitions lists revision ARNs sorted by family, then revision. Note the ECS
// behaviour, despite the member's name: familyPrefix must be the full family name (real
// ECS answers an empty list for a mere prefix; getmoto/moto#2602 checked it against AWS),
// unlike ListTaskDefinitionFamilies, where familyPrefix is a prefix.
func (s *Server) listTaskDefinitions(body []byte) (any, error) {
	var in listTaskDefinitionsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	status := tdActive
	if in.Status != nil {
		status = *in.Status
		if status != tdActive && status != tdInactive && status != tdDeleteInProgress {
			return nil, invalidParam("status must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS, got %q", status)
		}
	}
	desc := false
	if in.Sort != nil {
		switch *in.Sort {
		case "ASC":
		case "DESC":
			desc = true
		default:
			return nil, invalidParam("sort must be ASC or DESC, got %q", *in.Sort)
		}
	}
	families := slices.Sorted(maps.Keys(s.st.TaskDefs))
	arns := []string{}
	for _, f := range families {
		if in.FamilyPrefix != nil && *in.FamilyPrefix != "" && f != *in.FamilyPrefix {
			continue
		}
		for _, td := range s.st.TaskDefs[f] {
			if st, _ := getString(td, "status"); st == status {
				arn, _ := getString(td, "taskDefinitionArn")
				arns = append(arns, arn)
			}
		}
	}
	if desc {
		slices.Reverse(arns)
	}
	page, next, err := paginate("ListTaskDefinitions", arns, in.NextToken, in.MaxResults, maxPageSize)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"taskDefinitionArns": page}, next), nil
}

type listTaskDefinitionFamiliesInput struct {
	FamilyPrefix *string `json:"familyPrefix"`
	Status       *string `json:"status"`
	MaxResults   *int32  `json:"maxResults"`
	NextToken    *string `json:"nextToken"`
}

// listTaskDefinitionFamilies lists family names starting with familyPrefix. status ACTIVE
// lists families with an ACTIVE revision, INACTIVE those without one, and ALL (the
// default) both.
func (s *Server) listTaskDefinitionFamilies(body []byte) (any, error) {
	var in listTaskDefinitionFamiliesInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	status := "ALL"
	if in.Status != nil {
		status = *in.Status
		if status != "ALL" && status != tdActive && status != tdInactive {
			return nil, invalidParam("status must be ACTIVE, INACTIVE or ALL, got %q", status)
		}
	}
	out := []string{}
	for _, f := range slices.Sorted(maps.Keys(s.st.TaskDefs)) {
		if in.FamilyPrefix != nil && !strings.HasPrefix(f, *in.FamilyPrefix) {
			continue
		}
		active := slices.ContainsFunc(s.st.TaskDefs[f], func(td map[string]any) bool {
			st, _ := getString(td, "status")
			return st == tdActive
		})
		if (status == tdActive && !active) || (status == tdInactive && active) {
			continue
		}
		out = append(out, f)
	}
	page, next, err := paginate("ListTaskDefinitionFamilies", out, in.NextToken, in.MaxResults, maxPageSize)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"families": page}, next), nil
}
