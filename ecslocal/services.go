package ecslocal

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// service is an ECS service as stored. Its deployments progress as deployments.go
// describes: at once by default (a service created or updated runs desiredCount tasks
// of its task definition when the call returns, its only deployment PRIMARY and
// COMPLETED), over time and through the circuit breaker with RuntimeFaults.
type service struct {
	ServiceArn                    string            `json:"serviceArn"`
	ServiceName                   string            `json:"serviceName"`
	ClusterArn                    string            `json:"clusterArn"`
	TaskDefinition                string            `json:"taskDefinition"`
	Status                        string            `json:"status"`
	DesiredCount                  int32             `json:"desiredCount"`
	RunningCount                  int32             `json:"runningCount"`
	PendingCount                  int32             `json:"pendingCount"`
	LaunchType                    string            `json:"launchType,omitempty"`
	SchedulingStrategy            string            `json:"schedulingStrategy"`
	Deployments                   []deployment      `json:"deployments"`
	DeploymentConfiguration       json.RawMessage   `json:"deploymentConfiguration,omitempty"`
	NetworkConfiguration          json.RawMessage   `json:"networkConfiguration,omitempty"`
	LoadBalancers                 []json.RawMessage `json:"loadBalancers"`
	ServiceRegistries             []json.RawMessage `json:"serviceRegistries"`
	CapacityProviderStrategy      json.RawMessage   `json:"capacityProviderStrategy,omitempty"`
	HealthCheckGracePeriodSeconds *int32            `json:"healthCheckGracePeriodSeconds,omitempty"`
	PropagateTags                 string            `json:"propagateTags,omitempty"`
	EnableECSManagedTags          bool              `json:"enableECSManagedTags"`
	EnableExecuteCommand          bool              `json:"enableExecuteCommand"`
	PlatformVersion               string            `json:"platformVersion,omitempty"`
	PlacementConstraints          json.RawMessage   `json:"placementConstraints,omitempty"`
	PlacementStrategy             json.RawMessage   `json:"placementStrategy,omitempty"`
	Events                        []json.RawMessage `json:"events"`
	CreatedAt                     json.Number       `json:"createdAt"`
	CreatedBy                     string            `json:"createdBy"`
	Tags                          []tag             `json:"tags,omitempty"` // only in responses, with include TAGS
}

type deployment struct {
	ID                   string          `json:"id"`
	Status               string          `json:"status"`
	TaskDefinition       string          `json:"taskDefinition"`
	DesiredCount         int32           `json:"desiredCount"`
	PendingCount         int32           `json:"pendingCount"`
	RunningCount         int32           `json:"runningCount"`
	FailedTasks          int32           `json:"failedTasks"`
	LaunchType           string          `json:"launchType,omitempty"`
	NetworkConfiguration json.RawMessage `json:"networkConfiguration,omitempty"`
	RolloutState         string          `json:"rolloutState"`
	RolloutStateReason   string          `json:"rolloutStateReason"`
	CreatedAt            json.Number     `json:"createdAt"`
	UpdatedAt            json.Number     `json:"updatedAt"`
}

// findService resolves a service name or ARN in cluster c.
func (s *Server) findService(c *cluster, ref string) (*service, bool) {
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = s.serviceARN(c.ClusterName, ref)
	}
	svc, ok := s.st.Services[arn]
	if !ok || svc.ClusterArn != c.ClusterArn {
		return nil, false
	}
	return svc, true
}

// activeService finds an ACTIVE service of an ACTIVE cluster, with ECS's errors when
// either is missing or not active.
func (s *Server) activeService(clusterRef, serviceRef string) (*cluster, *service, error) {
	c, err := s.activeCluster(clusterRef)
	if err != nil {
		return nil, nil, err
	}
	svc, ok := s.findService(c, serviceRef)
	if !ok {
		return nil, nil, newError(errServiceNotFound, "Service not found.")
	}
	if svc.Status != "ACTIVE" {
		return nil, nil, newError(errServiceNotActive, "Service was not ACTIVE.")
	}
	return c, svc, nil
}

type createServiceInput struct {
	Cluster                       string            `json:"cluster"`
	ServiceName                   string            `json:"serviceName"`
	TaskDefinition                string            `json:"taskDefinition"`
	DesiredCount                  *int32            `json:"desiredCount"`
	LaunchType                    string            `json:"launchType"`
	SchedulingStrategy            string            `json:"schedulingStrategy"`
	DeploymentConfiguration       json.RawMessage   `json:"deploymentConfiguration"`
	NetworkConfiguration          json.RawMessage   `json:"networkConfiguration"`
	LoadBalancers                 []json.RawMessage `json:"loadBalancers"`
	ServiceRegistries             []json.RawMessage `json:"serviceRegistries"`
	CapacityProviderStrategy      json.RawMessage   `json:"capacityProviderStrategy"`
	HealthCheckGracePeriodSeconds *int32            `json:"healthCheckGracePeriodSeconds"`
	PropagateTags                 string            `json:"propagateTags"`
	EnableECSManagedTags          bool              `json:"enableECSManagedTags"`
	EnableExecuteCommand          bool              `json:"enableExecuteCommand"`
	PlatformVersion               string            `json:"platformVersion"`
	PlacementConstraints          json.RawMessage   `json:"placementConstraints"`
	PlacementStrategy             json.RawMessage   `json:"placementStrategy"`
	Tags                          []tag             `json:"tags"`
}

