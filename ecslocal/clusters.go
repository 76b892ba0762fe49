package ecslocal

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// cluster is an ECS cluster as stored. Counts are computed when it is described.
type cluster struct {
	ClusterArn                        string            `json:"clusterArn"`
	ClusterName                       string            `json:"clusterName"`
	Status                            string            `json:"status"`
	RegisteredContainerInstancesCount int               `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int               `json:"runningTasksCount"`
	PendingTasksCount                 int               `json:"pendingTasksCount"`
	ActiveServicesCount               int               `json:"activeServicesCount"`
	Statistics                        []json.RawMessage `json:"statistics"`
	Settings                          []clusterSetting  `json:"settings,omitempty"`
	Configuration                     json.RawMessage   `json:"configuration,omitempty"`
	CapacityProviders                 []string          `json:"capacityProviders"`
	DefaultCapacityProviderStrategy   []json.RawMessage `json:"defaultCapacityProviderStrategy"`
	ServiceConnectDefaults            json.RawMessage   `json:"serviceConnectDefaults,omitempty"`
	Tags                              []tag             `json:"tags,omitempty"` // only in responses, with include TAGS
}

type clusterSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

const defaultCluster = "default"

// clusterName turns a cluster reference (name or ARN, empty for "default") into a name.
func clusterName(ref string) string {
	if ref == "" {
		return defaultCluster
	}
	if strings.HasPrefix(ref, "arn:") {
		return lastSegment(ref)
	}
	return ref
}

// activeCluster resolves a cluster reference to an ACTIVE cluster. ECS does not create
// the "default" cluster implicitly for API calls: a missing one is ClusterNotFoundException.
func (s *Server) activeCluster(ref string) (*cluster, error) {
	if strings.HasPrefix(ref, "arn:") {
		if kind, _, ok := s.resourceOf(ref); !ok || kind != "cluster" {
			return nil, newError(errClusterNotFound, "Cluster not found.")
		}
	}
	c, ok := s.st.Clusters[clusterName(ref)]
	if !ok || c.Status != "ACTIVE" {
		return nil, newError(errClusterNotFound, "Cluster not found.")
	}
	return c, nil
}

// describeCluster returns a copy of c with its counts filled in.
func (s *Server) describeCluster(c *cluster, withTags bool) cluster {
	out := *c
	out.Tags = nil
	for _, svc := range s.st.Services {
		if svc.ClusterArn == c.ClusterArn && svc.Status == "ACTIVE" {
			out.ActiveServicesCount++
		}
	}
	for _, t := range s.st.Tasks {
		if t.ClusterArn == c.ClusterArn && t.LastStatus == "RUNNING" {
			out.RunningTasksCount++
		}
	}
	if withTags {
		out.Tags = s.tagsOf(c.ClusterArn)
	}
	return out
}

type createClusterInput struct {
	ClusterName            *string          `json:"clusterName"`
	Tags                   []tag            `json:"tags"`
	Settings               []clusterSetting `json:"settings"`
	Configuration          json.RawMessage  `json:"configuration"`
	CapacityProviders      []string         `json:"capacityProviders"`
	ServiceConnectDefaults json.RawMessage  `json:"serviceConnectDefaults"`
}

// createCluster creates a cluster, named "default" when no name is given. Creating an
// ACTIVE cluster again returns it unchanged, as ECS does.
func (s *Server) createCluster(body []byte) (any, error) {
	var in createClusterInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name := defaultCluster
	if in.ClusterName != nil {
		name = *in.ClusterName
	}
	if !namePattern.MatchString(name) {
		return nil, invalidParam("Invalid cluster name %q: up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed", name)
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if c, ok := s.st.Clusters[name]; ok && c.Status == "ACTIVE" {
		return map[string]any{"cluster": s.describeCluster(c, false)}, nil
	}
	c := &cluster{
		ClusterArn:                      s.clusterARN(name),
		ClusterName:                     name,
		Status:                          "ACTIVE",
		Statistics:                      []json.RawMessage{},
		Settings:                        in.Settings,
		Configuration:                   in.Configuration,
		CapacityProviders:               in.CapacityProviders,
		DefaultCapacityProviderStrategy: []json.RawMessage{},
		ServiceConnectDefaults:          in.ServiceConnectDefaults,
	}
	if c.Settings == nil {
		c.Settings = []clusterSetting{{Name: "containerInsights", Value: "disabled"}}
	}
	if c.CapacityProviders == nil {
		c.CapacityProviders = []string{}
	}
	s.st.Clusters[name] = c
	delete(s.st.Tags, c.ClusterArn) // tags of an earlier cluster of that name are gone
	if len(in.Tags) > 0 {
		s.st.Tags[c.ClusterArn] = in.Tags
	}
	return map[string]any{"cluster": s.describeCluster(c, false)}, nil
}

type describeClustersInput struct {
	Clusters []string `json:"clusters"`
	Include  []string `json:"include"`
}

// describeClusters describes up to 100 clusters ("default" when none are named). INACTIVE
// clusters are still described; unknown ones are failures with reason MISSING.
func (s *Server) describeClusters(body []byte) (any, error) {
	var in describeClustersInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{defaultCluster}
	}
	if len(refs) > 100 {
		return nil, invalidParam("clusters can have at most 100 items, got %d", len(refs))
	}
	withTags := slices.Contains(in.Include, "TAGS")
	found := []cluster{}
	failures := []failure{}
	for _, ref := range refs {
		c, ok := s.st.Clusters[clusterName(ref)]
		if !ok || (strings.HasPrefix(ref, "arn:") && ref != c.ClusterArn) {
			failures = append(failures, failure{Arn: s.clusterARN(clusterName(ref)), Reason: "MISSING"})
			continue
		}
		found = append(found, s.describeCluster(c, withTags))
	}
	return map[string]any{"clusters": found, "failures": failures}, nil
}

type listClustersInput struct {
	MaxResults *int32  `json:"maxResults"`
	NextToken  *string `json:"nextToken"`
}

func (s *Server) listClusters(body []byte) (any, error) {
	var in listClustersInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	arns := []string{}
	for _, name := range slices.Sorted(maps.Keys(s.st.Clusters)) {
		if c := s.st.Clusters[name]; c.Status == "ACTIVE" {
			arns = append(arns, c.ClusterArn)
		}
	}
	page, next, err := paginate("ListClusters", arns, in.NextToken, in.MaxResults, maxPageSize)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"clusterArns": page}, next), nil
}

type deleteClusterInput struct {
	Cluster string `json:"cluster"`
}

// deleteCluster makes a cluster INACTIVE. ECS refuses while the cluster has ACTIVE or
// DRAINING services, or running tasks.
func (s *Server) deleteCluster(body []byte) (any, error) {
	var in deleteClusterInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	for _, svc := range s.st.Services {
		if svc.ClusterArn == c.ClusterArn && svc.Status != "INACTIVE" {
			return nil, newError(errClusterContainsServices, "The Cluster cannot be deleted while Services are active.")
		}
	}
	for _, t := range s.st.Tasks {
		if t.ClusterArn == c.ClusterArn && t.LastStatus != "STOPPED" {
			return nil, newError(errClusterContainsTasks, "The Cluster cannot be deleted while Tasks are active.")
		}
	}
	c.Status = "INACTIVE"
	return map[string]any{"cluster": s.describeCluster(c, false)}, nil
}

type updateClusterInput struct {
	Cluster                string           `json:"cluster"`
	Settings               []clusterSetting `json:"settings"`
	Configuration          json.RawMessage  `json:"configuration"`
	ServiceConnectDefaults json.RawMessage  `json:"serviceConnectDefaults"`
}

// updateCluster changes a cluster's settings (merged by name), configuration and
// Service Connect defaults.
func (s *Server) updateCluster(body []byte) (any, error) {
	var in updateClusterInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	for _, st := range in.Settings {
		i := slices.IndexFunc(c.Settings, func(x clusterSetting) bool { return x.Name == st.Name })
		if i >= 0 {
			c.Settings[i] = st
		} else {
			c.Settings = append(c.Settings, st)
		}
	}
	if in.Configuration != nil {
		c.Configuration = in.Configuration
	}
	if in.ServiceConnectDefaults != nil {
		c.ServiceConnectDefaults = in.ServiceConnectDefaults
	}
	return map[string]any{"cluster": s.describeCluster(c, false)}, nil
}
