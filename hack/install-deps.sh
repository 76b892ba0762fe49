#!/usr/bin/env bash
# Installs what the tests need on a Debian machine: runc and busybox-static for the defender's
# container tests, debootstrap for their false-positive suite on real software (whose Debian
# rootfs it builds and caches: hack/debian-rootfs.sh), git for the Git transport tests,
# chromium for the status page test, awscli for ecs-local's banner.
# Idempotent and quiet when all is present.
set -euo pipefail
need=()
command -v runc >/dev/null || need+=(runc)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v git >/dev/null || need+=(git)
command -v strace >/dev/null || need+=(strace)
command -v wrk >/dev/null || need+=(wrk)
# unshare runs the defender as PID 1 of a new PID namespace on the host (TestNotifyFallsBackToTrace).
command -v unshare >/dev/null || need+=(util-linux)
# debootstrap builds the Debian rootfs of the false-positive suite (hack/debian-rootfs.sh).
command -v debootstrap >/dev/null || need+=(debootstrap)
# musl-gcc (and gcc, which it wraps) builds the musl and $ORIGIN programs of the loader's
# tests (cmd/taskward-defender/loaderattack_test.go).
command -v musl-gcc >/dev/null || need+=(musl-tools)
# A real browser looks at the controller's status page (controller/statuspage_test.go).
# Measured: about 55 s to download and install on the CI's 2 cores, once.
command -v chromium >/dev/null || need+=(chromium)
# The real AWS CLI (Debian's v2.9) follows ecs-local's banner (cmd/taskward/awscli_test.go).
# Measured: about 21 s to install.
command -v aws >/dev/null || need+=(awscli)
# The controller image carries the build machine's CA bundle (hack/build-images).
[ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: need root to install: ${need[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# helm for the chart checks (hack/deploycheck) and make release: built from the Go module
# proxy (no other download is reachable) and kept in GOPATH/bin; a few minutes, once.
HELM_VERSION=v3.22.0
if ! command -v helm >/dev/null && ! [ -x "$(go env GOPATH)/bin/helm" ]; then
	echo "install-deps: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (a few minutes, once)" >&2
	go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
# The Debian rootfs of the defender's false-positive suite: built once per package list
# (minutes, cold) and cached under /var/cache/taskward; the suite fails in CI without it.
if [ "$(id -u)" -eq 0 ]; then
	bash "$(dirname "$0")/debian-rootfs.sh" >/dev/null
fi
