#!/usr/bin/env python3
"""Throughput benchmark: seedstream vs NumPy's Generator(PCG64 / Philox / MT19937).

This is a benchmark, not a test: it prints a Markdown report and never asserts.

    python benches/bench_numpy.py                   # sizes 1e3, 1e6, 1e8 (a few minutes)
    python benches/bench_numpy.py --quick           # sizes 1e3, 1e6, fewer repeats (< 1 min)
    python benches/bench_numpy.py --sizes 1e7 --json results.json

Method. Every case (workload x size x dtype) builds a list of contenders: seedstream at
each thread count with out= and fresh arrays, each NumPy bit generator with out= (where
NumPy has it) and fresh arrays, and ``buf.fill(0)`` on the preallocated out= buffer (the
machine's memory-fill bandwidth for exactly that byte size). Each contender is warmed up
once and calibrated so that one repeat (a loop of calls) lasts about ``--target-ms``; then
the repeats run round-robin over the contenders, so a change in machine load hits all of
them alike. The reported time is the median per-call time over the repeats.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

import seedstream as ss

NUMPY_BITGENS = ("PCG64", "Philox", "MT19937")
SEED = 42
BERNOULLI_P = 0.5
INT_HIGH = 1000
HEADROOM = 3.0  # a case runs only if HEADROOM * its peak bytes <= MemAvailable


# --------------------------------------------------------------------------------------
# Machine information
# --------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def mem_available_bytes() -> Optional[int]:
    """MemAvailable from /proc/meminfo in bytes, or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# --------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------
@dataclass
class Case:
    workload: str  # "random", "integers", "bernoulli", "permutation"
    dtype: np.dtype  # output dtype
    size: int

    @property
    def label(self) -> str:
        return {
            "random": "random",
            "integers": f"integers [0,{INT_HIGH})",
            "bernoulli": f"bernoulli p={BERNOULLI_P}",
            "permutation": "permutation",
        }[self.workload]

    @property
    def out_bytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def numpy_has_out(self) -> bool:
        return self.workload == "random"

    @property
    def seedstream_has_out(self) -> bool:
        return self.workload in ("random", "integers", "bernoulli")

    def peak_bytes(self) -> int:
        """Bytes alive at once while the case runs: the out= buffer (if any) plus the
        largest transient a fresh call allocates (NumPy's bernoulli makes a float64
        temporary and then the bool result)."""
        n = self.size
        out = self.out_bytes if (self.numpy_has_out or self.seedstream_has_out) else 0
        fresh = self.out_bytes
        if self.workload == "bernoulli":
            fresh = max(fresh, n * (8 + 1))
        return out + fresh


def make_cases(sizes: Sequence[int]) -> List[Case]:
    cases = []
    for n in sizes:
        cases += [
            Case("random", np.dtype(np.float32), n),
            Case("random", np.dtype(np.float64), n),
            Case("integers", np.dtype(np.int64), n),
            Case("bernoulli", np.dtype(np.bool_), n),
            Case("permutation", np.dtype(np.int64), n),
        ]
    return cases


@dataclass
class Contender:
    impl: str  # "seedstream", "numpy-PCG64", ..., "fill"
    output: str  # "out=" or "fresh"
    fn: Callable[[], object]
    threads: Optional[int] = None  # seedstream only
    loops: int = 1
    times: List[float] = field(default_factory=list)  # seconds per call, one per repeat

    def prepare(self) -> None:
        """Sets seedstream's thread count for this contender (NumPy ignores it)."""
        if self.threads is not None:
            ss.set_num_threads(self.threads)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def seedstream_call(g: "ss.Generator", case: Case, out: Optional[np.ndarray]) -> Callable[[], object]:
    n, dt = case.size, case.dtype
    if case.workload == "random":
        if out is not None:
            return lambda: g.random(n, dtype=dt, out=out)
        return lambda: g.random(n, dtype=dt)
    if case.workload == "integers":
        if out is not None:
            return lambda: g.integers(0, INT_HIGH, size=n, dtype=dt, out=out)
        return lambda: g.integers(0, INT_HIGH, size=n, dtype=dt)
    if case.workload == "bernoulli":
        if out is not None:
            return lambda: g.bernoulli(BERNOULLI_P, size=n, out=out)
        return lambda: g.bernoulli(BERNOULLI_P, size=n)
    if case.workload == "permutation":
        return lambda: g.permutation(n)
    raise ValueError(case.workload)


