package ecslocal

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Application Auto Scaling, the part taskward relies on: scalable targets of ECS services
// (RegisterScalableTarget, DescribeScalableTargets, DeregisterScalableTarget). It is its
// own AWS JSON 1.1 service on the same endpoint: X-Amz-Target
// "AnyScaleFrontendService.<Action>", PascalCase members, and its own error types
// (ValidationException, ObjectNotFoundException, InvalidNextTokenException).
// https://docs.aws.amazon.com/autoscaling/application/APIReference/

const (
	// autoScalingPrefix is the X-Amz-Target namespace of Application Auto Scaling.
	autoScalingPrefix = "AnyScaleFrontendService."

	errValidation        = "ValidationException"
	errObjectNotFound    = "ObjectNotFoundException"
	errInvalidNextToken  = "InvalidNextTokenException"
	ecsDesiredCount      = "ecs:service:DesiredCount"
	maxScalableTargetIDs = 50 // ResourceIds and MaxResults: 1-50
)

// autoScalingOperations lists the supported Application Auto Scaling actions.
var autoScalingOperations = map[string]operation{
	"RegisterScalableTarget":   {true, (*Server).registerScalableTarget},
	"DescribeScalableTargets":  {false, (*Server).describeScalableTargets},
	"DeregisterScalableTarget": {true, (*Server).deregisterScalableTarget},
}

// serviceNamespaces are the ServiceNamespace enum values; only ecs targets can be
// registered here.
var serviceNamespaces = []string{"ecs", "elasticmapreduce", "ec2", "appstream", "dynamodb", "rds", "sagemaker",
	"custom-resource", "comprehend", "lambda", "cassandra", "kafka", "elasticache", "neptune", "workspaces"}

// scalableTarget is one registered target in the service's wire shape.
type scalableTarget struct {
	ServiceNamespace  string      `json:"ServiceNamespace"`
	ResourceID        string      `json:"ResourceId"`
	ScalableDimension string      `json:"ScalableDimension"`
	MinCapacity       int32       `json:"MinCapacity"`
	MaxCapacity       int32       `json:"MaxCapacity"`
	RoleARN           string      `json:"RoleARN"`
	CreationTime      json.Number `json:"CreationTime"`
	ScalableTargetARN string      `json:"ScalableTargetARN"`
}

func targetKey(ns, id, dim string) string { return ns + "|" + id + "|" + dim }

type scalableTargetID struct {
	ServiceNamespace  string `json:"ServiceNamespace"`
	ResourceID        string `json:"ResourceId"`
	ScalableDimension string `json:"ScalableDimension"`
}

// check validates the identifying members as the service does, for a register or a
// deregister (both require all three).
func (id scalableTargetID) check() error {
	if id.ServiceNamespace == "" || id.ResourceID == "" || id.ScalableDimension == "" {
		return newError(errValidation, "ServiceNamespace, ResourceId and ScalableDimension are required")
	}
	if err := checkNamespace(id.ServiceNamespace); err != nil {
		return err
	}
	if id.ServiceNamespace != "ecs" {
		return newError(errValidation, "ecslocal supports scalable targets of the ecs namespace only, got %q", id.ServiceNamespace)
	}
	if id.ScalableDimension != ecsDesiredCount {
		return newError(errValidation, "Unsupported scalable dimension %q for service namespace ecs: use %s", id.ScalableDimension, ecsDesiredCount)
	}
	parts := strings.Split(id.ResourceID, "/")
	if len(parts) != 3 || parts[0] != "service" || parts[1] == "" || parts[2] == "" {
		return newError(errValidation, "Unsupported resource ID %q: an ECS service is service/CLUSTER/SERVICE", id.ResourceID)
	}
	return nil
}

