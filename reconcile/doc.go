// Package reconcile compares the task definitions Git wants with what ECS runs and makes
// ECS match.
//
// The core is pure (STYLE.md rule 1): [Reduce] applies the normalization rules of
// DESIGN.md decision 6 (listed in one place, [Rules]); [Diff] compares two reduced
// definitions field by field; [Plan] turns the desired set and a [Live] snapshot into
// per-resource actions (a task-definition family, a service). Only [Reconciler] talks to ECS: [Reconciler.Live] reads live state
// (revisions cached by ARN, because a revision never changes) and [Reconciler.Apply]
// registers, updates services and prunes.
//
// The pipeline every caller runs (pipeline.go): [Prepare] (load → render → desired), then
// [SyncClusters] (live → plan → apply, cluster after cluster) and [WaitClusters] (rollouts).
// [DriftClassifier] classifies what runs against Git (tables in, findings out); what
// "protected" means is manifests' ([manifests.Config.Unprotected]). The status vocabulary
// (sync state, health, result, drift kind) is typed in vocab.go, one spelling each.
//
// Phases, in order:
//
//	Live   ListTaskDefinitions (ACTIVE, DESC) pages -> latest ARN per family;
//	       DescribeTaskDefinition only for ARNs not in the cache; ListServices pages;
//	       DescribeServices in batches of 10.
//	Plan   per family: register (new or changed), update-service (a service runs another
//	       revision), noop, prune (opt-in, refused for an empty desired set).
//	Apply  register with taskward.dev/* tags (skipped when the latest revision already
//	       carries the same content hash), then UpdateService to the new ARN; families run
//	       concurrently and fail independently.
package reconcile