def numpy_call(rng: np.random.Generator, case: Case, out: Optional[np.ndarray]) -> Callable[[], object]:
    n, dt = case.size, case.dtype
    if case.workload == "random":
        if out is not None:
            return lambda: rng.random(n, dtype=dt, out=out)
        return lambda: rng.random(n, dtype=dt)
    if case.workload == "integers":
        return lambda: rng.integers(0, INT_HIGH, size=n, dtype=dt)
    if case.workload == "bernoulli":
        return lambda: rng.random(n) < BERNOULLI_P
    if case.workload == "permutation":
        return lambda: rng.permutation(n)
    raise ValueError(case.workload)


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------
def time_loop(fn: Callable[[], object], loops: int) -> float:
    """Seconds for ``loops`` calls; results are dropped at once (one fresh array alive)."""
    t0 = time.perf_counter()
    for _ in range(loops):
        fn()
    return time.perf_counter() - t0


def calibrate(c: Contender, target_s: float) -> None:
    """Warm up once, then pick how many calls one repeat makes (about target_s)."""
    c.prepare()
    t_warm = time_loop(c.fn, 1)
    if t_warm >= target_s:
        c.loops = 1
        return
    m = max(1, min(100_000, int(0.1 * target_s / max(t_warm, 1e-9))))
    c.prepare()
    t_call = time_loop(c.fn, m) / m
    c.loops = max(1, min(1_000_000, math.ceil(target_s / max(t_call, 1e-9))))


def repeats_for(n: int, quick: bool, override: Optional[int]) -> int:
    if override is not None:
        return override
    if quick:
        return 3
    if n <= 1_000_000:
        return 7
    if n <= 10_000_000:
        return 5
    return 3


def run_case(
    case: Case,
    threads: Sequence[int],
    algorithm: str,
    repeats: int,
    target_s: float,
) -> List[Contender]:
    need_out = case.numpy_has_out or case.seedstream_has_out
    out = np.zeros(case.size, dtype=case.dtype) if need_out else None  # touched: no page faults
    contenders: List[Contender] = []
    for t in threads:
        g = ss.Generator(SEED, algorithm=algorithm)
        if case.seedstream_has_out:
            contenders.append(Contender("seedstream", "out=", seedstream_call(g, case, out), threads=t))
        contenders.append(Contender("seedstream", "fresh", seedstream_call(g, case, None), threads=t))
    for name in NUMPY_BITGENS:
        rng = np.random.Generator(getattr(np.random, name)(SEED))
        if case.numpy_has_out:
            contenders.append(Contender(f"numpy-{name}", "out=", numpy_call(rng, case, out)))
        contenders.append(Contender(f"numpy-{name}", "fresh", numpy_call(rng, case, None)))
    if out is not None:
        buf = out
        contenders.append(Contender("fill", "out=", lambda: buf.fill(0)))

    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for c in contenders:
            calibrate(c, target_s)
        for _ in range(repeats):
            for c in contenders:
                c.prepare()
                c.times.append(time_loop(c.fn, c.loops) / c.loops)
    finally:
        if gc_was_enabled:
            gc.enable()
    for c in contenders:
        c.fn = _released  # drop closures (and the buffer) before the next case
    return contenders


def _released() -> None:
    raise RuntimeError("contender already measured")


# --------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------
def fmt_size(n: int) -> str:
    k = round(math.log10(n)) if n > 0 else 0
    return f"1e{k}" if n > 0 and 10**k == n else str(n)


def fmt_ns(x: Optional[float]) -> str:
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_bytes(b: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1000 or unit == "GB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.3g} {unit}"
        b /= 1000
    return str(b)


def parse_sizes(text: str) -> List[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        v = float(part)
        if v < 1 or v != int(v):
            raise argparse.ArgumentTypeError(f"size {part!r} is not a positive integer")
        sizes.append(int(v))
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sizes


def parse_threads(text: str) -> List[int]:
    try:
        threads = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}") from None
    if not threads or min(threads) < 1:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}")
    return threads