// createService creates a REPLICA (default) or DAEMON service. A name already used by
// an ACTIVE or DRAINING service of the cluster is rejected; an INACTIVE one is replaced.
func (s *Server) createService(body []byte) (any, error) {
	var in createServiceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !namePattern.MatchString(in.ServiceName) {
		return nil, invalidParam("Invalid service name %q: up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed", in.ServiceName)
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkPropagateTags(in.PropagateTags); err != nil {
		return nil, err
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if old, ok := s.findService(c, in.ServiceName); ok && old.Status != "INACTIVE" {
		return nil, invalidParam("Creation of service was not idempotent.")
	}
	if in.TaskDefinition == "" {
		return nil, invalidParam("TaskDefinition must be specified for services using the ECS deployment controller.")
	}
	td, err := s.runnableTaskDef(in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if err := checkLaunch(td, in.LaunchType, in.NetworkConfiguration); err != nil {
		return nil, err
	}
	strategy := in.SchedulingStrategy
	switch strategy {
	case "":
		strategy = "REPLICA"
	case "REPLICA", "DAEMON":
	default:
		return nil, invalidParam("schedulingStrategy must be REPLICA or DAEMON, got %q", strategy)
	}
	var desired int32
	if in.DesiredCount != nil {
		desired = *in.DesiredCount
	}
	if err := checkDesiredCount(desired); err != nil {
		return nil, err
	}
	if strategy == "DAEMON" {
		desired = 0 // one per container instance, and ecslocal has none
	}
	tdArn, _ := getString(td, "taskDefinitionArn")
	svc := &service{
		ServiceArn:                    s.serviceARN(c.ClusterName, in.ServiceName),
		ServiceName:                   in.ServiceName,
		ClusterArn:                    c.ClusterArn,
		TaskDefinition:                tdArn,
		Status:                        "ACTIVE",
		DesiredCount:                  desired,
		LaunchType:                    in.LaunchType,
		SchedulingStrategy:            strategy,
		DeploymentConfiguration:       in.DeploymentConfiguration,
		NetworkConfiguration:          in.NetworkConfiguration,
		LoadBalancers:                 nonNil(in.LoadBalancers),
		ServiceRegistries:             nonNil(in.ServiceRegistries),
		CapacityProviderStrategy:      in.CapacityProviderStrategy,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		PropagateTags:                 in.PropagateTags,
		EnableECSManagedTags:          in.EnableECSManagedTags,
		EnableExecuteCommand:          in.EnableExecuteCommand,
		PlatformVersion:               in.PlatformVersion,
		PlacementConstraints:          in.PlacementConstraints,
		PlacementStrategy:             in.PlacementStrategy,
		Events:                        []json.RawMessage{},
		CreatedAt:                     epochSeconds(s.cfg.now()),
		CreatedBy:                     "arn:aws:iam::" + s.cfg.account + ":root",
	}
	svc.DeploymentConfiguration = withDefaults(svc.DeploymentConfiguration, defaultDeploymentConfiguration)
	svc.NetworkConfiguration = networkDefaults(svc.NetworkConfiguration)
	s.newDeployment(svc)
	s.st.Services[svc.ServiceArn] = svc
	delete(s.st.Tags, svc.ServiceArn)
	if len(in.Tags) > 0 {
		s.st.Tags[svc.ServiceArn] = in.Tags
	}
	s.converge(svc, c)
	return map[string]any{"service": *svc}, nil
}

func nonNil(l []json.RawMessage) []json.RawMessage {
	if l == nil {
		return []json.RawMessage{}
	}
	return l
}

type describeServicesInput struct {
	Cluster  string   `json:"cluster"`
	Services []string `json:"services"`
	Include  []string `json:"include"`
}

// maxDescribeServices is the DescribeServices limit: "You may specify up to 10 services".
const maxDescribeServices = 10

// describeServices describes up to 10 services of a cluster, INACTIVE ones included (ECS
// keeps describing deleted services for a while); unknown names are failures with
// reason MISSING.
func (s *Server) describeServices(body []byte) (any, error) {
	var in describeServicesInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, invalidParam("Services cannot be empty.")
	}
	if len(in.Services) > maxDescribeServices {
		return nil, invalidParam("services can have at most %d items, got %d", maxDescribeServices, len(in.Services))
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	withTags := slices.Contains(in.Include, "TAGS")
	found := []service{}
	failures := []failure{}
	for _, ref := range in.Services {
		svc, ok := s.findService(c, ref)
		if !ok {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.serviceARN(c.ClusterName, ref)
			}
			failures = append(failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out := *svc
		if withTags {
			out.Tags = s.tagsOf(svc.ServiceArn)
		}
		found = append(found, out)
	}
	return map[string]any{"services": found, "failures": failures}, nil
}

type listServicesInput struct {
	Cluster            string  `json:"cluster"`
	LaunchType         string  `json:"launchType"`
	SchedulingStrategy string  `json:"schedulingStrategy"`
	MaxResults         *int32  `json:"maxResults"`
	NextToken          *string `json:"nextToken"`
}

// maxDesiredCount is the ECS quota on tasks per service. ecslocal starts a service's
// tasks at once, so it also bounds the work one call can cause.
const maxDesiredCount = 5000

// checkDesiredCount validates a desiredCount against 0..maxDesiredCount.
func checkDesiredCount(n int32) error {
	if n < 0 || n > maxDesiredCount {
		return invalidParam("desiredCount must be between 0 and %d (tasks per service), got %d", maxDesiredCount, n)
	}
	return nil
}

// defaultListServices is ListServices' page size when maxResults is absent: 10, unlike
// the other List operations (100).
const defaultListServices = 10

// listServices lists the ARNs of a cluster's services that are not INACTIVE.
func (s *Server) listServices(body []byte) (any, error) {
	var in listServicesInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	arns := []string{}
	for _, arn := range slices.Sorted(maps.Keys(s.st.Services)) {
		svc := s.st.Services[arn]
		if svc.ClusterArn != c.ClusterArn || svc.Status == "INACTIVE" {
			continue
		}
		if in.LaunchType != "" && svc.LaunchType != in.LaunchType {
			continue
		}
		if in.SchedulingStrategy != "" && svc.SchedulingStrategy != in.SchedulingStrategy {
			continue
		}
		arns = append(arns, arn)
	}
	page, next, err := paginate("ListServices", arns, in.NextToken, in.MaxResults, defaultListServices)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"serviceArns": page}, next), nil
}

type updateServiceInput struct {
	Cluster              string          `json:"cluster"`
	Service              string          `json:"service"`
	DesiredCount         *int32          `json:"desiredCount"`
	TaskDefinition       *string         `json:"taskDefinition"`
	ForceNewDeployment   bool            `json:"forceNewDeployment"`
	NetworkConfiguration json.RawMessage `json:"networkConfiguration"`

	// The service settings UpdateService changes besides these (absent: unchanged).
	DeploymentConfiguration       json.RawMessage    `json:"deploymentConfiguration"`
	LoadBalancers                 *[]json.RawMessage `json:"loadBalancers"`
	ServiceRegistries             *[]json.RawMessage `json:"serviceRegistries"`
	CapacityProviderStrategy      json.RawMessage    `json:"capacityProviderStrategy"`
	HealthCheckGracePeriodSeconds *int32             `json:"healthCheckGracePeriodSeconds"`
	PropagateTags                 *string            `json:"propagateTags"`
	EnableECSManagedTags          *bool              `json:"enableECSManagedTags"`
	EnableExecuteCommand          *bool              `json:"enableExecuteCommand"`
	PlatformVersion               *string            `json:"platformVersion"`
	PlacementConstraints          json.RawMessage    `json:"placementConstraints"`
	PlacementStrategy             json.RawMessage    `json:"placementStrategy"`
}

// checkPropagateTags is ECS's enum check of propagateTags.
func checkPropagateTags(v string) error {
	switch v {
	case "", "TASK_DEFINITION", "SERVICE", "NONE":
		return nil
	}
	return invalidParam("propagateTags must be TASK_DEFINITION, SERVICE or NONE, got %q", v)
}

// updateService changes a service's task definition and desired count. A new task
// definition, a new network configuration or forceNewDeployment starts a new deployment
// (its tasks replace the old ones); a change of desiredCount alone scales the current
// deployment, as in ECS.
func (s *Server) updateService(body []byte) (any, error) {
	var in updateServiceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.PropagateTags != nil {
		if err := checkPropagateTags(*in.PropagateTags); err != nil {
			return nil, err
		}
	}
	c, svc, err := s.activeService(in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	redeploy := in.ForceNewDeployment
	if in.TaskDefinition != nil {
		td, err := s.runnableTaskDef(*in.TaskDefinition)
		if err != nil {
			return nil, err
		}
		netConf := svc.NetworkConfiguration
		if in.NetworkConfiguration != nil {
			netConf = in.NetworkConfiguration
		}
		if err := checkLaunch(td, svc.LaunchType, netConf); err != nil {
			return nil, err
		}
		arn, _ := getString(td, "taskDefinitionArn")
		if arn != svc.TaskDefinition {
			svc.TaskDefinition = arn
			redeploy = true
		}
	}
	if in.NetworkConfiguration != nil {
		in.NetworkConfiguration = networkDefaults(in.NetworkConfiguration)
	}
	if in.NetworkConfiguration != nil && !bytes.Equal(in.NetworkConfiguration, svc.NetworkConfiguration) {
		svc.NetworkConfiguration = in.NetworkConfiguration
		redeploy = true
	}
	if in.PropagateTags != nil {
		svc.PropagateTags = *in.PropagateTags
	}
	if in.DeploymentConfiguration != nil {
		svc.DeploymentConfiguration = withDefaults(in.DeploymentConfiguration, defaultDeploymentConfiguration)
	}
	if in.LoadBalancers != nil {
		svc.LoadBalancers, redeploy = nonNil(*in.LoadBalancers), true
	}
	if in.ServiceRegistries != nil {
		svc.ServiceRegistries, redeploy = nonNil(*in.ServiceRegistries), true
	}
	if in.CapacityProviderStrategy != nil {
		svc.CapacityProviderStrategy, redeploy = in.CapacityProviderStrategy, true
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		svc.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
	}
	if in.EnableECSManagedTags != nil {
		svc.EnableECSManagedTags = *in.EnableECSManagedTags
	}
	if in.EnableExecuteCommand != nil {
		svc.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if in.PlatformVersion != nil {
		svc.PlatformVersion, redeploy = *in.PlatformVersion, true
	}
	if in.PlacementConstraints != nil {
		svc.PlacementConstraints = in.PlacementConstraints
	}
	if in.PlacementStrategy != nil {
		svc.PlacementStrategy = in.PlacementStrategy
	}
	if in.DesiredCount != nil {
		if err := checkDesiredCount(*in.DesiredCount); err != nil {
			return nil, err
		}
		if svc.SchedulingStrategy != "DAEMON" {
			svc.DesiredCount = *in.DesiredCount
		}
	}
	if redeploy {
		s.newDeployment(svc)
	}
	s.converge(svc, c)
	return map[string]any{"service": *svc}, nil
}

type deleteServiceInput struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	Force   bool   `json:"force"`
}

// deleteService deletes a service scaled to zero (or any, with force). ECS answers with
// the service DRAINING; here its tasks stop at once, so it is INACTIVE afterwards.
func (s *Server) deleteService(body []byte) (any, error) {
	var in deleteServiceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, svc, err := s.activeService(in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	if svc.DesiredCount > 0 && !in.Force && svc.SchedulingStrategy == "REPLICA" {
		return nil, invalidParam("The service cannot be stopped while it is scaled above 0.")
	}
	svc.DesiredCount = 0
	s.converge(svc, c)
	out := *svc
	out.Status = "DRAINING"
	out.Deployments = slices.Clone(svc.Deployments)
	svc.Status = "INACTIVE"
	for i := range svc.Deployments {
		svc.Deployments[i].Status = "INACTIVE"
	}
	return map[string]any{"service": out}, nil
}

// ECS fills these in when a service is created or updated without them (DescribeServices
// shows them): a service's deployment limits and circuit breaker, and an awsvpc
// configuration's public IP setting.
const (
	defaultDeploymentConfiguration = `{"deploymentCircuitBreaker":{"enable":false,"rollback":false},"maximumPercent":200,"minimumHealthyPercent":100}`
	defaultAwsvpc                  = `{"assignPublicIp":"DISABLED"}`
)

// withDefaults returns given with def's members filled in where it lacks them, one level
// deep into objects (deploymentCircuitBreaker).
func withDefaults(given json.RawMessage, def string) json.RawMessage {
	var out, g map[string]any
	_ = json.Unmarshal([]byte(def), &out)
	if len(given) > 0 && json.Unmarshal(given, &g) != nil {
		return given // not an object: the SDK would not have sent it; keep as is
	}
	for k, v := range g {
		if dm, ok := out[k].(map[string]any); ok {
			if gm, ok := v.(map[string]any); ok {
				for kk, vv := range gm {
					dm[kk] = vv
				}
				continue
			}
		}
		out[k] = v
	}
	b, _ := json.Marshal(out)
	return b
}

// networkDefaults fills assignPublicIp in an awsvpcConfiguration.
func networkDefaults(nc json.RawMessage) json.RawMessage {
	if len(nc) == 0 {
		return nc
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(nc, &m) != nil || m["awsvpcConfiguration"] == nil {
		return nc
	}
	m["awsvpcConfiguration"] = withDefaults(m["awsvpcConfiguration"], defaultAwsvpc)
	b, _ := json.Marshal(m)
	return b
}
