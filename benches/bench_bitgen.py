#!/usr/bin/env python3
"""Benchmark: seedstream's NumPy bit generators against NumPy's own, in one process.

This is a benchmark, not a test: it prints a Markdown table and never asserts.

    python benches/bench_bitgen.py                  # n = 1e7, 15 repeats
    python benches/bench_bitgen.py --size 1e6 --repeats 5

Cases: ``numpy.random.Generator(bg).random(n)`` (fresh array, as users call it, and with
``out=`` to leave out the page faults of a new array) and ``bg.random_raw(n)``, for PCG64,
PCG64DXSM and Philox, plus seedstream's StreamBitGenerator under NumPy's Generator. Timed
by the benchmarks' one timer (seedstream._bench.timer): each contender is warmed up once,
then the repeats run round-robin over all contenders, so a change in machine load hits all
of them alike. Reported: the median time per call and the ratio seedstream / NumPy (below 1
means seedstream is faster). Targets: ``Generator(PCG64).random`` within 1.2x of NumPy,
``PCG64.random_raw`` at most 1x.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
from typing import List, Optional, Tuple

import numpy as np

import seedstream as ss
from seedstream._bench.timer import Call, time_calls

SEED = 42
FAMILIES = [("PCG64", ss.PCG64, np.random.PCG64), ("PCG64DXSM", ss.PCG64DXSM, np.random.PCG64DXSM),
            ("Philox", ss.Philox, np.random.Philox)]
TARGETS = {("PCG64", "Generator.random(n)"): 1.2, ("PCG64", "random_raw(n)"): 1.0}


def cases(n: int) -> List[Tuple[str, str, Call, Call]]:
    """(family, workload, seedstream call, NumPy call)."""
    out = np.empty(n)
    rows: List[Tuple[str, str, Call, Call]] = []
    for name, ours_cls, numpy_cls in FAMILIES:
        ours, theirs = ours_cls(SEED), numpy_cls(SEED)
        g_ours, g_theirs = np.random.Generator(ours), np.random.Generator(theirs)
        rows.append((name, "Generator.random(n)", lambda g=g_ours: g.random(n), lambda g=g_theirs: g.random(n)))
        rows.append((name, "Generator.random(n, out=)", lambda g=g_ours: g.random(n, out=out),
                     lambda g=g_theirs: g.random(n, out=out)))
        rows.append((name, "random_raw(n)", lambda b=ours: b.random_raw(n), lambda b=theirs: b.random_raw(n)))
    stream = np.random.Generator(ss.Generator(SEED).child("bench").bit_generator())
    native = np.random.Generator(np.random.PCG64(SEED))
    rows.append(("StreamBitGenerator vs PCG64", "Generator.random(n, out=)", lambda: stream.random(n, out=out),
                 lambda: native.random(n, out=out)))
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=float, default=1e7, help="elements per call (default 1e7)")
    p.add_argument("--repeats", type=int, default=15, help="timed repeats per contender (default 15)")
    args = p.parse_args(argv)
    n = int(args.size)
    rows = cases(n)
    calls = {(i, side): call for i, (_, _, *pair) in enumerate(rows) for side, call in enumerate(pair)}
    median = {k: statistics.median(t) for k, t in time_calls(calls, args.repeats).items()}

    print(f"# seedstream NumPy bit generators vs NumPy (n = {n:.0e}, median of {args.repeats})\n")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, seedstream {ss.__version__}, "
          f"{platform.machine()}, {platform.processor() or platform.system()}\n")
    print("| bit generator | workload | seedstream ms | NumPy ms | ratio | target |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for i, (family, workload, _, _) in enumerate(rows):
        t_ours, t_theirs = median.get((i, 0), math.nan), median.get((i, 1), math.nan)
        ratio = t_ours / t_theirs
        target = TARGETS.get((family, workload))
        note = "" if target is None else f"<= {target:g}x: {'met' if ratio <= target else 'missed'}"
        print(f"| {family} | {workload} | {t_ours * 1e3:.2f} | {t_theirs * 1e3:.2f} | {ratio:.2f}x | {note} |")
    print("\nratio = seedstream time / NumPy time (below 1: seedstream is faster).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