def build_rows(case: Case, contenders: List[Contender]) -> List[Dict[str, object]]:
    """One table row per seedstream (threads, output) measurement."""
    by = {(c.impl, c.output, c.threads): c for c in contenders}
    n = case.size
    fill = by.get(("fill", "out=", None))
    rows = []
    for c in contenders:
        if c.impl != "seedstream":
            continue
        ss_ns = c.median / n * 1e9
        np_ns: Dict[str, Optional[float]] = {}
        for name in NUMPY_BITGENS:
            m = by.get((f"numpy-{name}", c.output, None))
            np_ns[name] = m.median / n * 1e9 if m is not None else None
        pcg = by.get(("numpy-PCG64", c.output, None))
        row: Dict[str, object] = {
            "workload": case.label,
            "size": n,
            "dtype": str(case.dtype),
            "threads": c.threads,
            "output": c.output,
            "seedstream_ns_per_el": ss_ns,
            "seedstream_ns_per_call": c.median * 1e9,
            "numpy_pcg64_ns_per_el": np_ns["PCG64"],
            "numpy_philox_ns_per_el": np_ns["Philox"],
            "numpy_mt19937_ns_per_el": np_ns["MT19937"],
            "numpy_pcg64_ns_per_call": pcg.median * 1e9 if pcg is not None else None,
            "speedup_vs_pcg64": pcg.median / c.median if pcg is not None else None,
            "fill_fraction": None,
            "output_GBps": None,
        }
        if c.output == "out=":
            row["output_GBps"] = case.out_bytes / c.median / 1e9
            if fill is not None:
                row["fill_fraction"] = fill.median / c.median
        rows.append(row)
    return rows


def print_table(rows: List[Dict[str, object]]) -> None:
    header = [
        "workload", "size", "dtype", "threads", "output", "seedstream ns/el",
        "numpy PCG64 ns/el", "Philox ns/el", "MT19937 ns/el", "speedup vs PCG64",
        "% of fill BW",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * 5 + ["---:"] * 6) + "|")
    for r in rows:
        sp = r["speedup_vs_pcg64"]
        ff = r["fill_fraction"]
        no_np_out = r["output"] == "out=" and r["numpy_pcg64_ns_per_el"] is None
        cells = [
            r["workload"], fmt_size(r["size"]), r["dtype"], str(r["threads"]), r["output"],
            fmt_ns(r["seedstream_ns_per_el"]),
            "n/a (no out=)" if no_np_out else fmt_ns(r["numpy_pcg64_ns_per_el"]),
            "n/a" if no_np_out else fmt_ns(r["numpy_philox_ns_per_el"]),
            "n/a" if no_np_out else fmt_ns(r["numpy_mt19937_ns_per_el"]),
            f"{sp:.2f}x" if sp is not None else "—",
            f"{100 * ff:.0f}%" if ff is not None else "—",
        ]
        print("| " + " | ".join(str(x) for x in cells) + " |")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------
