package ecslocal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// task is a running or stopped task. ecslocal has no container instances and runs
// nothing: a task is RUNNING as soon as it is started and STOPPED when stopped.
type task struct {
	TaskArn              string            `json:"taskArn"`
	ClusterArn           string            `json:"clusterArn"`
	TaskDefinitionArn    string            `json:"taskDefinitionArn"`
	LastStatus           string            `json:"lastStatus"`
	DesiredStatus        string            `json:"desiredStatus"`
	Containers           []container       `json:"containers"`
	StartedBy            string            `json:"startedBy,omitempty"`
	Group                string            `json:"group"`
	LaunchType           string            `json:"launchType,omitempty"`
	Cpu                  string            `json:"cpu,omitempty"`
	Memory               string            `json:"memory,omitempty"`
	Overrides            json.RawMessage   `json:"overrides,omitempty"`
	CreatedAt            json.Number       `json:"createdAt"`
	StartedAt            json.Number       `json:"startedAt,omitempty"`
	StoppingAt           json.Number       `json:"stoppingAt,omitempty"`
	StoppedAt            json.Number       `json:"stoppedAt,omitempty"`
	StoppedReason        string            `json:"stoppedReason,omitempty"`
	StopCode             string            `json:"stopCode,omitempty"`
	Connectivity         string            `json:"connectivity"`
	HealthStatus         string            `json:"healthStatus"`
	Version              int64             `json:"version"`
	Attachments          []json.RawMessage `json:"attachments"`
	EnableExecuteCommand bool              `json:"enableExecuteCommand"`
	Tags                 []tag             `json:"tags,omitempty"` // only in responses, with include TAGS
}

type container struct {
	ContainerArn      string            `json:"containerArn"`
	TaskArn           string            `json:"taskArn"`
	Name              string            `json:"name"`
	Image             string            `json:"image"`
	LastStatus        string            `json:"lastStatus"`
	ExitCode          *int              `json:"exitCode,omitempty"`
	Reason            string            `json:"reason,omitempty"`
	NetworkBindings   []json.RawMessage `json:"networkBindings"`
	NetworkInterfaces []json.RawMessage `json:"networkInterfaces"`
	HealthStatus      string            `json:"healthStatus"`
	Cpu               string            `json:"cpu,omitempty"`
	Memory            string            `json:"memory,omitempty"`
	MemoryReservation string            `json:"memoryReservation,omitempty"`
}

// newID returns a 32-hex-digit identifier, the form of ECS task IDs.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// startTask records a RUNNING task of td in cluster c.
func (s *Server) startTask(c *cluster, td map[string]any, startedBy, group, launchType string, overrides json.RawMessage) *task {
	id := newID()
	arn := s.taskARN(c.ClusterName, id)
	now := epochSeconds(s.cfg.now())
	t := &task{
		TaskArn:       arn,
		ClusterArn:    c.ClusterArn,
		LastStatus:    "RUNNING",
		DesiredStatus: "RUNNING",
		StartedBy:     startedBy,
		Group:         group,
		LaunchType:    launchType,
		Overrides:     overrides,
		CreatedAt:     now,
		StartedAt:     now,
		Connectivity:  "CONNECTED",
		HealthStatus:  "UNKNOWN",
		Version:       1,
		Attachments:   []json.RawMessage{},
	}
	t.TaskDefinitionArn, _ = getString(td, "taskDefinitionArn")
	t.Cpu, _ = getString(td, "cpu")
	t.Memory, _ = getString(td, "memory")
	if t.Overrides == nil {
		t.Overrides = json.RawMessage(`{"containerOverrides":[],"inferenceAcceleratorOverrides":[]}`)
	}
	exited := initContainers(td)
	for _, cv := range getList(td, "containerDefinitions") {
		cd := cv.(map[string]any)
		name, _ := getString(cd, "name")
		k := container{
			ContainerArn:      s.arn("container/" + c.ClusterName + "/" + id + "/" + newID()),
			TaskArn:           arn,
			Name:              name,
			LastStatus:        "RUNNING",
			NetworkBindings:   []json.RawMessage{},
			NetworkInterfaces: []json.RawMessage{},
			HealthStatus:      "UNKNOWN",
		}
		k.Image, _ = getString(cd, "image")
		if n, ok := getInt(cd, "cpu"); ok {
			k.Cpu = formatInt(n)
		}
		if n, ok := getInt(cd, "memory"); ok {
			k.Memory = formatInt(n)
		}
		if n, ok := getInt(cd, "memoryReservation"); ok {
			k.MemoryReservation = formatInt(n)
		}
		if exited[name] {
			// An init container others wait on with SUCCESS/COMPLETE has run to
			// completion by the time the task is RUNNING.
			zero := 0
			k.LastStatus, k.ExitCode = "STOPPED", &zero
		}
		t.Containers = append(t.Containers, k)
	}
	s.st.Tasks[arn] = t
	return t
}

