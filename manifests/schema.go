package manifests

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs/schemas"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	smithy "github.com/aws/smithy-go"

	"github.com/taskward/taskward/internal/didyoumean"
	"github.com/taskward/taskward/internal/ojson"
)

// The ECS API model is the SDK's generated schema for RegisterTaskDefinition's input: the
// same model the SDK serializes with, so taskward's idea of "a field ECS knows" moves with
// the SDK version and never drifts from it by hand.
var registerSchema = schemas.RegisterTaskDefinitionRequest

// enumValues maps an ECS enum shape to its wire values. The schema names enum members
// symbolically (AWSVPC); the wire values (awsvpc) live on the SDK's enum types.
var enumValues = map[string][]string{
	"ApplicationProtocol":                   vals(types.ApplicationProtocol("").Values()),
	"CPUArchitecture":                       vals(types.CPUArchitecture("").Values()),
	"Compatibility":                         vals(types.Compatibility("").Values()),
	"ContainerCondition":                    vals(types.ContainerCondition("").Values()),
	"DeviceCgroupPermission":                vals(types.DeviceCgroupPermission("").Values()),
	"EFSAuthorizationConfigIAM":             vals(types.EFSAuthorizationConfigIAM("").Values()),
	"EFSTransitEncryption":                  vals(types.EFSTransitEncryption("").Values()),
	"EnvironmentFileType":                   vals(types.EnvironmentFileType("").Values()),
	"FirelensConfigurationType":             vals(types.FirelensConfigurationType("").Values()),
	"IpcMode":                               vals(types.IpcMode("").Values()),
	"IsolationMode":                         vals(types.IsolationMode("").Values()),
	"LogDriver":                             vals(types.LogDriver("").Values()),
	"NetworkMode":                           vals(types.NetworkMode("").Values()),
	"OSFamily":                              vals(types.OSFamily("").Values()),
	"PidMode":                               vals(types.PidMode("").Values()),
	"ProxyConfigurationType":                vals(types.ProxyConfigurationType("").Values()),
	"ResourceType":                          vals(types.ResourceType("").Values()),
	"Scope":                                 vals(types.Scope("").Values()),
	"TaskDefinitionPlacementConstraintType": vals(types.TaskDefinitionPlacementConstraintType("").Values()),
	"TransportProtocol":                     vals(types.TransportProtocol("").Values()),
	"UlimitName":                            vals(types.UlimitName("").Values()),
	"VersionConsistency":                    vals(types.VersionConsistency("").Values()),
}

