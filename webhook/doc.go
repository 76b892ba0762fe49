// Package webhook receives VCS events (GitHub, GitLab) and reviews pull requests.
//
// Receivers. [NewGitHubHandler] and [NewGitLabHandler] are http.Handlers the controller
// mounts at /webhook/github and /webhook/gitlab. Each request goes through the same
// steps, in order, and stops at the first that fails:
//
//	method      POST only (405)
//	media type  application/json; GitHub also form-encoded "payload=" (415)
//	size        at most the max body size, 1 MiB by default (413)
//	auth        GitHub: HMAC-SHA256 of the raw body in X-Hub-Signature-256; GitLab: the
//	            shared token in X-Gitlab-Token; both compared in constant time (401, counted)
//	parse       the JSON payload (400)
//	de-dup      the delivery id (X-GitHub-Delivery; GitLab's Idempotency-Key, else
//	            X-Gitlab-Event-UUID) in a bounded LRU with a TTL: a replay is refused (409)
//	dispatch    a push to the watched branch calls Trigger.RequestReconcile; an opened,
//	            reopened or synchronized pull request calls Reviewer.ReviewPullRequest;
//	            anything else is answered 202 and ignored
//
// Authentication comes before de-duplication so that an unauthenticated request cannot
// fill the cache and make a genuine delivery look like a replay.
//
// Review. [Prepare] loads and renders a commit (any fs.FS: a checkout or a commit tree);
// [Review] runs the checks over it and summarizes its reconcile plans against live ECS (one
// per cluster, from [WithPlanners] or [WithPlannersFor]), and returns a [Report], which renders as Markdown and
// as a one-line summary. [Review] is pure: it
// reads its input and talks to nothing. Every string in a report passes through a
// scrubber: values of environment variables that look like secrets are never echoed (the
// variable's name is), and credentials in URLs are replaced.
//
// Publishing. [GitHubPublisher] and [GitLabPublisher] post a commit status
// (taskward/review) and upsert one pull-request comment, found again on the next push by
// the hidden marker [CommentMarker], through go-retryablehttp with bounded retries.
package webhook
