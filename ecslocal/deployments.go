package ecslocal

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Deployments, as ECS's rolling update (deployment controller ECS) runs them:
//
//   - UpdateService with a new task definition starts a new PRIMARY deployment,
//     rolloutState IN_PROGRESS; the earlier ones stay ACTIVE, their tasks running, until
//     it completes.
//   - Each call the server serves is one scheduling round: the PRIMARY deployment starts
//     the tasks it lacks. A task of a task definition with a failure fault
//     (RuntimeFaults.TaskFailures) stops at once, its essential container exiting with the
//     fault's code, and counts as a failed task of the deployment.
//   - The deployment is COMPLETED when it runs desiredCount tasks and
//     RuntimeFaults.DeploymentDuration has passed since it started (0: at once, in the
//     call that started it); then the other deployments' tasks stop and they go away.
//   - The deployment circuit breaker (deploymentConfiguration.deploymentCircuitBreaker),
//     as AWS documents it: the failure threshold is 0.5 × desiredCount, at least 3 and
//     at most 200; at the threshold the deployment's rolloutState becomes FAILED. With
//     rollback, the most recent COMPLETED deployment becomes PRIMARY again, IN_PROGRESS
//     ("ECS deployment circuit breaker: rolling back to deploymentId …"), and completes
//     as any deployment does; without a COMPLETED deployment, or without rollback, the
//     failed deployment stays PRIMARY and starts no more tasks.
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
//     https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html

// Rollout states.
const (
	rolloutInProgress = "IN_PROGRESS"
	rolloutCompleted  = "COMPLETED"
	rolloutFailed     = "FAILED"
)

// RuntimeFaults change how services and tasks behave, at run time (SetRuntimeFaults, or
// POST /_ecslocal/faults with this JSON).
type RuntimeFaults struct {
	// TaskFailures make the tasks of a task definition stop as soon as they start.
	TaskFailures []TaskFailure `json:"taskFailures,omitempty"`
	// DeploymentDuration is how long a deployment stays IN_PROGRESS at least (default 0:
	// it completes in the call that starts it, when its tasks start). JSON: a Go
	// duration string, "5s".
	DeploymentDuration Duration `json:"deploymentDuration,omitzero"`
}

// TaskFailure makes the tasks of TaskDefinition ("family" for every revision, or
// "family:revision") stop at start: the first essential container exits with ExitCode
// and the task's stoppedReason is Reason (default "Essential container in task exited").
type TaskFailure struct {
	TaskDefinition string `json:"taskDefinition"`
	ExitCode       int    `json:"exitCode"`
	Reason         string `json:"reason,omitempty"`
}

// Duration is a time.Duration written as a Go duration string in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"5s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("duration %q: want a non-negative Go duration such as \"5s\"", s)
	}
	*d = Duration(v)
	return nil
}