func vals[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func shapeName(s *smithy.Schema) string {
	if id := s.TargetID(); id.Name != "" {
		return id.Name
	}
	return s.ID().Name
}

// checkSchema walks v against the schema s and reports every field ECS does not know and
// every value of the wrong type. null is accepted anywhere: the CLI and ECS treat it as absent.
func checkSchema(c *collector, v *ojson.Value, s *smithy.Schema, path string) {
	if v.IsNull() {
		return
	}
	switch s.Type() {
	case smithy.ShapeTypeStructure, smithy.ShapeTypeUnion:
		if v.Kind != ojson.Object {
			c.add(v.Offset, path, "must be an object, got %s", describe(v))
			return
		}
		members := s.Members()
		for _, m := range v.Obj {
			ms, ok := members[m.Key]
			if !ok {
				c.add(m.Value.Offset, join(path, m.Key), "%s", unknownField(m.Key, members, shapeName(s)))
				continue
			}
			checkSchema(c, m.Value, ms, join(path, m.Key))
		}
	case smithy.ShapeTypeList, smithy.ShapeTypeSet:
		if v.Kind != ojson.Array {
			c.add(v.Offset, path, "must be a list, got %s", describe(v))
			return
		}
		for i, e := range v.Arr {
			checkSchema(c, e, s.ListMember(), fmt.Sprintf("%s[%d]", path, i))
		}
	case smithy.ShapeTypeMap:
		if v.Kind != ojson.Object {
			c.add(v.Offset, path, "must be an object of key/value pairs, got %s", describe(v))
			return
		}
		for _, m := range v.Obj {
			checkSchema(c, m.Value, s.MapValue(), join(path, m.Key))
		}
	case smithy.ShapeTypeString:
		if v.Kind != ojson.String {
			c.add(v.Offset, path, "must be a string, got %s%s", describe(v), quoteHint(v))
		}
	case smithy.ShapeTypeEnum:
		if v.Kind != ojson.String {
			c.add(v.Offset, path, "must be a string, got %s", describe(v))
			return
		}
		allowed, known := enumValues[shapeName(s)]
		if !known || contains(allowed, v.Str) {
			return
		}
		hint := ""
		if d := didyoumean.Closest(v.Str, allowed); d != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", d)
		}
		c.add(v.Offset, path, "%q is not one of %s%s", v.Str, strings.Join(allowed, ", "), hint)
	case smithy.ShapeTypeBoolean:
		if v.Kind != ojson.Bool {
			c.add(v.Offset, path, "must be true or false, got %s", describe(v))
		}
	case smithy.ShapeTypeInteger, smithy.ShapeTypeLong, smithy.ShapeTypeShort, smithy.ShapeTypeByte:
		if v.Kind != ojson.Number {
			c.add(v.Offset, path, "must be a whole number, got %s%s", describe(v), unquoteHint(v))
			return
		}
		n, err := strconv.ParseInt(v.Num, 10, 64)
		if err != nil || (s.Type() == smithy.ShapeTypeInteger && (n > math.MaxInt32 || n < math.MinInt32)) {
			c.add(v.Offset, path, "must be a whole number in range, got %s", v.Num)
		}
	case smithy.ShapeTypeFloat, smithy.ShapeTypeDouble:
		if v.Kind != ojson.Number {
			c.add(v.Offset, path, "must be a number, got %s", describe(v))
		}
	case smithy.ShapeTypeTimestamp:
		if v.Kind != ojson.Number && v.Kind != ojson.String {
			c.add(v.Offset, path, "must be a timestamp, got %s", describe(v))
		}
	}
}

func unknownField(key string, members map[string]*smithy.Schema, shape string) string {
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	if hint, ok := fieldHints[shape+"."+key]; ok {
		return fmt.Sprintf("unknown field %q: %s", key, hint)
	}
	if d := didyoumean.Closest(key, names); d != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", key, d)
	}
	return fmt.Sprintf("unknown field %q: ECS %s has no such field; known fields: %s", key, shape, strings.Join(names, ", "))
}

// fieldHints explain the misplaced fields people really write.
var fieldHints = map[string]string{
	"KeyValuePair.valueFrom": "an environment entry takes name and value only; a value read from Secrets Manager or SSM goes under the container's \"secrets\" as {\"name\": ..., \"valueFrom\": ...}",
	"Secret.value":           "a secret takes name and valueFrom (an ARN or SSM parameter name); a plain value goes under \"environment\"",
}

func describe(v *ojson.Value) string {
	switch v.Kind {
	case ojson.String:
		if len(v.Str) > 40 {
			return fmt.Sprintf("string %q...", v.Str[:40])
		}
		return fmt.Sprintf("string %q", v.Str)
	case ojson.Number:
		return "number " + v.Num
	case ojson.Bool:
		return fmt.Sprintf("%v", v.Bool)
	}
	return "an " + v.Kind.String()
}

func quoteHint(v *ojson.Value) string {
	if v.Kind == ojson.Number {
		return fmt.Sprintf(": write it in quotes, \"%s\"", v.Num)
	}
	return ""
}

func unquoteHint(v *ojson.Value) string {
	if v.Kind == ojson.String {
		if _, err := strconv.ParseInt(v.Str, 10, 64); err == nil {
			return fmt.Sprintf(": write it without quotes, %s", v.Str)
		}
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
