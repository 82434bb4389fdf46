"""Best-of-many time per element of the hot fills at one forced SIMD level, one thread.

For comparing two builds of the kernels on a busy machine: the minimum over many short
calls is far less sensitive to other processes than a median, and `--cpu-time` (the
calling thread's CPU time) ignores time spent descheduled. Run it with PYTHONPATH pointing
at each build's package directory in turn, several times alternately.

    python benches/bench_kernels.py --simd avx2 --size 1e6 --repeats 40
    python benches/bench_kernels.py --simd avx512 --only normal32,random64 --cpu-time
"""

from __future__ import annotations

import argparse
import time
from typing import Callable, Dict

import numpy as np

import seedstream as ss
from seedstream import _core


def cases(n: int) -> Dict[str, Callable[[], object]]:
    g = ss.Generator(42)
    o32 = np.zeros(n, np.float32)
    o64 = np.zeros(n, np.float64)
    o16 = np.zeros(n, np.float16)
    oi = np.zeros(n, np.int64)
    ob = np.zeros(n, np.bool_)
    return {
        "random32": lambda: g.random(n, dtype=np.float32, out=o32),
        "random64": lambda: g.random(n, dtype=np.float64, out=o64),
        "normal32": lambda: g.standard_normal(n, dtype=np.float32, out=o32),
        "normal32_loc_scale": lambda: g.normal(1.0, 2.0, n, dtype=np.float32, out=o32),
        "normal16": lambda: g.standard_normal(n, dtype=np.float16, out=o16),
        "normal64": lambda: g.standard_normal(n, dtype=np.float64, out=o64),
        "integers_out": lambda: g.integers(0, 1000, n, out=oi),
        "integers_fresh": lambda: g.integers(0, 1000, n),
        "bernoulli": lambda: g.bernoulli(0.5, n, out=ob),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--simd", default=None, help="scalar, baseline, avx2 or avx512 (default: widest)")
    ap.add_argument("--size", type=float, default=1e6, help="elements per call (default 1e6)")
    ap.add_argument("--repeats", type=int, default=40, help="calls per case; the fastest counts")
    ap.add_argument("--only", default=None, help="comma-separated case names")
    ap.add_argument("--cpu-time", action="store_true", help="thread CPU time instead of wall time")
    args = ap.parse_args()
    if args.simd is not None and not _core._set_simd_level(args.simd):
        raise SystemExit(f"--simd: this CPU lacks {args.simd}")
    ss.set_num_threads(1)
    clock = time.thread_time if args.cpu_time else time.perf_counter
    n = int(args.size)
    table = cases(n)
    names = args.only.split(",") if args.only else list(table)
    for name in names:
        f = table[name]
        f()
        best = float("inf")
        for _ in range(args.repeats):
            t = clock()
            f()
            best = min(best, clock() - t)
        print(f"{ss.simd_level():8s} {name:20s} {best / n * 1e9:7.3f} ns/el")


if __name__ == "__main__":
    main()
