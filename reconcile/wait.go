package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// WaitOptions bound [WaitClusters].
type WaitOptions struct {
	Poll    time.Duration // between DescribeServices rounds (default 6s)
	Timeout time.Duration // overall (default 15 minutes)
}

// RolloutError is a service whose rollout did not finish on the revision apply set: it
// FAILED, or ECS rolled it back (the deployment circuit breaker), or the wait timed out.
type RolloutError struct {
	Cluster, Service string
	Want             string // the revision apply moved the service to
	Running          string // the revision of the service's PRIMARY deployment now
	State            string // FAILED, ROLLED_BACK, TIMEOUT
	Reason           string // ECS's rolloutStateReason, or why the wait ended
}

func (e *RolloutError) Error() string {
	return fmt.Sprintf("cluster %s: service %s: rollout %s: %s", e.Cluster, e.Service, strings.ToLower(strings.ReplaceAll(e.State, "_", " ")), e.Reason)
}

// Rollout states of a wait, beyond ECS's own.
const (
	RolloutRolledBack = "ROLLED_BACK"
	RolloutTimeout    = "TIMEOUT"
)

// WaitClusters waits until every service that the syncs' applies moved has finished its
// rollout: the PRIMARY deployment runs the revision apply set, its rolloutState is
// COMPLETED and no other deployment is left (ecspresso's wait, with ECS's rollout state
// instead of "stable": a rolled-back service is stable, on the wrong revision). It
// sets each cluster's ClusterSync.Wait and returns them joined; a RolloutError names ECS's
// reason, as soon as it is known. Clusters whose apply failed are not waited for.
func WaitClusters(ctx context.Context, client ECS, syncs []*ClusterSync, o WaitOptions) error {
	if o.Poll <= 0 {
		o.Poll = 6 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var errs []error
	for _, cs := range syncs {
		if cs.Apply == nil || cs.Failed() != nil {
			continue
		}
		want := map[string]string{} // service name -> revision
		for _, r := range cs.Apply.Resources {
			for _, s := range r.UpdatedServices {
				want[s] = r.Registered
			}
		}
		cs.Wait = waitServices(ctx, client, cs.Cluster, want, o.Poll)
		errs = append(errs, cs.Wait)
	}
	return errors.Join(errs...)
}

func waitServices(ctx context.Context, client ECS, cluster string, want map[string]string, poll time.Duration) error {
	pending := slices.Sorted(func(yield func(string) bool) {
		for s := range want {
			if !yield(s) {
				return
			}
		}
	})
	var errs []error
	for len(pending) > 0 {
		var next []string
		for batch := range slices.Chunk(pending, describeServicesBatch) {
			out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch})
			if err != nil {
				return errors.Join(append(errs, fmt.Errorf("cluster %s: waiting for services: %w", cluster, err))...)
			}
			seen := map[string]bool{}
			for _, svc := range out.Services {
				name := aws.ToString(svc.ServiceName)
				seen[name] = true
				switch done, rerr := rolloutDone(cluster, svc, want[name]); {
				case rerr != nil:
					errs = append(errs, rerr)
				case !done:
					next = append(next, name)
				}
			}
			for _, name := range batch {
				if !seen[name] {
					errs = append(errs, &RolloutError{Cluster: cluster, Service: name, Want: want[name], State: string(types.DeploymentRolloutStateFailed), Reason: "the service is gone"})
				}
			}
		}
		pending = next
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			for _, name := range pending {
				errs = append(errs, &RolloutError{Cluster: cluster, Service: name, Want: want[name], State: RolloutTimeout, Reason: "still in progress: " + ctx.Err().Error()})
			}
			return errors.Join(errs...)
		case <-time.After(poll):
		}
	}
	return errors.Join(errs...)
}

// rolloutDone classifies one described service against the revision apply set.
func rolloutDone(cluster string, svc types.Service, want string) (bool, *RolloutError) {
	name := aws.ToString(svc.ServiceName)
	primary := PrimaryDeployment(svc.Deployments)
	if primary == nil {
		return false, nil
	}
	running := aws.ToString(primary.TaskDefinition)
	fail := func(state string) *RolloutError {
		return &RolloutError{Cluster: cluster, Service: name, Want: want, Running: running, State: state, Reason: aws.ToString(primary.RolloutStateReason)}
	}
	switch {
	case primary.RolloutState == types.DeploymentRolloutStateFailed:
		return true, fail(string(types.DeploymentRolloutStateFailed))
	case running != want:
		// A PRIMARY deployment of another revision: the circuit breaker's rollback (or
		// someone else's update). The failed deployment, while still listed, says why.
		e := fail(RolloutRolledBack)
		for _, d := range svc.Deployments {
			if aws.ToString(d.TaskDefinition) == want && d.RolloutState == types.DeploymentRolloutStateFailed {
				e.Reason = fmt.Sprintf("%s (%s: %s)", e.Reason, ShortARN(want), aws.ToString(d.RolloutStateReason))
			}
		}
		return true, e
	case primary.RolloutState == types.DeploymentRolloutStateCompleted && len(svc.Deployments) == 1:
		return true, nil
	}
	return false, nil
}

// PrimaryDeployment returns the service's PRIMARY deployment, or nil.
func PrimaryDeployment(ds []types.Deployment) *types.Deployment {
	for i := range ds {
		if aws.ToString(ds[i].Status) == "PRIMARY" {
			return &ds[i]
		}
	}
	return nil
}
