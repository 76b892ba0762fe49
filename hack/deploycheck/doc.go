// Package deploycheck holds the checks of what ships beside the binaries: the Helm chart
// (charts/taskward: helm lint, helm template, the rendered manifests), the example ECS
// deployment (examples/deploy/ecs: the controller's own task definition rendered with
// taskward protect, the service, the IAM policy) and the IAM policy's list of ECS and ECR
// actions against the SDK calls the code makes. It has no code of its own: only tests.
package deploycheck