// SetRuntimeFaults replaces the runtime faults. It takes the state lock: the next
// scheduling round sees them.
func (s *Server) SetRuntimeFaults(f RuntimeFaults) error {
	for i, tf := range f.TaskFailures {
		if tf.TaskDefinition == "" || strings.HasPrefix(tf.TaskDefinition, "arn:") {
			return fmt.Errorf("taskFailures[%d].taskDefinition: want family or family:revision, got %q", i, tf.TaskDefinition)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f.TaskFailures = slices.Clone(f.TaskFailures)
	s.runtime = f
	return nil
}

// taskFailure returns the failure fault matching a task definition ARN, or nil.
func (s *Server) taskFailure(tdARN string) *TaskFailure {
	_, rest, _ := strings.Cut(tdARN, ":task-definition/")
	family, _, _ := strings.Cut(rest, ":")
	for i, tf := range s.runtime.TaskFailures {
		if tf.TaskDefinition == rest || tf.TaskDefinition == family {
			return &s.runtime.TaskFailures[i]
		}
	}
	return nil
}

// failureThreshold is the circuit breaker's threshold for a desired count.
func failureThreshold(desired int32) int32 {
	return min(max(int32(math.Ceil(0.5*float64(desired))), 3), 200)
}

type circuitBreaker struct {
	Enable   bool `json:"enable"`
	Rollback bool `json:"rollback"`
}

func (svc *service) breaker() circuitBreaker {
	var dc struct {
		DeploymentCircuitBreaker circuitBreaker `json:"deploymentCircuitBreaker"`
	}
	_ = json.Unmarshal(svc.DeploymentConfiguration, &dc)
	return dc.DeploymentCircuitBreaker
}

// newDeployment starts a new PRIMARY deployment of svc's current task definition; the
// earlier deployments become ACTIVE and keep their tasks until it completes.
func (s *Server) newDeployment(svc *service) {
	now := epochSeconds(s.cfg.now())
	for i := range svc.Deployments {
		svc.Deployments[i].Status = "ACTIVE"
	}
	d := deployment{
		ID:                   "ecs-svc/" + newID()[:19],
		Status:               "PRIMARY",
		TaskDefinition:       svc.TaskDefinition,
		LaunchType:           svc.LaunchType,
		NetworkConfiguration: svc.NetworkConfiguration,
		RolloutState:         rolloutInProgress,
		RolloutStateReason:   "ECS deployment " + svc.ServiceName + " in progress.",
		CreatedAt:            now,
		UpdatedAt:            now,
	}
	svc.Deployments = append([]deployment{d}, svc.Deployments...)
}

// settling reports whether a service's deployments still change with time.
func (svc *service) settling() bool {
	return svc.Status == "ACTIVE" && (len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != rolloutCompleted ||
		svc.RunningCount != svc.DesiredCount)
}

// advance runs one scheduling round of every service whose deployments are not settled,
// and reports whether there was any. Every served call runs it first, under the state
// lock.
func (s *Server) advance() bool {
	// Only unsettled services, in ARN order: a steady state (every deployment COMPLETED)
	// costs one pass over the map, no sort.
	var arns []string
	for arn, svc := range s.st.Services {
		if svc.settling() {
			arns = append(arns, arn)
		}
	}
	slices.Sort(arns)
	busy := len(arns) > 0
	for _, arn := range arns {
		svc := s.st.Services[arn]
		for _, c := range s.st.Clusters {
			if c.ClusterArn == svc.ClusterArn {
				s.converge(svc, c)
			}
		}
	}
	return busy
}

// serveFaults serves POST /_ecslocal/faults (set RuntimeFaults, strictly decoded, at
// most 64 KiB) and GET (show them).
func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		f := s.runtime
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(f)
	case http.MethodPost:
		var f RuntimeFaults
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		err := dec.Decode(&f)
		if err == nil {
			err = s.SetRuntimeFaults(f)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": "faults: " + err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(f)
	default:
		w.Header().Set("Allow", "GET, POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// converge runs one scheduling round of a service: tasks of deployments no longer
// listed stop, the PRIMARY deployment starts the tasks it lacks (failing ones stop at
// once and count), the circuit breaker and completion are checked, and the counts set.
func (s *Server) converge(svc *service, c *cluster) {
	if len(svc.Deployments) == 0 {
		return
	}
	group := "service:" + svc.ServiceName
	byDeployment := map[string][]*task{}
	for _, arn := range slices.Sorted(maps.Keys(s.st.Tasks)) {
		t := s.st.Tasks[arn]
		if t.ClusterArn != svc.ClusterArn || t.Group != group || t.LastStatus != "RUNNING" {
			continue
		}
		listed := slices.ContainsFunc(svc.Deployments, func(d deployment) bool { return d.ID == t.StartedBy && d.TaskDefinition == t.TaskDefinitionArn })
		if !listed {
			s.stop(t, "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment "+svc.Deployments[0].ID+")")
			continue
		}
		byDeployment[t.StartedBy] = append(byDeployment[t.StartedBy], t)
	}
	p := &svc.Deployments[0]
	running := byDeployment[p.ID]
	for int32(len(running)) > svc.DesiredCount {
		s.stop(running[len(running)-1], "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment "+p.ID+")")
		running = running[:len(running)-1]
	}
	if p.RolloutState != rolloutFailed {
		if td, err := s.lookupTaskDef(p.TaskDefinition); err == nil {
			for missing := svc.DesiredCount - int32(len(running)); missing > 0; missing-- {
				t := s.startTask(c, td, p.ID, group, svc.LaunchType, nil)
				if f := s.taskFailure(p.TaskDefinition); f != nil {
					s.fail(t, td, f)
					p.FailedTasks++
					continue
				}
				running = append(running, t)
			}
		}
	}
	byDeployment[p.ID] = running
	now := s.cfg.now()
	b := svc.breaker()
	switch {
	case p.RolloutState == rolloutInProgress && b.Enable && p.FailedTasks >= failureThreshold(svc.DesiredCount):
		p.RolloutState = rolloutFailed
		p.RolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
		if !b.Rollback {
			break
		}
		// Roll back to the most recent COMPLETED deployment (the list is newest first).
		for i := 1; i < len(svc.Deployments); i++ {
			if svc.Deployments[i].RolloutState != rolloutCompleted {
				continue
			}
			back := svc.Deployments[i]
			back.Status, back.RolloutState = "PRIMARY", rolloutInProgress
			back.RolloutStateReason = "ECS deployment circuit breaker: rolling back to deploymentId " + back.ID + "."
			back.CreatedAt = epochSeconds(now) // the rollback's own clock for DeploymentDuration
			failed := svc.Deployments[0]
			failed.Status = "ACTIVE"
			rest := slices.Delete(slices.Clone(svc.Deployments), i, i+1)[1:]
			svc.Deployments = append([]deployment{back, failed}, rest...)
			svc.TaskDefinition = back.TaskDefinition
			svc.Events = append([]json.RawMessage{serviceEvent(now, fmt.Sprintf("(service %s) (deployment %s) deployment failed: tasks failed to start.", svc.ServiceName, failed.ID))}, svc.Events...)
			break
		}
	case p.RolloutState == rolloutInProgress && int32(len(running)) == svc.DesiredCount && now.Sub(epochTime(p.CreatedAt)) >= time.Duration(s.runtime.DeploymentDuration):
		p.RolloutState = rolloutCompleted
		p.RolloutStateReason = "ECS deployment " + p.ID + " completed."
		for _, old := range svc.Deployments[1:] {
			for _, t := range byDeployment[old.ID] {
				s.stop(t, "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment "+p.ID+")")
			}
			delete(byDeployment, old.ID)
		}
		svc.Deployments = svc.Deployments[:1]
	}
	var total int32
	for i := range svc.Deployments {
		d := &svc.Deployments[i]
		d.RunningCount = int32(len(byDeployment[d.ID]))
		d.DesiredCount = 0
		if i == 0 {
			d.DesiredCount = svc.DesiredCount
		}
		d.UpdatedAt = epochSeconds(now)
		total += d.RunningCount
	}
	svc.RunningCount, svc.PendingCount = total, 0
}

// fail stops a task as a failing essential container does: the first essential
// container exits with the fault's code.
func (s *Server) fail(t *task, td map[string]any, f *TaskFailure) {
	essential := ""
	for _, cv := range getList(td, "containerDefinitions") {
		cd := cv.(map[string]any)
		if e, ok := cd["essential"].(bool); ok && !e {
			continue
		}
		essential, _ = getString(cd, "name")
		break
	}
	for i := range t.Containers {
		if t.Containers[i].Name == essential {
			code := f.ExitCode
			t.Containers[i].ExitCode = &code
			t.Containers[i].Reason = f.Reason
		}
	}
	reason := "Essential container in task exited"
	if f.Reason != "" {
		reason = f.Reason
	}
	s.stop(t, "EssentialContainerExited", reason)
}

// epochTime reads an epochSeconds value back.
func epochTime(n json.Number) time.Time {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(math.Round(f * 1000)))
}

func serviceEvent(now time.Time, msg string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"id": newID(), "createdAt": epochSeconds(now), "message": msg})
	return b
}
