package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ServiceHealth is one service's health (Argo CD's second axis) and why.
type ServiceHealth struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	ARN     string `json:"arn"`
	Family  string `json:"family"`
	Health  Health `json:"health"`
	Reason  string `json:"reason,omitempty"`
	// FailedDeployment is the deployment taskward started whose rollout failed (FAILED,
	// or rolled back by the circuit breaker), when that is why the service is Degraded;
	// FailedContent is the content hash it deployed.
	FailedDeployment string `json:"failedDeployment,omitempty"`
	FailedContent    string `json:"failedContent,omitempty"`
}

// rolloutFailure reports whether the deployment taskward started on the service (its
// taskward.dev/deployment tag) failed: its rolloutState is FAILED, or ECS's events say it
// failed (after a circuit-breaker rollback the failed deployment leaves the list), or the
// service carries the rollout-failed tag for the content taskward deployed. It returns
// ECS's words for it.
func (s *Service) rolloutFailure() (string, bool) {
	dep, hash := s.Tags[TagDeployment], s.Tags[TagContentHash]
	if dep != "" {
		for _, d := range s.Deployments {
			if d.ID == dep && d.RolloutState == string(types.DeploymentRolloutStateFailed) {
				return fmt.Sprintf("deployment %s of %s FAILED: %s", d.ID, ShortARN(d.TaskDefinition), d.Reason), true
			}
		}
		for _, e := range s.Events {
			if strings.Contains(e, dep) && strings.Contains(e, "failed") {
				return e, true
			}
		}
	}
	if hash != "" && s.Tags[TagRolloutFailed] == hash {
		// ECS's own record is gone (the failed deployment left the list, its events
		// scrolled away): taskward's note stays.
		return "its rollout failed earlier (" + TagRolloutFailed + " tag)", true
	}
	return "", false
}

// ClassifyHealth computes a service's health from its description alone (pure):
//
//	Degraded     the rollout taskward started FAILED or was rolled back; or the PRIMARY
//	             deployment is FAILED; or a deployment is COMPLETED with fewer tasks
//	             running than desired (tasks stopping)
//	Progressing  the PRIMARY deployment is IN_PROGRESS (a circuit-breaker rollback in
//	             progress is Degraded: what taskward applied failed)
//	Healthy      the PRIMARY deployment is COMPLETED, the only one, running = desired
//	Unknown      no PRIMARY deployment
//
// Stopped tasks and defender events are the caller's to add to the reason.
func ClassifyHealth(cluster string, s Service) ServiceHealth {
	h := ServiceHealth{Cluster: cluster, Service: s.Name, ARN: s.ARN, Family: s.Family}
	var primary *Deployment
	for i := range s.Deployments {
		if s.Deployments[i].Status == "PRIMARY" {
			primary = &s.Deployments[i]
		}
	}
	if why, failed := s.rolloutFailure(); failed {
		h.Health, h.FailedDeployment, h.FailedContent = Degraded, s.Tags[TagDeployment], s.Tags[TagContentHash]
		h.Reason = "the rollout taskward started failed: " + why
		switch {
		case primary == nil:
		case primary.ID != h.FailedDeployment:
			h.Reason += fmt.Sprintf("; ECS rolled the service back: it runs %s (%s)", ShortARN(primary.TaskDefinition), strings.ToLower(strings.ReplaceAll(primary.RolloutState, "_", " ")))
		default:
			h.Reason += fmt.Sprintf("; it stays on %s, which starts no more tasks", ShortARN(primary.TaskDefinition))
		}
		return h
	}
	switch {
	case primary == nil:
		h.Health, h.Reason = Unknown, "no PRIMARY deployment"
	case primary.RolloutState == string(types.DeploymentRolloutStateFailed):
		h.Health, h.Reason = Degraded, fmt.Sprintf("deployment %s of %s FAILED: %s", primary.ID, ShortARN(primary.TaskDefinition), primary.Reason)
	case primary.RolloutState == string(types.DeploymentRolloutStateInProgress):
		h.Health = Progressing
		h.Reason = fmt.Sprintf("deployment %s of %s in progress: %d of %d tasks running", primary.ID, ShortARN(primary.TaskDefinition), s.RunningCount, s.DesiredCount)
		if strings.Contains(primary.Reason, "rolling back") {
			h.Health, h.Reason = Degraded, primary.Reason
		}
	case s.RunningCount < s.DesiredCount:
		h.Health, h.Reason = Degraded, fmt.Sprintf("%d of %d tasks running", s.RunningCount, s.DesiredCount)
	case len(s.Deployments) > 1:
		h.Health, h.Reason = Progressing, fmt.Sprintf("%d deployments", len(s.Deployments))
	default:
		h.Health, h.Reason = Healthy, fmt.Sprintf("%s, %d of %d tasks running", ShortARN(primary.TaskDefinition), s.RunningCount, s.DesiredCount)
	}
	return h
}

// StoppedTask is a task that stopped, and why.
type StoppedTask struct {
	ARN       string
	Reason    string         // stoppedReason
	ExitCodes map[string]int // by container, those that have one
}

// StoppedTasks returns the newest stopped tasks (at most 10, newest first) a deployment
// started: why a Degraded service's new tasks did not stay up.
func (r *Reconciler) StoppedTasks(ctx context.Context, deploymentID string) ([]StoppedTask, error) {
	out, err := r.client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(r.cluster), StartedBy: aws.String(deploymentID),
		DesiredStatus: types.DesiredStatusStopped, MaxResults: aws.Int32(100)})
	if err != nil {
		return nil, fmt.Errorf("list stopped tasks of %s: %w", deploymentID, err)
	}
	if len(out.TaskArns) == 0 {
		return nil, nil
	}
	desc, err := r.client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.cluster), Tasks: out.TaskArns})
	if err != nil {
		return nil, fmt.Errorf("describe stopped tasks of %s: %w", deploymentID, err)
	}
	tasks := slices.Clone(desc.Tasks)
	slices.SortFunc(tasks, func(a, b types.Task) int { return aws.ToTime(b.StoppedAt).Compare(aws.ToTime(a.StoppedAt)) })
	var st []StoppedTask
	for _, t := range tasks[:min(len(tasks), 10)] {
		s := StoppedTask{ARN: aws.ToString(t.TaskArn), Reason: aws.ToString(t.StoppedReason), ExitCodes: map[string]int{}}
		for _, c := range t.Containers {
			if c.ExitCode != nil {
				s.ExitCodes[aws.ToString(c.Name)] = int(*c.ExitCode)
			}
		}
		st = append(st, s)
	}
	return st, nil
}

// Describe says why a stopped task stopped, in one line: "Essential container in task
// exited (web exit 3)".
func (t StoppedTask) Describe() string {
	var codes []string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range t.ExitCodes {
			if !yield(k) {
				return
			}
		}
	}) {
		if code := t.ExitCodes[name]; code != 0 {
			codes = append(codes, fmt.Sprintf("%s exit %d", name, code))
		}
	}
	if len(codes) == 0 {
		return t.Reason
	}
	return fmt.Sprintf("%s (%s)", t.Reason, strings.Join(codes, ", "))
}
