#!/usr/bin/env bash
# Compares two defender binaries on fork+exec, interleaved in one run:
#   hack/cfloor/compare.sh OLD NEW [ROUNDS]
# Each round runs loop.sh (1,000 fork+exec of /bin/true) bare, then under OLD and NEW with
# --mechanism notify and trace, and prints the wall and CPU (user+sys of the whole tree)
# seconds of each, then the median per-round ratios to bare and the median of the
# per-round differences NEW-OLD over bare. CPU time is what a loaded machine still measures.
set -euo pipefail
old=${1:?usage: compare.sh OLD NEW [ROUNDS]} new=${2:?usage: compare.sh OLD NEW [ROUNDS]} rounds=${3:-15}
cd "$(dirname "$0")"
export TASKWARD_POLICY='{"name":"default"}'
out=$(mktemp)
t() { /usr/bin/time -f "%e %U %S" -o "$out.t" "$@" >/dev/null 2>&1; awk '{printf "%s %.2f ", $1, $2+$3}' "$out.t"; }
for _ in $(seq 1 "$rounds"); do
	{
		t busybox sh loop.sh
		t "$old" run --mechanism notify -- busybox sh loop.sh
		t "$new" run --mechanism notify -- busybox sh loop.sh
		t "$old" run --mechanism trace -- busybox sh loop.sh
		t "$new" run --mechanism trace -- busybox sh loop.sh
		echo
	} | tee -a "$out"
done
python3 - "$out" <<'PY'
import statistics as st, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 10]
names = ["bare", "old notify", "new notify", "old trace", "new trace"]
for k, what in [(1, "cpu"), (0, "wall")]:
    for i in range(1, 5):
        r = [x[2*i+k] / x[k] for x in rows]
        print(f"{what} {names[i]}: {st.median(r):.3f}x bare (min {min(r):.2f}, max {max(r):.2f})")
    for a, b, n in [(2, 1, "notify"), (4, 3, "trace")]:
        d = [(x[2*a+k] - x[2*b+k]) / x[k] for x in rows]
        print(f"{what} {n} new-old: {st.median(d):+.3f}x bare (min {min(d):+.2f}, max {max(d):+.2f})")
PY
rm -f "$out" "$out.t"