def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Compare seedstream with NumPy's Generator(PCG64/Philox/MT19937).")
    ap.add_argument("--sizes", type=parse_sizes, default=None,
                    help="comma-separated element counts, e.g. 1e3,1e6,1e7 (default 1e3,1e6,1e8)")
    ap.add_argument("--quick", action="store_true",
                    help="sizes 1e3,1e6 (unless --sizes), 3 repeats, shorter repeats")
    ap.add_argument("--threads", type=parse_threads, default=[1, 2],
                    help="seedstream thread counts, comma-separated (default 1,2)")
    ap.add_argument("--algorithm", choices=("philox", "pcg64"), default="philox",
                    help="seedstream algorithm (default philox)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed repeats per contender (default: 7 up to 1e6, 5 up to 1e7, 3 above; 3 with --quick)")
    ap.add_argument("--target-ms", type=float, default=None,
                    help="approximate duration of one repeat in ms (default 20, 5 with --quick)")
    ap.add_argument("--json", metavar="PATH", default=None, help="write raw results as JSON")
    args = ap.parse_args(argv)

    sizes = args.sizes or ([1_000, 1_000_000] if args.quick else [1_000, 1_000_000, 100_000_000])
    target_s = (args.target_ms if args.target_ms is not None else (5.0 if args.quick else 20.0)) / 1e3
    if args.repeats is not None and args.repeats < 1:
        ap.error("--repeats must be >= 1")

    started = time.perf_counter()
    now = datetime.datetime.now().astimezone()
    threads_before = ss.get_num_threads()
    meta = {
        "date": now.isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy_version": np.__version__,
        "seedstream_version": ss.__version__,
        "seedstream_simd_level": ss.simd_level(),
        "seedstream_algorithm": args.algorithm,
        "seedstream_default_threads": threads_before,
        "mem_available_bytes": mem_available_bytes(),
        "sizes": sizes,
        "threads": args.threads,
        "target_repeat_s": target_s,
        "headroom": HEADROOM,
        "seed": SEED,
    }

    print("# seedstream vs NumPy Generator throughput\n")
    print(f"- date: {meta['date']}")
    print(f"- CPU: {meta['cpu_model']} ({meta['logical_cpus']} logical CPUs)")
    print(f"- Python {meta['python']}, numpy {np.__version__}, seedstream {ss.__version__} "
          f"(simd_level={ss.simd_level()}, algorithm={args.algorithm})")
    print(f"- seedstream threads: {', '.join(map(str, args.threads))} "
          f"(set_num_threads; default here {threads_before}). "
          "NumPy's Generator is single-threaded: its columns are 1 thread.")
    mem = meta["mem_available_bytes"]
    print(f"- MemAvailable at start: {fmt_bytes(mem) if mem is not None else 'unknown'}; "
          f"a case is skipped unless {HEADROOM:g}x its peak bytes fit")
    print("- time: median over repeats of the per-call time (perf_counter; each repeat loops "
          f"~{target_s * 1e3:g} ms of calls after one warm-up call); "
          "speedup = numpy PCG64 time / seedstream time (>1: seedstream faster)")
    print("- % of fill BW: out= bytes/s divided by bytes/s of buf.fill(0) on the same "
          "preallocated buffer, measured in the same round-robin")
    print("- NumPy bernoulli is `rng.random(n) < p`; NumPy has out= only for random, so "
          "integers/bernoulli/permutation compare fresh arrays only\n", flush=True)

    cases = make_cases(sizes)
    rows: List[Dict[str, object]] = []
    raw_cases: List[Dict[str, object]] = []
    skipped: List[str] = []
    try:
        for case in cases:
            desc = f"{case.label} n={fmt_size(case.size)} {case.dtype}"
            avail = mem_available_bytes()
            peak = case.peak_bytes()
            if avail is not None and HEADROOM * peak > avail:
                msg = (f"skipped {desc}: needs ~{fmt_bytes(peak)} x{HEADROOM:g} headroom, "
                       f"MemAvailable {fmt_bytes(avail)}")
                print(f"- {msg}", flush=True)
                skipped.append(msg)
                raw_cases.append({"workload": case.workload, "size": case.size,
                                  "dtype": str(case.dtype), "skipped": msg})
                continue
            reps = repeats_for(case.size, args.quick, args.repeats)
            t0 = time.perf_counter()
            contenders = run_case(case, args.threads, args.algorithm, reps, target_s)
            print(f"[bench] {desc}: {reps} repeats, {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr, flush=True)
            rows += build_rows(case, contenders)
            fill = next((c for c in contenders if c.impl == "fill"), None)
            raw_cases.append({
                "workload": case.workload,
                "size": case.size,
                "dtype": str(case.dtype),
                "out_bytes": case.out_bytes,
                "repeats": reps,
                "fill_GBps": case.out_bytes / fill.median / 1e9 if fill else None,
                "measurements": [
                    {
                        "impl": c.impl,
                        "threads": c.threads if c.impl == "seedstream" else 1,
                        "output": c.output,
                        "loops_per_repeat": c.loops,
                        "seconds_per_call": c.times,
                        "median_seconds_per_call": c.median,
                        "ns_per_el": c.median / case.size * 1e9,
                    }
                    for c in contenders
                ],
            })
    finally:
        ss.set_num_threads(threads_before)

    print("\n## Throughput\n")
    print_table(rows)

    fills = [c for c in raw_cases if c.get("fill_GBps") is not None]
    if fills:
        print("\n## Memory-fill bandwidth (`buf.fill(0)`, single thread)\n")
        print("| size | dtype | bytes | fill GB/s |")
        print("|---|---|---:|---:|")
        for c in fills:
            print(f"| {fmt_size(c['size'])} | {c['dtype']} | {fmt_bytes(c['out_bytes'])} "
                  f"| {c['fill_GBps']:.1f} |")

    small = [r for r in rows if r["size"] == 1_000 and r["numpy_pcg64_ns_per_call"] is not None]
    if small:
        print("\n## Per-call overhead at 1e3\n")
        print("ratio = seedstream ns/call ÷ numpy PCG64 ns/call (<1: seedstream has less overhead)\n")
        print("| workload | dtype | threads | output | seedstream ns/call | PCG64 ns/call | ratio |")
        print("|---|---|---:|---|---:|---:|---:|")
        for r in small:
            ratio = r["seedstream_ns_per_call"] / r["numpy_pcg64_ns_per_call"]
            print(f"| {r['workload']} | {r['dtype']} | {r['threads']} | {r['output']} "
                  f"| {r['seedstream_ns_per_call']:.0f} | {r['numpy_pcg64_ns_per_call']:.0f} "
                  f"| {ratio:.2f} |")

    if skipped:
        print("\n## Skipped\n")
        for s in skipped:
            print(f"- {s}")

    elapsed = time.perf_counter() - started
    print(f"\nTotal benchmark time: {elapsed:.1f} s")

    if args.json:
        meta["elapsed_s"] = elapsed
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows, "cases": raw_cases, "skipped": skipped},
                      f, indent=2)
        print(f"Raw results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
