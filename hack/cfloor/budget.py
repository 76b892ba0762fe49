#!/usr/bin/env python3
"""Compares defender binaries on fork+exec, interleaved, and splits the cost.

    hack/cfloor/budget.py [-r ROUNDS] OLD NEW [NEW2 ...]

Each round runs loop.sh (1,000 fork+exec of /bin/true) bare and under every binary with
--mechanism notify and trace, in an order that rotates from round to round. The loop runs
under rus (rus.c, built here), which reports the loop's own CPU time (the shell and its
children); the run as a whole reports, through wait4, that plus the defender's. So each run
gives three figures: the tree's CPU, the program's CPU (where ptrace stops and seccomp
show), and the defender's own (the difference).

Printed, per mechanism and for each NEW against OLD: the median of the per-round
differences NEW-OLD over the bare run's CPU, with a bootstrap 95% interval of that median,
for the tree, the program and the defender. The defender's share is the least noisy, and
the program's should not move when only the defender's own work changes.
"""
import argparse, os, random, statistics as st, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("-r", "--rounds", type=int, default=20)
ap.add_argument("binaries", nargs="+")
args = ap.parse_args()
if len(args.binaries) < 2:
    sys.exit("usage: budget.py [-r ROUNDS] OLD NEW [NEW2 ...]")
rus = os.path.join(tempfile.mkdtemp(), "rus")
subprocess.run(["gcc", "-O2", "-static", "-o", rus, os.path.join(here, "rus.c")], check=True)
# A program written after the defender binary was installed is drift: date it as the image's.
os.utime(rus, (0, 0))
env = dict(os.environ, TASKWARD_POLICY='{"name":"default"}')
loop = [rus, "busybox", "sh", os.path.join(here, "loop.sh")]
mechs = ["notify", "trace"]
variants = {"bare": []}
for i, b in enumerate(args.binaries):
    for m in mechs:
        variants[(i, m)] = [b, "run", "--mechanism", m, "--"]
names = list(variants)


def run(name):
    fd, out = tempfile.mkstemp()
    os.close(fd)
    t = time.monotonic()
    p = subprocess.Popen(variants[name] + loop, env=dict(env, RUS_OUT=out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    with open(out) as f:
        words = f.read().split()
    os.unlink(out)
    if status != 0 or not words:
        sys.exit(f"{variants[name] + loop}: exit status {status}, no CPU time reported")
    tree = ru.ru_utime + ru.ru_stime
    prog = int(words[-1]) / 1e6
    return {"tree": tree, "prog": prog, "def": tree - prog, "wall": wall}


def label(n):
    return "bare" if n == "bare" else f"{os.path.basename(args.binaries[n[0]])} {n[1]}"


run("bare")  # warm up
rows = []
for r in range(args.rounds):
    k = r % len(names)
    row = {n: run(n) for n in names[k:] + names[:k]}
    rows.append(row)
    print(f"round {r+1}: " + "  ".join(f"{label(n)} {row[n]['tree']:.3f}/{row[n]['prog']:.3f}" for n in names), flush=True)


def ci(d):
    rnd = random.Random(1)
    meds = sorted(st.median(rnd.choices(d, k=len(d))) for _ in range(2000))
    return meds[50], meds[1949]


print(f"\n{args.rounds} rounds; bare loop CPU median {st.median(r['bare']['tree'] for r in rows):.3f} s for 1,000 fork+exec")
for m in mechs:
    for i in range(len(args.binaries)):
        per = st.median(r[(i, m)]["def"] for r in rows) * 1e3
        print(f"{label((i, m))}: tree CPU {st.median(r[(i, m)]['tree'] / r['bare']['tree'] for r in rows):.3f}x bare; defender {per:.1f} us per exec")
    for i in range(1, len(args.binaries)):
        print(f"  {label((i, m))} - {label((0, m))}:")
        for part in ["tree", "prog", "def"]:
            d = [(r[(i, m)][part] - r[(0, m)][part]) / r["bare"]["tree"] for r in rows]
            lo, hi = ci(d)
            per = st.median(r[(i, m)][part] - r[(0, m)][part] for r in rows) * 1e3
            print(f"    {part:4} {st.median(d):+.4f}x bare (95% CI {lo:+.4f} to {hi:+.4f}); {per:+.1f} us per exec")
