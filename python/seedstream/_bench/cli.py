"""`python -m seedstream bench`: the command line, the run over all cases and the files it
writes."""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import re
import shlex
import socket
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

import seedstream as ss
from seedstream import _core

from seedstream._bench.harness import HEADROOM, Case, Runner
from seedstream._bench.machine import Env, cpu_model, make_env, mem_available
from seedstream._bench.plot import write_plot
from seedstream._bench.report import main_table, print_table, rows_of, write_markdown
from seedstream._bench.units import fmt_size
from seedstream._bench.workloads import SEED, WORKLOAD_NAMES, WORKLOADS

DEFAULT_SIZES = [10**k for k in range(3, 9)]
QUICK_SIZES = [1_000, 1_000_000]
SIMD_LEVELS = ["scalar", "baseline", "avx2", "avx512"]


class Progress:
    """A rich progress bar on a terminal; plain lines on stderr without rich or a terminal
    (rich draws nothing live into a file or pipe). Notes go to the screen and to `notes`."""

    def __init__(self, total: int, notes: List[str]) -> None:
        self.total, self.done, self.t0, self.notes = total, 0, time.perf_counter(), notes
        self.rich: Any = None
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress
            from rich.progress import TextColumn, TimeElapsedColumn
        except ImportError:
            return
        console = Console(stderr=True)
        if not console.is_terminal:
            return
        self.rich = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=False)
        self.task = self.rich.add_task("bench", total=total)

    def __enter__(self) -> "Progress":
        if self.rich is not None:
            self.rich.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.rich is not None:
            self.rich.__exit__(*exc)

    def start(self, desc: str) -> None:
        if self.rich is not None:
            self.rich.update(self.task, description=desc)
        else:
            print(f"[{self.done + 1}/{self.total}, {time.perf_counter() - self.t0:.0f} s] {desc}",
                  file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        if self.rich is not None:
            self.rich.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def advance(self) -> None:
        self.done += 1
        if self.rich is not None:
            self.rich.advance(self.task)


def parse_sizes(values: Sequence[str]) -> List[int]:
    sizes = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                v = float(part)
            except ValueError:
                raise argparse.ArgumentTypeError(f"size {part!r} is not a number") from None
            if v < 1 or v != int(v):
                raise argparse.ArgumentTypeError(f"size {part!r} is not a positive integer")
            sizes.append(int(v))
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sorted(set(sizes))


def parse_list(text: str, valid: Sequence[str], what: str) -> List[str]:
    items = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in items if p not in valid]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown {what} {bad or text!r}; choose from {', '.join(valid)}")
    return items


def parse_threads(text: str) -> List[int]:
    try:
        threads = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}") from None
    if not threads or threads[0] < 1:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}")
    return threads


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m seedstream bench",
        description="Benchmark seedstream against NumPy's and PyTorch's generators in one process; "
                    "writes JSON, Markdown and a PNG plot. Measures only: never passes or fails.")
    ap.add_argument("--quick", action="store_true",
                    help="sizes 1e3 and 1e6 (unless --sizes), 3 short repeats: under a minute")
    ap.add_argument("--sizes", nargs="+", metavar="N",
                    help="element counts, e.g. 1e3 1e6 or 1e3,1e6 (default 1e3 ... 1e8)")
    ap.add_argument("--only", type=lambda s: parse_list(s, WORKLOAD_NAMES, "workload"), default=None,
                    metavar="W[,W...]", help=f"workloads to run: {', '.join(WORKLOAD_NAMES)}")
    ap.add_argument("--threads", type=parse_threads, default=None, metavar="T[,T...]",
                    help="seedstream thread counts (default 1, 2, 4, ... up to the core count)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed repeats per contender (default 7 up to 1e5, 5 up to 1e7, 3 above; 3 with --quick)")
    ap.add_argument("--target-ms", type=float, default=None,
                    help="length of one repeat in ms (default 20, 5 with --quick)")
    ap.add_argument("--simd", choices=SIMD_LEVELS, default=None,
                    help="force seedstream's SIMD level (default: the widest this CPU has); "
                         "the bits are the same at every level, only the speed differs")
    ap.add_argument("--out", default=os.path.join("benches", "results"), metavar="DIR",
                    help="directory for <host>-<date>.json/.md/.png (default benches/results)")
    return ap


