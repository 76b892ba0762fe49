#!/usr/bin/env bash
# make demo: the main job on the embedded default. The controller renders the example
# GitOps repo (offline: image configs come from the reviewed overrides in
# examples/gitops/taskward.yaml), applies it to an in-process ecslocal, then --demo changes
# ECS behind Git's back (a hand-registered unprotected service, a defender stripped from a
# managed family) and the drift scan reports it. Exit code 1 means "drift found", which is
# what the demo shows, so it is not a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
./bin/taskward controller --repo examples/gitops --ecs local --once --demo --offline
code=$?
if [ "$code" -eq 1 ]; then
	echo
	echo "drift reported (exit 1), as the demo intends. Without --once the controller keeps running and serves the status page on :8080."
	exit 0
fi
exit "$code"