func checkNamespace(ns string) error {
	if !slices.Contains(serviceNamespaces, ns) {
		return newError(errValidation, "1 validation error detected: Value '%s' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			ns, strings.Join(serviceNamespaces, ", "))
	}
	return nil
}

func (s *Server) registerScalableTarget(body []byte) (any, error) {
	var in struct {
		scalableTargetID
		MinCapacity *int32  `json:"MinCapacity"`
		MaxCapacity *int32  `json:"MaxCapacity"`
		RoleARN     *string `json:"RoleARN"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	parts := strings.Split(in.ResourceID, "/")
	if svc := s.st.Services[s.serviceARN(parts[1], parts[2])]; svc == nil || svc.Status == "INACTIVE" {
		return nil, newError(errValidation, "ECS service doesn't exist: %s", in.ResourceID)
	}
	key := targetKey(in.ServiceNamespace, in.ResourceID, in.ScalableDimension)
	t := s.st.ScalableTargets[key]
	if t == nil {
		if in.MinCapacity == nil || in.MaxCapacity == nil {
			return nil, newError(errValidation, "MinCapacity and MaxCapacity are required to register a new scalable target")
		}
		t = &scalableTarget{ServiceNamespace: in.ServiceNamespace, ResourceID: in.ResourceID, ScalableDimension: in.ScalableDimension,
			RoleARN:           fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService", s.cfg.account),
			CreationTime:      epochSeconds(time.Now()),
			ScalableTargetARN: fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%s", s.cfg.region, s.cfg.account, strconv.Itoa(len(s.st.ScalableTargets)+1))}
	}
	next := *t
	if in.MinCapacity != nil {
		next.MinCapacity = *in.MinCapacity
	}
	if in.MaxCapacity != nil {
		next.MaxCapacity = *in.MaxCapacity
	}
	if in.RoleARN != nil && *in.RoleARN != "" {
		next.RoleARN = *in.RoleARN
	}
	if next.MinCapacity < 0 || next.MaxCapacity < next.MinCapacity {
		return nil, newError(errValidation, "Maximum capacity cannot be less than minimum capacity")
	}
	s.st.ScalableTargets[key] = &next
	return map[string]any{"ScalableTargetARN": next.ScalableTargetARN}, nil
}

func (s *Server) deregisterScalableTarget(body []byte) (any, error) {
	var in scalableTargetID
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	key := targetKey(in.ServiceNamespace, in.ResourceID, in.ScalableDimension)
	if s.st.ScalableTargets[key] == nil {
		return nil, newError(errObjectNotFound, "No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s",
			in.ServiceNamespace, in.ResourceID, in.ScalableDimension)
	}
	delete(s.st.ScalableTargets, key)
	return map[string]any{}, nil
}

func (s *Server) describeScalableTargets(body []byte) (any, error) {
	var in struct {
		ServiceNamespace  string   `json:"ServiceNamespace"`
		ResourceIDs       []string `json:"ResourceIds"`
		ScalableDimension string   `json:"ScalableDimension"`
		MaxResults        *int32   `json:"MaxResults"`
		NextToken         string   `json:"NextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ServiceNamespace == "" {
		return nil, newError(errValidation, "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	if err := checkNamespace(in.ServiceNamespace); err != nil {
		return nil, err
	}
	if len(in.ResourceIDs) > maxScalableTargetIDs {
		return nil, newError(errValidation, "1 validation error detected: Value at 'resourceIds' failed to satisfy constraint: Member must have length less than or equal to %d", maxScalableTargetIDs)
	}
	if in.ScalableDimension != "" && len(in.ResourceIDs) == 0 {
		return nil, newError(errValidation, "Resource IDs are required when a scalable dimension is given")
	}
	limit := maxScalableTargetIDs
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxScalableTargetIDs {
			return nil, newError(errValidation, "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *in.MaxResults, maxScalableTargetIDs)
		}
		limit = int(*in.MaxResults)
	}
	var match []*scalableTarget
	for _, k := range slices.Sorted(maps.Keys(s.st.ScalableTargets)) {
		t := s.st.ScalableTargets[k]
		if t.ServiceNamespace != in.ServiceNamespace || (in.ScalableDimension != "" && t.ScalableDimension != in.ScalableDimension) ||
			(len(in.ResourceIDs) > 0 && !slices.Contains(in.ResourceIDs, t.ResourceID)) {
			continue
		}
		match = append(match, t)
	}
	start := 0
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		n, aerr := strconv.Atoi(strings.TrimPrefix(string(b), "aas:"))
		if err != nil || aerr != nil || !strings.HasPrefix(string(b), "aas:") || n < 0 {
			return nil, newError(errInvalidNextToken, "Invalid token")
		}
		start = min(n, len(match))
	}
	end := min(start+limit, len(match))
	out := map[string]any{"ScalableTargets": append([]*scalableTarget{}, match[start:end]...)}
	if end < len(match) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte("aas:" + strconv.Itoa(end)))
	}
	return out, nil
}
