#!/usr/bin/python3
"""The planner micro-benchmark, tracked: runs build/bench/sk-bench, expresses every operation as
a ratio to the raw libxml2 parse measured in the same run, fastest round of each (machines
differ and are noisy; the ratios travel), and compares those ratios with the stored baseline
(bench/planner-baseline.txt).
Exits 1 when an operation got slower than --threshold times its baseline ratio.

    /usr/bin/python3 bench/planner.py [--rounds 21] [--threshold 2.0] [--update]

--update rewrites the baseline from the median ratios of a few runs (do it when a change is
meant to be slower or faster, and commit the file with the change)."""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE = os.environ.get("SK_PLANNER_BASELINE", os.path.join(HERE, "planner-baseline.txt"))
BASE_LABEL = "baseline: libxml2 parse of the domain XML"
# sk-bench prints the median and the min of its rounds; the min is the steadier estimate of
# what an operation costs on a shared machine, so the ratios use it.
LINE = re.compile(r"^(.+?)\s+[\d.]+ us/op\s+\(min ([\d.]+),")


def run(sk_bench, rounds):
    out = subprocess.run([sk_bench, str(rounds)], capture_output=True, text=True,
                         check=True).stdout
    results = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            results[m.group(1).strip()] = float(m.group(2))
    if BASE_LABEL not in results:
        sys.exit(f"planner.py: no baseline line in sk-bench's output:\n{out}")
    return results


def read_baseline():
    stored = {}
    with open(BASELINE) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            label, _, ratio = line.rstrip("\n").split("\t")
            stored[label] = float(ratio)
    return stored


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.path.join(os.environ.get("SK_BUILD", os.path.join(HERE, "..", "build")),
                           "bench", "sk-bench")
    ap.add_argument("--sk-bench", default=default)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--threshold", type=float, default=2.0,
                    help="fail when an operation's ratio exceeds this many times its baseline")
    ap.add_argument("--update", action="store_true",
                    help="store the median ratios of --update-runs runs as the baseline")
    ap.add_argument("--update-runs", type=int, default=5)
    args = ap.parse_args()

    results = run(args.sk_bench, args.rounds)
    raw = results[BASE_LABEL]
    ratios = {label: us / raw for label, us in results.items()}
    if args.update:
        runs = [ratios] + [
            {label: us / r[BASE_LABEL] for label, us in r.items()}
            for r in (run(args.sk_bench, args.rounds) for _ in range(args.update_runs - 1))]
        ratios = {label: statistics.median(r[label] for r in runs) for label in ratios}
        with open(BASELINE, "w") as f:
            f.write("# bench/planner.py --update: operation, min us/op, ratio to the raw "
                    f"libxml2 parse of the same run ({time.strftime('%Y-%m-%d', time.gmtime())})\n")
            for label, us in results.items():
                f.write(f"{label}\t{us:.1f}\t{ratios[label]:.6f}\n")
        print(f"baseline written to {BASELINE}")
    stored = read_baseline()
    print(f"{'operation':<44} {'min us':>9} {'/raw':>9} {'baseline':>9} {'change':>7}")
    worse = []
    for label, us in results.items():
        base = stored.get(label)
        change = ratios[label] / base if base else float("nan")
        flag = ""
        if base and change > args.threshold:
            worse.append(label)
            flag = "  REGRESSION"
        print(f"{label:<44} {us:9.1f} {ratios[label]:9.4f} "
              f"{base if base else float('nan'):9.4f} {change:6.2f}x{flag}")
    missing = sorted(set(stored) - set(results))
    if missing:
        print(f"not measured any more: {missing}")
    if worse:
        print(f"{len(worse)} operation(s) slower than {args.threshold}x their baseline ratio")
        return 1
    print(f"every operation within {args.threshold}x of its baseline ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
