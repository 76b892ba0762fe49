package reconcile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/taskward/taskward/internal/ojson"
)

// Live is a snapshot of what ECS holds, as [Plan] needs it.
type Live struct {
	Cluster  string
	Families map[string]*LiveFamily // by family name
	Services []Service              // ACTIVE services of the cluster
}

// LiveFamily is one task definition family in ECS.
type LiveFamily struct {
	Family string
	// Latest is the latest ACTIVE revision, described. It is nil when the family has no
	// ACTIVE revision, or when it was not described (a family Git does not have, without
	// prune).
	Latest *Revision
	// Active lists the ARNs of every ACTIVE revision, newest first.
	Active []string
	// LastApplied is the newest ACTIVE revision taskward registered (managed-by tag): what
	// taskward last applied to the family, read from ECS so that a restarted controller
	// knows it. Latest when that is taskward's; nil when none of the newest
	// lastAppliedDepth revisions is.
	LastApplied *Revision
}

// Revision is one described task definition revision. Revisions are immutable, so a
// Revision is cached by ARN for the life of a [Reconciler].
type Revision struct {
	ARN    string
	Family string
	Number int
	// Definition is the taskDefinition object as ECS returned it on the wire (unknown
	// fields included), with the revision's tags under "tags".
	Definition *ojson.Value
	Tags       map[string]string

	reduced *ojson.Value // Reduce(Definition), computed once
	hash    string       // hashReduced(reduced)
}

// NewRevision builds a Revision from a described definition and its tags, reducing and
// hashing it once.
func NewRevision(arn string, def *ojson.Value, tags map[string]string) (*Revision, error) {
	family, num, err := ParseTaskDefinitionARN(arn)
	if err != nil {
		return nil, err
	}
	r := &Revision{ARN: arn, Family: family, Number: num, Definition: def, Tags: tags}
	r.reduced = Reduce(def)
	r.hash = hashReduced(r.reduced)
	return r, nil
}

// Managed reports whether taskward registered this revision.
func (r *Revision) Managed() bool { return r != nil && r.Tags[TagManagedBy] == ManagedByValue }

// Service is one ECS service, reduced to what reconcile decides on.
type Service struct {
	Name           string
	ARN            string
	TaskDefinition string // ARN of the revision the service's primary deployment runs
	Family         string // family of TaskDefinition
	// DeploymentController is ECS, CODE_DEPLOY or EXTERNAL. Only ECS-controlled services
	// can be moved to a new revision with UpdateService.
	DeploymentController string
	// Tags are the service's tags; taskward.dev/content-hash and taskward.dev/commit say
	// what taskward last deployed to it, taskward.dev/deployment the deployment it started.
	Tags map[string]string

	DesiredCount, RunningCount int32
	Deployments                []Deployment // as ECS lists them, PRIMARY first
	Events                     []string     // the service's event messages, newest first
	// Raw is the service as DescribeServices returned it on the wire, for comparing
	// services in Git field by field.
	Raw *ojson.Value
	// AutoScaled is true when an Application Auto Scaling scalable target owns the
	// service's desiredCount: it is not compared with Git, nor set from it.
	AutoScaled bool
	// AutoScalingWarning says why AutoScaled could not be known (permission denied):
	// desiredCount is then compared with Git, as without autoscaling.
	AutoScalingWarning string
}

// Deployment is one deployment of a service.
type Deployment struct {
	ID             string
	Status         string // PRIMARY, ACTIVE
	TaskDefinition string
	RolloutState   string // IN_PROGRESS, COMPLETED, FAILED
	Reason         string // rolloutStateReason
	FailedTasks    int32
}

// ParseTaskDefinitionARN splits arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REV.
func ParseTaskDefinitionARN(arn string) (family string, revision int, err error) {
	_, rest, ok := strings.Cut(arn, ":task-definition/")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return "", 0, fmt.Errorf("%q: not a task definition ARN", arn)
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", 0, fmt.Errorf("%q: task definition ARN without a revision", arn)
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n <= 0 {
		return "", 0, fmt.Errorf("%q: bad revision %q", arn, rest[i+1:])
	}
	return rest[:i], n, nil
}
