#!/usr/bin/env python3
"""Throughput of the continuous distributions: seedstream vs NumPy (and torch when it is
importable; its columns are skipped otherwise).

A benchmark, not a test: it prints a Markdown table and asserts nothing. Every contender
fills a preallocated buffer (``out=`` where the library has it) with one thread
(``seedstream.set_num_threads(1)``, ``torch.set_num_threads(1)``; NumPy is single-threaded),
is warmed up once, then timed round-robin with the others by the benchmarks' one timer
(seedstream._bench.timer); the figure is the median time per element.

    python benches/bench_distributions.py                 # 1e7 elements, 7 repeats
    python benches/bench_distributions.py --size 1e6 --repeats 3
    python benches/bench_distributions.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Callable, Dict, List, Optional, Tuple

import ml_dtypes
import numpy as np

import seedstream as ss
from seedstream._bench.timer import Call, time_calls

try:
    import torch
except ImportError:  # torch is optional: its columns are skipped
    torch = None

try:
    from scipy import stats as scipy_stats
except ImportError:
    scipy_stats = None


def cases(n: int) -> List[Tuple[str, Call, Dict[str, Optional[Call]]]]:
    """(workload, seedstream call, {contender: call or None})."""
    g = ss.Generator(0)
    rng = np.random.default_rng(0)
    f64, f32 = np.empty(n), np.empty(n, np.float32)
    f16, bf16 = np.empty(n, np.float16), np.empty(n, ml_dtypes.bfloat16)
    t = {}
    if torch is not None:
        t = {dt: torch.empty(n, dtype=getattr(torch, dt)) for dt in ("float64", "float32", "float16", "bfloat16")}
        tg = torch.Generator().manual_seed(0)

    def numpy_trunc(out: np.ndarray) -> Optional[Call]:
        if scipy_stats is None:
            return None
        return lambda: scipy_stats.truncnorm.rvs(-2.0, 2.0, size=n, random_state=rng)

    def torch_call(f: Callable[[], object]) -> Optional[Call]:
        return f if torch is not None else None

    out = [
        ("standard_normal float32", lambda: g.standard_normal(dtype=np.float32, out=f32), {
            "numpy": lambda: rng.standard_normal(dtype=np.float32, out=f32),
            "torch": torch_call(lambda: torch.randn(n, generator=tg, out=t["float32"])),
        }),
        ("standard_normal float64", lambda: g.standard_normal(out=f64), {
            "numpy": lambda: rng.standard_normal(out=f64),
            "torch": torch_call(lambda: torch.randn(n, generator=tg, out=t["float64"], dtype=torch.float64)),
        }),
        ("standard_normal bfloat16", lambda: g.standard_normal(dtype=ml_dtypes.bfloat16, out=bf16), {
            "numpy": None,
            "torch": torch_call(lambda: torch.randn(n, generator=tg, out=t["bfloat16"], dtype=torch.bfloat16)),
        }),
        ("standard_normal float16", lambda: g.standard_normal(dtype=np.float16, out=f16), {
            "numpy": None,
            "torch": torch_call(lambda: torch.randn(n, generator=tg, out=t["float16"], dtype=torch.float16)),
        }),
        ("normal(0, 0.02) float32", lambda: g.normal(0.0, 0.02, dtype=np.float32, out=f32), {
            "numpy": lambda: np.multiply(rng.standard_normal(dtype=np.float32, out=f32), np.float32(0.02), out=f32),
            "torch": torch_call(lambda: t["float32"].normal_(0.0, 0.02, generator=tg)),
        }),
        ("uniform(-1, 1) float32", lambda: g.uniform(-1.0, 1.0, dtype=np.float32, out=f32), {
            "numpy": None,  # NumPy's uniform has no float32 and no out=
            "torch": torch_call(lambda: t["float32"].uniform_(-1.0, 1.0, generator=tg)),
        }),
        ("uniform(-1, 1) float64", lambda: g.uniform(-1.0, 1.0, out=f64), {
            "numpy": lambda: rng.uniform(-1.0, 1.0, n),
            "torch": torch_call(lambda: t["float64"].uniform_(-1.0, 1.0, generator=tg)),
        }),
        ("truncated_normal [-2, 2] float32", lambda: g.truncated_normal(dtype=np.float32, out=f32), {
            "numpy": numpy_trunc(f32),
            "torch": torch_call(lambda: torch.nn.init.trunc_normal_(t["float32"], 0.0, 1.0, -2.0, 2.0, generator=tg)),
        }),
        ("truncated_normal std 0.02 float32", lambda: g.truncated_normal(0.0, 0.02, dtype=np.float32, out=f32), {
            "numpy": None,
            "torch": torch_call(lambda: torch.nn.init.trunc_normal_(t["float32"], 0.0, 0.02, -2.0, 2.0, generator=tg)),
        }),
        ("truncated_normal [-2, 2] float64", lambda: g.truncated_normal(out=f64), {
            "numpy": numpy_trunc(f64),
            "torch": torch_call(lambda: torch.nn.init.trunc_normal_(t["float64"], 0.0, 1.0, -2.0, 2.0, generator=tg)),
        }),
        ("truncated_normal [-2, 2] bfloat16", lambda: g.truncated_normal(dtype=ml_dtypes.bfloat16, out=bf16), {
            "numpy": None,
            "torch": torch_call(lambda: torch.nn.init.trunc_normal_(t["bfloat16"], 0.0, 1.0, -2.0, 2.0, generator=tg)),
        }),
        ("truncated_normal a = 8 sigma float32", lambda: g.truncated_normal(0.0, 1.0, 8.0, 9.0, dtype=np.float32, out=f32), {
            "numpy": None,
            "torch": None,  # torch's erfinv formulation loses the far tail
        }),
    ]
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=float, default=1e7)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", help="write raw timings here")
    args = ap.parse_args(argv)
    n = int(args.size)
    ss.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    rows, raw = [], {}
    for name, ss_call, others in cases(n):
        calls = {"seedstream": ss_call, **{k: v for k, v in others.items() if v is not None}}
        print(f"timing {name} ...", file=sys.stderr)
        times = time_calls(calls, args.repeats)
        med = {k: statistics.median(v) / n * 1e9 for k, v in times.items()}
        raw[name] = {k: v for k, v in times.items()}
        rows.append((name, med))
    torch_note = f"torch {torch.__version__}" if torch is not None else "torch not importable: no torch column"
    print(f"\nns per element, 1 thread, n = {n:.0e}, median of {args.repeats}; NumPy {np.__version__}, "
          f"{torch_note}; SIMD {ss.simd_level()}\n")
    head = "| workload | seedstream | NumPy | x NumPy |" + (" torch | x torch |" if torch is not None else "")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name, med in rows:
        s = med["seedstream"]
        line = f"| {name} | {s:.2f} |"
        line += f" {med['numpy']:.2f} | {med['numpy'] / s:.1f}x |" if "numpy" in med else " — | — |"
        if torch is not None:
            line += f" {med['torch']:.2f} | {med['torch'] / s:.1f}x |" if "torch" in med else " — | — |"
        print(line)
    print("\nNumPy's truncated normal is scipy.stats.truncnorm.rvs (fresh array); "
          "normal(0, 0.02) in NumPy is standard_normal then a multiply.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": n, "repeats": args.repeats, "seconds": raw}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
