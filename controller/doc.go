// Package controller is taskward's long-running process: it keeps ECS equal to Git,
// protected, and says loudly when it is not.
//
// A reconcile is a slice of phases run in order (STYLE.md rule 2), each saying what status
// it sets:
//
//	fetch   bring the source up to date; a failure keeps the last good commit (Status.Source)
//	prepare load and render the commit (reconcile.Prepare, the CLI's and reviews' pipeline);
//	        a broken commit is reported file by file and the last good desired state is
//	        kept, so nothing from it is applied (Status.Commit, Status.Problems)
//	sync    plan against every cluster and apply (reconcile.SyncClusters) when the commit is
//	        new, or always with self-heal (Status.Families sync state, last error, revision)
//	report  compute Ready and the overall result, in one place (Status.Ready, Status.Result)
//
// A drift scan runs on its own schedule (robfig/cron) and after every reconcile in --once
// mode: it reads every service and standalone task of the configured clusters
// (reconcile.Reconciler.Workloads) and has reconcile.DriftClassifier classify them
// (DESIGN.md decision 8): unprotected, out-of-sync, unmanaged. The controller only
// schedules the scan and keeps the alert book.
// Alerts fire once per resource and kind, again when the revision changes, and a resolved
// message when the finding goes away; they are queued for the notifiers, so a dead
// receiver never delays a reconcile.
package controller
