package reconcile

import (
	"context"
	"strings"
)

// Revision returns one task definition revision by ARN, described once and then served
// from the cache for the life of the Reconciler (revisions never change). The drift scan
// uses it for the revisions services and tasks run, so a scan of an unchanged account
// describes nothing new.
func (r *Reconciler) Revision(ctx context.Context, arn string) (*Revision, error) {
	if rev := r.cached(arn); rev != nil {
		return rev, nil
	}
	return r.describe(ctx, arn)
}

// Services lists the ACTIVE services of the Reconciler's cluster, described in batches
// of ten.
func (r *Reconciler) Services(ctx context.Context) ([]Service, error) { return r.services(ctx) }

// Cluster returns the cluster the Reconciler works on.
func (r *Reconciler) Cluster() string { return r.cluster }

// IsTaskDefinitionARN reports whether s looks like a task definition ARN (not a bare
// family or family:revision).
func IsTaskDefinitionARN(s string) bool { return strings.Contains(s, ":task-definition/") }

// ContentHash returns the revision's content hash, computed when it was described.
func (r *Revision) ContentHash() string { return r.hash }
