#!/usr/bin/env python3
"""Benchmark: seedstream's NumPy bit generators against NumPy's own, in one process.

This is a benchmark, not a test: it prints a Markdown table and never asserts.

    python benches/bench_bitgen.py                  # n = 1e7, 15 repeats
    python benches/bench_bitgen.py --size 1e6 --repeats 5

Cases: ``numpy.random.Generator(bg).random(n)`` (fresh array, as users call it, and with
``out=`` to leave out the page faults of a new array) and ``bg.random_raw(n)``, for PCG64,
PCG64DXSM and Philox, plus seedstream's StreamBitGenerator under NumPy's Generator. Each
contender is warmed up once; then the repeats run round-robin over all contenders, so a
change in machine load hits all of them alike. Reported: the median time per call and the
ratio seedstream / NumPy (below 1 means seedstream is faster). Targets from issue 5:
``Generator(PCG64).random`` within 1.2x of NumPy, ``PCG64.random_raw`` at most 1x.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

import seedstream as ss

SEED = 42
FAMILIES = [("PCG64", ss.PCG64, np.random.PCG64), ("PCG64DXSM", ss.PCG64DXSM, np.random.PCG64DXSM),
            ("Philox", ss.Philox, np.random.Philox)]
TARGETS = {("PCG64", "Generator.random(n)"): 1.2, ("PCG64", "random_raw(n)"): 1.0}


def cases(n: int) -> List[Tuple[str, str, Callable[[], object], Optional[Callable[[], object]]]]:
    """(family, workload, seedstream call, NumPy call or None)."""
    out = np.empty(n)
    rows: List[Tuple[str, str, Callable[[], object], Optional[Callable[[], object]]]] = []
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


def measure(calls: List[Callable[[], object]], repeats: int) -> List[float]:
    """Median seconds per call of each callable, repeats interleaved round-robin."""
    for call in calls:
        call()
    times: List[List[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for i, call in enumerate(calls):
            gc.collect()
            t0 = time.perf_counter()
            call()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=float, default=1e7, help="elements per call (default 1e7)")
    p.add_argument("--repeats", type=int, default=15, help="timed repeats per contender (default 15)")
    args = p.parse_args(argv)
    n = int(args.size)
    rows = cases(n)
    calls: List[Callable[[], object]] = []
    for _, _, ours, theirs in rows:
        calls.append(ours)
        if theirs is not None:
            calls.append(theirs)
    medians = iter(measure(calls, args.repeats))

    print(f"# seedstream NumPy bit generators vs NumPy (n = {n:.0e}, median of {args.repeats})\n")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, seedstream {ss.__version__}, "
          f"{platform.machine()}, {platform.processor() or platform.system()}\n")
    print("| bit generator | workload | seedstream ms | NumPy ms | ratio | target |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    summary: Dict[Tuple[str, str], float] = {}
    for family, workload, _, theirs in rows:
        t_ours = next(medians)
        t_theirs = next(medians) if theirs is not None else float("nan")
        ratio = t_ours / t_theirs
        summary[(family, workload)] = ratio
        target = TARGETS.get((family, workload))
        note = "" if target is None else f"<= {target:g}x: {'met' if ratio <= target else 'missed'}"
        print(f"| {family} | {workload} | {t_ours * 1e3:.2f} | {t_theirs * 1e3:.2f} | {ratio:.2f}x | {note} |")
    print("\nratio = seedstream time / NumPy time (below 1: seedstream is faster).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
