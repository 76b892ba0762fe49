package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/smithy-go"
)

// A service with an Application Auto Scaling scalable target (namespace ecs, dimension
// ecs:service:DesiredCount, resource service/CLUSTER/SERVICE) has its desiredCount set by
// its scaling policies: plan, apply and drift leave it alone, whatever Git says.

// describeScalableTargetsBatch is DescribeScalableTargets' limit on ResourceIds (and on
// MaxResults) per call.
const describeScalableTargetsBatch = 50

// NoteAutoScaled is the plan note of a service whose desiredCount is left alone.
const NoteAutoScaled = "desiredCount owned by Application Auto Scaling"

// scalableResourceID is the Application Auto Scaling resource ID of an ECS service.
func scalableResourceID(cluster, service string) string {
	return "service/" + cluster + "/" + service
}

// markAutoScaled sets AutoScaled on the services that have a scalable target: one
// paginated DescribeScalableTargets per 50 services, for the whole cluster scan. Without
// the permission (AccessDenied), or from an endpoint that does not serve Application Auto
// Scaling (UnknownOperationException: an ECS-only proxy given as --ecs-endpoint), every
// service gets AutoScalingWarning instead and desiredCount is compared as before; any
// other error fails the scan.
func (r *Reconciler) markAutoScaled(ctx context.Context, services []Service) error {
	if r.autoscaling == nil || len(services) == 0 {
		return nil
	}
	byID := make(map[string]*Service, len(services))
	ids := make([]string, 0, len(services))
	for i := range services {
		id := scalableResourceID(r.cluster, services[i].Name)
		byID[id] = &services[i]
		ids = append(ids, id)
	}
	for batch := range slices.Chunk(ids, describeScalableTargetsBatch) {
		p := applicationautoscaling.NewDescribeScalableTargetsPaginator(r.autoscaling, &applicationautoscaling.DescribeScalableTargetsInput{
			ServiceNamespace:  aastypes.ServiceNamespaceEcs,
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			ResourceIds:       batch,
			MaxResults:        aws.Int32(describeScalableTargetsBatch),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if autoScalingUnavailable(err) {
				warn := fmt.Sprintf("cannot tell whether Application Auto Scaling owns desiredCount (%v): desiredCount is compared with Git; allow application-autoscaling:DescribeScalableTargets", err)
				r.log.WarnContext(ctx, "application-autoscaling:DescribeScalableTargets unavailable; desiredCount compared with Git", "cluster", r.cluster, "error", err)
				for i := range services {
					services[i].AutoScaled = false
					services[i].AutoScalingWarning = warn
				}
				return nil
			}
			if err != nil {
				return fmt.Errorf("describe scalable targets of cluster %s: %w", r.cluster, err)
			}
			for _, t := range out.ScalableTargets {
				if s := byID[aws.ToString(t.ResourceId)]; s != nil && t.ScalableDimension == aastypes.ScalableDimensionECSServiceDesiredCount {
					s.AutoScaled = true
				}
			}
		}
	}
	return nil
}

// autoScalingUnavailable reports an IAM refusal (AccessDeniedException, or the query
// protocols' AccessDenied / UnauthorizedOperation) or an endpoint without the API.
func autoScalingUnavailable(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnknownOperationException":
		return true
	}
	return false
}