// initContainers returns the names of containers that another container depends on with
// condition SUCCESS or COMPLETE: containers that exit before the others start.
func initContainers(td map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, cv := range getList(td, "containerDefinitions") {
		for _, d := range getList(cv.(map[string]any), "dependsOn") {
			dm := d.(map[string]any)
			cond, _ := getString(dm, "condition")
			if cond == "SUCCESS" || cond == "COMPLETE" {
				name, _ := getString(dm, "containerName")
				out[name] = true
			}
		}
	}
	return out
}

// stop marks a task STOPPED with the given stop code and reason.
func (s *Server) stop(t *task, code, reason string) {
	if t.LastStatus == "STOPPED" {
		return
	}
	now := epochSeconds(s.cfg.now())
	t.DesiredStatus, t.LastStatus = "STOPPED", "STOPPED"
	t.StoppingAt, t.StoppedAt = now, now
	t.StopCode, t.StoppedReason = code, reason
	t.Version++
	for i := range t.Containers {
		if t.Containers[i].ExitCode == nil {
			code := 137 // SIGKILL after the stop timeout, as the agent reports
			t.Containers[i].ExitCode = &code
		}
		t.Containers[i].LastStatus = "STOPPED"
	}
}

// runnableTaskDef resolves a task definition for RunTask and CreateService/UpdateService:
// it must exist and be ACTIVE.
func (s *Server) runnableTaskDef(ref string) (map[string]any, error) {
	td, err := s.lookupTaskDef(ref)
	if err != nil {
		return nil, clientErr("TaskDefinition not found.")
	}
	if st, _ := getString(td, "status"); st != tdActive {
		return nil, clientErr("TaskDefinition is inactive")
	}
	return td, nil
}

