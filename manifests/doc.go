// Package manifests is the GitOps repository model: it loads and validates task
// definitions, policies and the repo configuration, and renders protected task definitions
// (the defender injected) and back again.
//
// A repo is a directory (a Git checkout, later):
//
//	taskward.yaml          region, clusters, defender image, events, skipped containers, image overrides
//	tasks/**/*.json        one task definition each, as `aws ecs register-task-definition --cli-input-json` takes it
//	policies/*.yaml        runtime policies and trusted-image rules
//
// Task definitions are held as ordered JSON trees (internal/ojson), never as typed structs,
// so that every field survives every step in its place (DESIGN.md decision 1). The ECS API
// model that validation checks against is the aws-sdk-go-v2 ECS service's own schema
// (service/ecs/schemas), so a field ECS does not know is caught the day it is mistyped.
package manifests
