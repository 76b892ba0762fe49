#!/usr/bin/env bash
# Builds a busybox root file system for the defender's container tests:
#   hack/rootfs.sh DIR [FILE:DEST ...]
# DIR gets Debian's static busybox with every applet linked, a stub /sbin/apk (a package
# manager the policy must block), /etc/passwd with root and app (uid 1000), and the mount
# points runc needs. Each FILE:DEST pair copies an extra file into the image (a test helper,
# the dynamic loader...). Needs busybox-static (hack/install-deps.sh installs it).
set -euo pipefail
dir=${1:?usage: hack/rootfs.sh DIR [FILE:DEST ...]}
shift
bb=${BUSYBOX:-/bin/busybox}
if ! "$bb" --list-full >/dev/null 2>&1; then
	echo "rootfs: $bb is not a busybox binary: apt-get install busybox-static" >&2
	exit 1
fi
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,tmp,proc,sys,dev,root,home/app,taskward,opt,lib64}
chmod 1777 "$dir/tmp"
install -m 0755 "$bb" "$dir/bin/busybox"
for applet in $("$bb" --list-full); do
	[ -e "$dir/$applet" ] || [ -L "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
done
# A program of the image that no allow list names: the symlink attack points at it.
install -m 0755 "$bb" "$dir/opt/tool"
printf '#!/bin/sh\necho "APK RAN: $*"\n' >"$dir/sbin/apk"
chmod 0755 "$dir/sbin/apk"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$dir/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$dir/etc/group"
chown 1000:1000 "$dir/home/app"
for pair in "$@"; do
	src=${pair%%:*} dst=${pair#*:}
	mkdir -p "$dir/$(dirname "$dst")"
	install -m 0755 "$src" "$dir/$dst"
done