// checkLaunch applies the launch checks RunTask and CreateService share: the definition
// must be compatible with the launch type, and awsvpc needs a network configuration.
func checkLaunch(td map[string]any, launchType string, netConf json.RawMessage) error {
	if launchType != "" && !slices.Contains(getList(td, "compatibilities"), any(launchType)) {
		return invalidParam("Task definition does not support launch_type %s.", launchType)
	}
	if nm, _ := getString(td, "networkMode"); nm == "awsvpc" && (len(netConf) == 0 || string(netConf) == "null") {
		return invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	return nil
}

type runTaskInput struct {
	Cluster              string          `json:"cluster"`
	TaskDefinition       string          `json:"taskDefinition"`
	Count                *int32          `json:"count"`
	StartedBy            string          `json:"startedBy"`
	Group                string          `json:"group"`
	LaunchType           string          `json:"launchType"`
	NetworkConfiguration json.RawMessage `json:"networkConfiguration"`
	Overrides            json.RawMessage `json:"overrides"`
	Tags                 []tag           `json:"tags"`
}

// runTask starts count (1-10) tasks. group defaults to "family:FAMILY" as in ECS.
func (s *Server) runTask(body []byte) (any, error) {
	var in runTaskInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	count := int32(1)
	if in.Count != nil {
		count = *in.Count
	}
	if count < 1 || count > 10 {
		return nil, invalidParam("count must be between 1 and 10, got %d", count)
	}
	if len(in.StartedBy) > 128 {
		return nil, invalidParam("startedBy must be at most 128 characters")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	td, err := s.runnableTaskDef(in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if err := checkLaunch(td, in.LaunchType, in.NetworkConfiguration); err != nil {
		return nil, err
	}
	group := in.Group
	if group == "" {
		f, _ := getString(td, "family")
		group = "family:" + f
	}
	tasks := []task{}
	for range count {
		t := s.startTask(c, td, in.StartedBy, group, in.LaunchType, in.Overrides)
		if len(in.Tags) > 0 {
			s.st.Tags[t.TaskArn] = slices.Clone(in.Tags)
		}
		tasks = append(tasks, *t)
	}
	return map[string]any{"tasks": tasks, "failures": []failure{}}, nil
}

// findTask resolves a task ID or ARN within cluster c.
func (s *Server) findTask(c *cluster, ref string) (*task, bool) {
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = s.taskARN(c.ClusterName, ref)
	}
	t, ok := s.st.Tasks[arn]
	if !ok || t.ClusterArn != c.ClusterArn {
		return nil, false
	}
	return t, true
}

type stopTaskInput struct {
	Cluster string `json:"cluster"`
	Task    string `json:"task"`
	Reason  string `json:"reason"`
}

func (s *Server) stopTask(body []byte) (any, error) {
	var in stopTaskInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	t, ok := s.findTask(c, in.Task)
	if !ok {
		return nil, invalidParam("The referenced task was not found.")
	}
	reason := in.Reason
	if reason == "" {
		reason = "Task stopped by user"
	}
	s.stop(t, "UserInitiated", reason)
	return map[string]any{"task": *t}, nil
}

type listTasksInput struct {
	Cluster       string  `json:"cluster"`
	Family        string  `json:"family"`
	ServiceName   string  `json:"serviceName"`
	StartedBy     string  `json:"startedBy"`
	DesiredStatus string  `json:"desiredStatus"`
	LaunchType    string  `json:"launchType"`
	MaxResults    *int32  `json:"maxResults"`
	NextToken     *string `json:"nextToken"`
}

// listTasks lists task ARNs in a cluster, by default those whose desired status is
// RUNNING. A service's tasks are found through their group, "service:NAME".
func (s *Server) listTasks(body []byte) (any, error) {
	var in listTasksInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.Family != "" && in.ServiceName != "" {
		return nil, invalidParam("family and serviceName cannot both be specified")
	}
	desired := "RUNNING"
	if in.DesiredStatus != "" {
		desired = in.DesiredStatus
		if desired != "RUNNING" && desired != "PENDING" && desired != "STOPPED" {
			return nil, invalidParam("desiredStatus must be RUNNING, PENDING or STOPPED, got %q", desired)
		}
	}
	var svcGroup string
	if in.ServiceName != "" {
		svcGroup = "service:" + lastSegment(in.ServiceName)
	}
	arns := []string{}
	for _, arn := range slices.Sorted(maps.Keys(s.st.Tasks)) {
		t := s.st.Tasks[arn]
		if t.ClusterArn != c.ClusterArn || t.DesiredStatus != desired {
			continue
		}
		if in.Family != "" && !strings.Contains(t.TaskDefinitionArn, ":task-definition/"+in.Family+":") {
			continue
		}
		if svcGroup != "" && t.Group != svcGroup {
			continue
		}
		if in.StartedBy != "" && t.StartedBy != in.StartedBy {
			continue
		}
		if in.LaunchType != "" && t.LaunchType != in.LaunchType {
			continue
		}
		arns = append(arns, arn)
	}
	page, next, err := paginate("ListTasks", arns, in.NextToken, in.MaxResults, maxPageSize)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"taskArns": page}, next), nil
}

type describeTasksInput struct {
	Cluster string   `json:"cluster"`
	Tasks   []string `json:"tasks"`
	Include []string `json:"include"`
}

// describeTasks describes up to 100 tasks; unknown ones are failures with reason MISSING.
func (s *Server) describeTasks(body []byte) (any, error) {
	var in describeTasksInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 {
		return nil, invalidParam("Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, invalidParam("tasks can have at most 100 items, got %d", len(in.Tasks))
	}
	withTags := slices.Contains(in.Include, "TAGS")
	found := []task{}
	failures := []failure{}
	for _, ref := range in.Tasks {
		t, ok := s.findTask(c, ref)
		if !ok {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = s.taskARN(c.ClusterName, ref)
			}
			failures = append(failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out := *t
		if withTags {
			out.Tags = s.tagsOf(t.TaskArn)
		}
		found = append(found, out)
	}
	return map[string]any{"tasks": found, "failures": failures}, nil
}
