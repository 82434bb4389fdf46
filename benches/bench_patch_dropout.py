#!/usr/bin/env python3
"""Benchmark: per-training-step cost of ``seedstream.torch.patch_dropout`` on a small GPT.

This is a benchmark, not a test: it prints a Markdown table and never asserts.

    python benches/bench_patch_dropout.py                     # width 256, 4 layers, 20 repeats
    python benches/bench_patch_dropout.py --width 128 --repeats 10

A nanoGPT-shaped model (tied embeddings, SDPA attention with dropout, MLP, residual and
embedding dropout), one training step = forward, backward and AdamW on one batch. Two
contenders, built with the same weights: the model as written (torch's dropout) and the same
model after ``patch_dropout``. Steps alternate between the two, so machine load hits both
alike. Reported: the median CPU time of a step (process time, all threads) of each and
the overhead of the patched model, for dropout 0.1 and for dropout 0 (where only the hooks
remain).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

import seedstream.torch as sst
from seedstream._bench.machine import cpu_model


class Block(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.resid = nn.Dropout(dropout)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        x = x + self.resid(self.proj(y.transpose(1, 2).reshape(b, t, c)))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab: int, block: int, width: int, heads: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(block, width)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(width, heads, dropout) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(idx.size(1))))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


def step_time(model: nn.Module, opt: torch.optim.Optimizer, idx: torch.Tensor, targets: torch.Tensor) -> float:
    """CPU time of the process over one step: on a shared machine it moves far less with
    the load than wall time does."""
    start = time.process_time()
    loss = model(idx, targets)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.process_time() - start


def measure(args: argparse.Namespace, dropout: float) -> Dict[str, float]:
    torch.manual_seed(0)
    base = GPT(args.vocab, args.block, args.width, args.heads, args.layers, dropout)
    patched = copy.deepcopy(base)
    sst.patch_dropout(patched, seed=1)
    models = {"torch": base, "patched": patched}
    opts = {k: torch.optim.AdamW(m.parameters(), lr=1e-4) for k, m in models.items()}
    idx = torch.randint(args.vocab, (args.batch, args.block + 1))
    x, y = idx[:, :-1].contiguous(), idx[:, 1:].contiguous()
    times: Dict[str, List[float]] = {k: [] for k in models}
    for k in models:  # warm-up
        step_time(models[k], opts[k], x, y)
    for _ in range(args.repeats):
        for k in models:
            times[k].append(step_time(models[k], opts[k], x, y))
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--block", type=int, default=128)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_model()}, torch threads: {torch.get_num_threads()}, torch {torch.__version__}")
    print(f"GPT: vocab {args.vocab}, block {args.block}, width {args.width}, heads {args.heads}, "
          f"layers {args.layers}, batch {args.batch}; median of {args.repeats} steps\n")
    print("| dropout | torch step (CPU ms) | patched step (CPU ms) | overhead |")
    print("| --- | --- | --- | --- |")
    for dropout in (0.1, 0.0):
        t = measure(args, dropout)
        over = (t["patched"] / t["torch"] - 1) * 100
        print(f"| {dropout} | {t['torch'] * 1e3:.1f} | {t['patched'] * 1e3:.1f} | {over:+.1f}% |")


if __name__ == "__main__":
    main()