def repeats_for(n: int, quick: bool, override: Optional[int]) -> int:
    if override is not None:
        return max(1, override)
    if quick:
        return 3
    return 7 if n <= 100_000 else 5 if n <= 10_000_000 else 3


def plan(env: Env, only: Optional[List[str]], sizes: List[int], quick: bool,
         notes: List[str]) -> List[Case]:
    cases = []
    for w in WORKLOADS:
        if only is not None and w.name not in only:
            continue
        why = w.available(env)
        if why is not None:
            notes.append(f"{w.name}: skipped, {why}")
            continue
        ws, note = w.sizes(sizes, quick)
        if note:
            notes.append(note)
        for n in ws:
            for v in w.variants:
                cases.append(Case(w, v, n))
    return cases


def run_meta(env: Env, args: argparse.Namespace, argv: List[str], sizes: List[int], target_s: float,
             host: str, now: datetime.datetime, elapsed: float) -> Dict[str, Any]:
    """The run's description: command, machine, versions, settings."""
    torch = env.torch
    return {
        "host": host,
        "date": now.date().isoformat(),
        "datetime": now.isoformat(timespec="seconds"),
        "command": " ".join(["python -m seedstream bench"] + [shlex.quote(a) for a in argv]),
        "cpu": cpu_model(),
        "cores": env.cores,
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "cuda_device": torch.cuda.get_device_name() if env.cuda else None,
        "seedstream": ss.__version__,
        "simd_level": ss.simd_level(),
        "ss_threads": env.ss_threads,
        "torch_threads": env.torch_threads if torch is not None else [],
        "max_ss_threads": env.max_ss,
        "max_torch_threads": env.max_torch,
        "mem_available_bytes": mem_available(),
        "sizes": sizes,
        "quick": args.quick,
        "target_ms": target_s * 1e3,
        "headroom": HEADROOM,
        "seed": SEED,
        "elapsed_s": elapsed,
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes) if args.sizes else (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    except argparse.ArgumentTypeError as exc:
        build_parser().error(str(exc))
    target_s = (args.target_ms if args.target_ms is not None else (5.0 if args.quick else 20.0)) / 1e3
    saved_level = ss.simd_level()
    if args.simd is not None and not _core._set_simd_level(args.simd):
        build_parser().error(f"--simd: this CPU lacks {args.simd}")
    try:
        return _run(args, argv, sizes, target_s)
    finally:
        _core._set_simd_level(saved_level)


def _run(args: argparse.Namespace, argv: List[str], sizes: List[int], target_s: float) -> int:
    started = time.perf_counter()
    now = datetime.datetime.now()
    env = make_env(args.threads)
    notes = list(env.notes)
    cases = plan(env, args.only, sizes, args.quick, notes)
    runner = Runner(env)
    records: List[Dict[str, Any]] = []
    try:
        with Progress(len(cases), notes) as progress:
            for case in cases:
                progress.start(f"{case.label} n={fmt_size(case.size)}")
                records.append(runner.run_case(case, repeats_for(case.size, args.quick, args.repeats),
                                               target_s, progress.note))
                gc.collect()  # frees the case's buffers and models before the next one
                progress.advance()
    except KeyboardInterrupt:
        # Keep what was measured: the files say the run is incomplete.
        notes.append(f"interrupted: {len(records)} of {len(cases)} cases measured")
    finally:
        runner.restore()

    elapsed = time.perf_counter() - started
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname().split(".")[0]) or "host"
    meta = run_meta(env, args, argv, sizes, target_s, host, now, elapsed)
    result = {"meta": meta, "notes": notes, "cases": records}
    rows = rows_of(records)

    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{host}-{meta['date']}")
    plot_note = write_plot(stem + ".png", result, rows)
    if plot_note:
        notes.append(plot_note)
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=1)
    write_markdown(stem + ".md", result, rows)

    print_table("Throughput (ns per element, lower is better; ratios above 1: seedstream faster)",
                *main_table(rows, meta))
    for n in notes:
        print(f"- {n}")
    written = [stem + ".json", stem + ".md"] + ([] if plot_note else [stem + ".png"])
    print(f"Wrote {', '.join(written)} in {elapsed:.0f} s (tables for thread scaling and peak memory "
          "are in the Markdown file).")
    return 0
