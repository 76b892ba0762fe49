#!/usr/bin/env bash
# make demo: both halves of taskward on this machine, no AWS account and no container
# runtime needed.
#
# 1. GitOps. The controller renders the example repo examples/gitops (offline: each image's
#    ENTRYPOINT/CMD comes from the overrides in examples/gitops/taskward.yaml), applies it to
#    an ECS API served in-process (ecslocal), then --demo changes ECS behind Git's back and
#    the drift scan reports it. Exit code 1 there means "drift found", which is the point.
# 2. The runtime defender. The example netcat task (tasks/twistlock-fargate-task.json) runs
#    `nc -ll -p 80 -e /bin/sh`: whoever connects gets a shell. Here the same listener runs
#    on this host under taskward-defender with the repo's policy
#    (examples/gitops/policies/default.yaml); an attacker connects, lists files, and tries to
#    install curl with apk. The defender answers "Permission denied" and reports the event.
#
# BIN (default ./bin) holds taskward and taskward-defender; DEMO_NETCAT=no skips netcat.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./bin}

echo "== 1. GitOps: render, apply, drift"
echo
work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
"$BIN/taskward" controller --repo examples/gitops --ecs local --once --demo --offline | tee "$work/controller"
code=${PIPESTATUS[0]}
if [ "$code" -ne 1 ]; then
	echo "demo: the controller exited $code; 1 (drift found) was expected" >&2
	exit 2
fi
version=$(grep -o 'dir:[0-9a-f]*' "$work/controller" | head -1)
cat <<EOF

What the lines above mean:
  $version   the version of the repo that was applied. examples/gitops is a plain
                     directory, not a Git checkout, so its version is "dir:" and the first
                     12 hex digits of a SHA-256 over its files; for a Git repo it is the
                     commit hash.
  applied / out-of-sync  (after "source ... at VERSION:") the reconcile's verdict: it
                     applied Git's changes, or ECS differs from Git and, without a new
                     commit or --self-heal, the controller reports it instead of reverting.
  Synced / OutOfSync a family (a task definition's name) is Synced when its latest ACTIVE
                     revision in ECS is what Git renders, OutOfSync when not.
  cache:2            family "cache", revision 2: ECS numbers each registered version.
  arn:aws:ecs:...    the Amazon Resource Name of the service or task definition.
  out-of-sync        a service runs a revision that differs from what Git renders.
  unprotected        a service runs containers that do not start through the defender.
  unmanaged          a service runs a family the Git repo does not have.
  drift: 4           four findings. The controller exits 1 when it finds drift: without
                     --once it keeps running, reconciles every minute, scans every 5
                     minutes, alerts, and serves a status page on :8080.

EOF

echo "== 2. The runtime defender: the attack the netcat task invites"
echo
defender="$BIN/taskward-defender"
policy=examples/gitops/policies/default.yaml
# An alpine image has apk; this host may not. A stand-in apk that says so if it ever runs.
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "apk ran: $*"\n' >"$work/bin/apk"
chmod 0755 "$work/bin/apk"
attack='exec 2>&1; echo "$ ls /"; ls / | head -3; echo "$ apk add curl"; apk add curl; echo "(exit status $?)"'

if [ "${DEMO_NETCAT:-yes}" = yes ] && command -v busybox >/dev/null && busybox nc --help 2>&1 | grep -q -- '-e PROG'; then
	port=${DEMO_PORT:-$((20000 + RANDOM % 20000))}
	echo "taskward-defender run --policy $policy -- busybox nc -ll -p $port -e /bin/sh"
	PATH="$work/bin:$PATH" "$defender" run --policy "$policy" -- busybox nc -ll -p "$port" -e /bin/sh 2>"$work/events" &
	pid=$!
	hexport=$(printf ':%04X' "$port")
	for _ in $(seq 100); do
		grep -q "$hexport 00000000:0000 0A" /proc/net/tcp 2>/dev/null && break
		sleep 0.05
	done
	echo "attacker: connects to 127.0.0.1:$port and types:"
	echo
	printf '%s\n' "$attack" | timeout 10 busybox nc -w 3 127.0.0.1 "$port" | sed 's/^/    /'
	sleep 0.5
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
else
	# No busybox netcat here: the attacker's commands reach the shell on its stdin instead
	# of a socket; the defender decides the same way.
	echo "(no busybox netcat here, or DEMO_NETCAT=no: the commands reach the shell on its standard input instead of through netcat)"
	echo "taskward-defender run --policy $policy -- /bin/sh"
	echo
	printf '%s\n' "$attack" | PATH="$work/bin:$PATH" "$defender" run --policy "$policy" -- /bin/sh 2>"$work/events" | sed 's/^/    /'
fi
echo
echo "The defender's events (JSON lines on its standard error; in ECS they also go to the controller):"
grep '^{' "$work/events" | sed 's/^/    /'
cat <<'EOF'

What this means:
  Permission denied  the defender refused the exec of apk: the policy's packageManagers
                     rule is "block", so the kernel call failed with EACCES and apk never
                     ran (exit status 126 is the shell's "found but could not execute").
  blocked            the event for that refusal: rule, reason, the program and its
                     arguments, the user, the working directory and the parent processes.
  alerted            reverseShell: a shell whose input and output are a network socket.
                     The policy says "alert": it runs, and is reported.
  In ECS the defender is the container's first process (taskward renders it in as the
  entrypoint) and adds the task's ARN, family, revision and image to every event.
EOF
if ! grep -q '"action":"blocked","rule":"packageManagers"' "$work/events"; then
	echo "demo: no blocked packageManagers event: the defender did not do its job" >&2
	exit 2
fi
