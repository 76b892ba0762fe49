#!/usr/bin/env bash
# Compares two defender binaries on script execs of real interpreters, interleaved in one run:
#   hack/cfloor/scriptcost.sh OLD NEW [ROUNDS] [RUNS]
# In the Debian rootfs of the false-positive suite (hack/debian-rootfs.sh), each round runs,
# for dash, bash, python3, perl and node, RUNS executions of a one-line script bare, then
# under OLD and NEW with --mechanism notify and trace, and prints the median over rounds of
# the wall milliseconds each script exec adds to bare, and of NEW-OLD. Run as root (chroot,
# a private mount namespace for /proc).
set -euo pipefail
old=${1:?usage: scriptcost.sh OLD NEW [ROUNDS] [RUNS]} new=${2:?usage: scriptcost.sh OLD NEW [ROUNDS] [RUNS]}
rounds=${3:-5} runs=${4:-20}
here=$(cd "$(dirname "$0")" && pwd)
rootfs=$(bash "$here/../debian-rootfs.sh")
work=$(mktemp -d "$rootfs/tmp/scriptcost.XXXXXX")
trap 'rm -rf "$work"' EXIT
rel=${work#"$rootfs"}
cp "$old" "$work/old"
cp "$new" "$work/new"
echo 'true' >"$work/s.sh"
echo 'pass' >"$work/s.py"
echo '1;' >"$work/s.pl"
echo ';' >"$work/s.js"
cat >"$work/loop" <<LOOP
i=0; while [ \$i -lt $runs ]; do "\$@"; i=\$((i+1)); done
LOOP
# The scripts came with the image: dated before the task (the defenders' install) started.
touch -d 2020-01-01 "$work"/s.* "$work/loop"
out=$(mktemp)
cells=(bare old-notify new-notify old-trace new-trace)
for _ in $(seq 1 "$rounds"); do
	for it in "dash s.sh" "bash s.sh" "python3 s.py" "perl s.pl" "node s.js"; do
		set -- $it
		for cell in "${cells[@]}"; do
			pre=()
			if [ "$cell" != bare ]; then pre=("$rel/${cell%-*}" run --mechanism "${cell#*-}" --); fi
			s=$(date +%s%N)
			unshare -m sh -c 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' sh "$rootfs" "$rootfs" \
				env TASKWARD_POLICY='{"name":"default"}' "${pre[@]}" /bin/dash "$rel/loop" "$1" "$rel/$2" >/dev/null 2>&1
			echo "$1 $cell $(( ($(date +%s%N) - s) / 1000 ))" >>"$out"
		done
	done
done
python3 - "$out" "$runs" <<'PY'
import statistics as st, sys, collections
runs = int(sys.argv[2])
t = collections.defaultdict(list)
for l in open(sys.argv[1]):
    i, c, us = l.split(); t[(i, c)].append(int(us) / 1000 / runs)
print(f"{'interpreter':12} {'bare ms':>8} " + " ".join(f"{c:>11}" for c in ["old notify", "new notify", "old trace", "new trace", "new-old n", "new-old t"]))
for i in ["dash", "bash", "python3", "perl", "node"]:
    b = t[(i, "bare")]
    add = {c: [x - y for x, y in zip(t[(i, c)], b)] for c in ["old-notify", "new-notify", "old-trace", "new-trace"]}
    d = lambda n, o: st.median([x - y for x, y in zip(t[(i, n)], t[(i, o)])])
    print(f"{i:12} {st.median(b):8.2f} " + " ".join(f"{st.median(add[c]):+11.2f}" for c in add) + f" {d('new-notify','old-notify'):+11.2f} {d('new-trace','old-trace'):+11.2f}")
print("(ms per script exec added to bare; medians over rounds)")
PY
rm -f "$out"
