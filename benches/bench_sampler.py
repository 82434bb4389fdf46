#!/usr/bin/env python3
"""Benchmark: ShuffleSampler and per-sample streams against torch's samplers, in one process.

This is a benchmark, not a test: it prints a Markdown table and never asserts.

    python benches/bench_sampler.py                 # n = 1e6, 7 repeats
    python benches/bench_sampler.py --size 1e7 --repeats 3

Cases: one full pass over each sampler, reported as ns per index (as a DataLoader's
BatchSampler consumes them), with the ratio to ``RandomSampler`` (below 1 is faster);
``ReproducibleDataset`` indexing around an empty dataset (what a sample pays for its own
stream); and a 10**9-item ShuffleSampler's peak Python memory and time to its first index.
Repeats run round-robin over all contenders, so a change in machine load hits them alike;
the median is reported.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
import tracemalloc
from typing import Any, Callable, Dict, List, Tuple

import torch

import seedstream.torch as sst


def _drain(it: Any) -> None:
    for _ in it:
        pass


class _Empty(torch.utils.data.Dataset):  # type: ignore[misc]
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


def cases(n: int) -> List[Tuple[str, int, Callable[[], None]]]:
    """(name, items per call, one call)."""
    data = range(n)
    torch_gen = torch.Generator().manual_seed(0)
    random_sampler = torch.utils.data.RandomSampler(data, generator=torch_gen)
    dist = torch.utils.data.DistributedSampler(data, num_replicas=1, rank=0, seed=0)
    dist8 = torch.utils.data.DistributedSampler(data, num_replicas=8, rank=3, seed=0)
    shuffle = sst.ShuffleSampler(n, seed=0, auto_epoch=True)
    shuffle8 = sst.ShuffleSampler(n, seed=0, num_replicas=8, rank=3, auto_epoch=True)
    keyed = sst.ShuffleSampler(n, seed=0, keys=True, auto_epoch=True)
    with_replacement = sst.ShuffleSampler(n, seed=0, replacement=True, auto_epoch=True)
    small = min(n, 100_000)
    wrapped = sst.ReproducibleDataset(_Empty(small), seed=0)
    keys = [(0, i) for i in range(small)]

    def dataset_pass() -> None:
        for k in keys:
            wrapped[k]

    def dist_pass(s: Any) -> Callable[[], None]:
        def run() -> None:
            s.set_epoch(s.epoch + 1)
            _drain(s)
        return run

    return [
        ("RandomSampler", n, lambda: _drain(random_sampler)),
        ("DistributedSampler (1 replica)", n, dist_pass(dist)),
        ("DistributedSampler (rank 3 of 8)", -(-n // 8), dist_pass(dist8)),
        ("ShuffleSampler", n, lambda: _drain(shuffle)),
        ("ShuffleSampler (rank 3 of 8)", -(-n // 8), lambda: _drain(shuffle8)),
        ("ShuffleSampler keys=True", n, lambda: _drain(keyed)),
        ("ShuffleSampler replacement=True", n, lambda: _drain(with_replacement)),
        ("ReproducibleDataset[(epoch, i)] (empty dataset)", small, dataset_pass),
    ]


def huge(n: int = 10**9) -> Tuple[float, int]:
    """Seconds to the first index of an n-item ShuffleSampler and the peak traced memory."""
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    s = sst.ShuffleSampler(n, seed=0, keys=True)
    next(iter(s))
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=float, default=1e6, help="items per epoch (default 1e6)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    n = int(args.size)
    table = cases(n)
    for _, _, run in table:  # warm-up
        run()
    times: Dict[str, List[float]] = {name: [] for name, _, _ in table}
    for _ in range(args.repeats):
        for name, items, run in table:
            gc.collect()
            t0 = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - t0) / items * 1e9)
    base = statistics.median(times["RandomSampler"])
    print(f"# Sampler benchmark: n = {n}, {args.repeats} repeats, median ns per item")
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"torch {torch.__version__}\n")
    print("| case | ns / item | ratio to RandomSampler |")
    print("| --- | ---: | ---: |")
    for name, _, _ in table:
        med = statistics.median(times[name])
        print(f"| {name} | {med:.1f} | {med / base:.2f} |")
    seconds, peak = huge()
    print(f"\nShuffleSampler(10**9, keys=True): first index after {seconds * 1e3:.2f} ms, "
          f"peak traced memory {peak / 1024:.1f} KiB (RandomSampler would hold a 10**9-element "
          "randperm: 8 GB, and a Python list of it)")


if __name__ == "__main__":
    main(sys.argv[1:])
