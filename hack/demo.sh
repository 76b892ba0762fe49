#!/usr/bin/env bash
# make demo: the main job on the embedded default. Builds taskward, validates and renders
# the example GitOps repo (offline: image configs come from the reviewed overrides in
# examples/gitops/taskward.yaml), and shows the seed's "Generate Protected Task".
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/taskward
repo=examples/gitops

echo "== taskward validate --repo $repo"
$bin validate --repo "$repo" --offline
echo
echo "== taskward protect $repo/tasks/twistlock-fargate-task.json   (the seed's Generate Protected Task)"
$bin protect "$repo/tasks/twistlock-fargate-task.json" --offline
