#!/usr/bin/env bash
# Builds (once) and prints the path of a Debian bookworm root file system with real software
# for the defender's false-positive suite (cmd/taskward-defender/realsoftware_test.go) and
# hack/bench-defender's real workloads:
#   dir=$(hack/debian-rootfs.sh)
# debootstrap's minbase variant plus the packages below. The result is cached under
# $TASKWARD_CACHE (default /var/cache/taskward), keyed by the suite, the package list and
# FORMAT (bump it when the steps after debootstrap change), and reused by later runs; a build
# that fails leaves nothing behind. Treat the directory as read-only: the tests run containers on an overlay of it.
# Needs root and debootstrap (hack/install-deps.sh installs it) and deb.debian.org.
set -euo pipefail
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# nginx and postgresql serve; python3-venv and nodejs run applications with subprocesses;
# util-linux (essential, listed for its runuser/setpriv/su) and sudo drop privileges in
# entrypoints; apt is in minbase (the package manager the policy must block).
PACKAGES=nginx-light,postgresql,python3,python3-venv,nodejs,util-linux,sudo,procps
FORMAT=1
cache=${TASKWARD_CACHE:-/var/cache/taskward}
key=$(echo "$SUITE $PACKAGES $FORMAT" | sha256sum | cut -c1-12)
dir=$cache/debian-$SUITE-$key
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "debian-rootfs: need root to build $dir (debootstrap)" >&2
	exit 1
fi
command -v debootstrap >/dev/null || {
	echo "debian-rootfs: debootstrap is missing: make deps (hack/install-deps.sh) installs it" >&2
	exit 1
}
mkdir -p "$cache"
# One build at a time (parallel test binaries may ask together).
exec 9>"$cache/.debian-rootfs.lock"
flock 9
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi
tmp=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
# No fsync per unpacked file (the rootfs is a cache: a crash loses a build, not data).
mkdir -p "$tmp/root/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$tmp/root/etc/dpkg/dpkg.cfg.d/taskward-unsafe-io"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp/root" "$MIRROR" >"$tmp/log" 2>&1; then
	tail -n 30 "$tmp/log" >&2
	echo "debian-rootfs: debootstrap $SUITE failed (log above)" >&2
	exit 1
fi
root=$tmp/root
rm "$root/etc/dpkg/dpkg.cfg.d/taskward-unsafe-io"
# What a container image has and a debootstrap chroot does not: no apt lists or caches, no
# running services, and the users the tests drop to.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
chroot "$root" useradd --create-home --uid 1000 --shell /bin/bash app
# nginx as a container runs it: in the foreground, logging to stdout/stderr, as root master.
printf 'daemon off;\nerror_log stderr notice;\npid /tmp/nginx.pid;\nworker_processes 2;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n  include /etc/nginx/mime.types;\n  server {\n    listen 127.0.0.1:8080;\n    root /var/www/html;\n  }\n}\n' >"$root/etc/nginx/nginx.conf"
touch "$root/.complete"
mv "$root" "$dir"
echo "debian-rootfs: built $dir in $(($(date +%s) - start))s, $(du -sh "$dir" | cut -f1)" >&2
echo "$dir"
