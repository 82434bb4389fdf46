#!/usr/bin/env python3
"""Benchmark: per-sample cost of ``seedstream.torch.functional.sample_dropout`` and of
``seedstream.fill_box`` for a Shard(1) slice.

This is a benchmark, not a test: it prints a Markdown table and never asserts.

    python benches/bench_sample_dropout.py                 # 4096 samples, 7 repeats

Reported (median process and wall time of 7 runs): the cost of deriving one key from Python
(``Stream.child(i)``, which ``sample_dropout`` does in the core instead), of
``sample_dropout`` per sample for samples of 1 and 256 float32 elements (with ``dropout`` of
the whole batch for comparison) and of its box form (a tensor-parallel shard of each
sample), of ``sample_channel_dropout`` and of per-sample attention dropout (against the
whole-batch forms), of the host side of the GPU path (the samples' Philox keys for the
kernel's table, 1024 and 8192 samples), and of filling the Shard(1) half of a 4096 x 4096
float32 normal draw on one of 2 ranks (4096 row segments) against drawing it whole.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Callable, Tuple

import numpy as np
import torch

from seedstream import Generator, _core, fill_box
from seedstream.torch import functional as sf


def median_time(fn: Callable[[], object], repeats: int) -> Tuple[float, float]:
    """Median (process time, wall time) of `repeats` calls, after one warm-up call."""
    fn()
    cpu, wall = [], []
    for _ in range(repeats):
        t0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - t0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    n = a.samples
    g = Generator(1).child("block0.drop", 0)
    s = g._stream
    keys = median_time(lambda: [s.child([i]) for i in range(n)], a.repeats)
    rows = [("Stream.child(i) from Python (for comparison)", keys, n)]
    for feat in (1, 256):
        x = torch.randn(n, feat)
        rows.append((f"sample_dropout, {feat} float32 per sample",
                     median_time(lambda: sf.sample_dropout(x, 0.1, generator=g), a.repeats), n))
        rows.append((f"dropout of the batch, {feat} float32 per sample",
                     median_time(lambda: sf.dropout(x, 0.1, generator=Generator(1)), a.repeats), n))
    xc = torch.randn(n, 64, 32)
    rows.append(("sample_channel_dropout, 64 channels of 32 float32 per sample",
                 median_time(lambda: sf.sample_channel_dropout(xc, 0.1, generator=g), a.repeats), n))
    rows.append(("channel_dropout of the batch, same shape (for comparison)",
                 median_time(lambda: sf.channel_dropout(xc, 0.1, generator=Generator(1)), a.repeats), n))
    q = torch.randn(n, 4, 16, 8)
    rows.append(("scaled_dot_product_attention per-sample dropout, 4 heads x 16 x 16 weights",
                 median_time(lambda: sf.scaled_dot_product_attention(q, q, q, dropout_p=0.1, generator=g,
                                                                     sample_offset=0), a.repeats), n))
    rows.append(("scaled_dot_product_attention whole-batch dropout (for comparison)",
                 median_time(lambda: sf.scaled_dot_product_attention(q, q, q, dropout_p=0.1, generator=Generator(1)),
                             a.repeats), n))
    for local, shape, where, what in (((128,), (256,), (128,), "Shard(1) half of 256"),
                                      ((16, 64), (16, 128), (0, 64), "(16, 64) of a (16, 128) sample")):
        x = torch.randn((n,) + local)
        rows.append((f"sample_dropout box, {what}",
                     median_time(lambda: sf.sample_dropout(x, 0.1, generator=g, sample_shape=shape,
                                                           element_offset=where), a.repeats), n))
    # The host side of the GPU path: every sample's Philox key (one SHA-256 each) into the
    # table the kernel reads, as `sample_dropout` on a CUDA tensor derives it.
    whole = ((256,), (0,), (256,))
    for count in (1024, 8192):
        table = np.empty(_core.cuda_sample_table_words(count, whole), np.uint32)
        rows.append((f"GPU path, host keys for {count} samples (cuda_sample_table)",
                     median_time(lambda: s.cuda_sample_table(table, 0, count, whole), a.repeats), count))
    half = np.empty((4096, 2048), np.float32)
    whole = np.empty((4096, 4096), np.float32)
    rows.append(("fill_box Shard(1) half of 4096x4096 normal (per row)",
                 median_time(lambda: fill_box(g, "normal", (4096, 4096), (0, 2048), half, 0.0, 1.0), a.repeats), 4096))
    rows.append(("whole 4096x4096 normal draw (per row)",
                 median_time(lambda: Generator(1).normal(0.0, 1.0, dtype=np.float32, out=whole), a.repeats), 4096))
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {n} samples\n")
    print("| operation | process ms | wall ms | ns per sample or row (process) |")
    print("| --- | ---: | ---: | ---: |")
    for name, (t, w), count in rows:
        print(f"| {name} | {t * 1e3:.2f} | {w * 1e3:.2f} | {t / count * 1e9:.0f} |")


if __name__ == "__main__":
    main()
