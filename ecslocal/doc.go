// Package ecslocal is an Amazon ECS API endpoint that runs in-process. It speaks the
// real wire protocol (AWS JSON 1.1: POST, X-Amz-Target
// "AmazonEC2ContainerServiceV20141113.<Operation>", Content-Type
// application/x-amz-json-1.1, errors as {"__type": ..., "message": ...}), so the
// unmodified aws-sdk-go-v2 ECS client works against it through BaseEndpoint:
//
//	r, err := ecslocal.Listen(ctx, "127.0.0.1:0")
//	...
//	defer r.Close()
//	cfg := aws.Config{Region: "us-east-1",
//		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
//	client := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(r.URL) })
//
// The AWS CLI and other SDKs work too: AWS_ENDPOINT_URL_ECS=<r.URL>.
//
// # What it implements
//
// Task definitions (Register, Describe, Deregister, DeleteTaskDefinitions, List,
// ListFamilies), clusters (Create, Describe, List, Update, Delete), services (Create,
// Describe, List, Update, Delete), tasks (RunTask, StopTask, ListTasks, DescribeTasks) and
// tags (TagResource, UntagResource, ListTagsForResource) on all four kinds of resource.
//
// It reproduces the ECS behaviour that taskward depends on (DESIGN.md, "ECS behaviour that
// ecslocal must reproduce"):
//
//   - A registration is reduced to the API shape (unknown members and nulls dropped,
//     wrong JSON types answered with SerializationException), validated as ECS validates
//     it, and stored with what ECS adds: taskDefinitionArn
//     (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REV), revision counting up per
//     family, status ACTIVE, requiresAttributes, compatibilities, registeredAt and
//     registeredBy, and the defaults of applyDefaults (essential, cpu 0, empty lists,
//     port protocol and hostPort, health-check timings, cpu/memory unit conversion).
//   - Describe by family (latest ACTIVE), family:revision or ARN; deregister makes a
//     revision INACTIVE; only INACTIVE revisions can be deleted.
//   - List operations page with maxResults 1-100 and an opaque nextToken. ListServices
//     returns 10 per page by default, the others 100. In ListTaskDefinitions familyPrefix
//     must be the whole family name (as in ECS, whatever its name says); in
//     ListTaskDefinitionFamilies it is a prefix.
//   - DescribeServices takes at most 10 services and DescribeTasks at most 100; unknown
//     ones are returned as failures with reason "MISSING".
//   - Services deploy as ECS's rolling update does (deployments.go): at once by default,
//     their tasks RUNNING when the call returns; over time, with the deployment circuit
//     breaker and failing tasks, with RuntimeFaults (POST /_ecslocal/faults). Nothing is
//     actually run.
//
// # Validation
//
// Family and container names match [a-zA-Z0-9_-]{1,255}; 1 to 10 containers; the stored
// definition is at most 64 KiB; container names unique; image required and non-empty
// ("Container.image should not be null or empty.", as ECS has answered since 2021, so a
// template with "image": "" is rejected); without task-level memory every container needs
// memory or memoryReservation; cpu and memory strings must parse; a definition requiring
// FARGATE must use awsvpc and a task size Fargate offers.
//
// # Security
//
// Request bodies are limited to 1 MiB. A request must carry a SigV4 Authorization header
// (AWS4-HMAC-SHA256); the signature is not verified, so any key works.
//
// # Faults and stats
//
// SetFaults throttles a seeded fraction of calls with ThrottlingException (the SDK's
// retryer retries those), fails named operations with a given error type, and adds
// latency. Stats counts calls per operation (throttled and failed calls included) and the
// calls answered by injected faults ("throttled", "injected"); the counters are also
// served as JSON at GET /_ecslocal/stats.
//
// # State
//
// State lives in memory, or in a JSON file (WithStateFile) that is loaded at start and
// rewritten atomically (temporary file, fsync, rename) after every successful mutating
// call. One mutex serialises all operations.
//
// ecslocal implements ECS on its own: it must never import taskward's reconcile or
// manifests packages, so that a bug in their normalisation cannot agree with itself.
package ecslocal
