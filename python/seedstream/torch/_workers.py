"""Deterministic seeds for DataLoader workers."""

from __future__ import annotations

import random
from typing import Union

import numpy as np
import torch

from seedstream import Generator
from seedstream._validate import u64


def loader_generator(seed: Union[int, str], epoch: int = 0) -> torch.Generator:
    """A ``torch.Generator`` for ``DataLoader(generator=...)`` seeded from (seed, epoch).

    DataLoader draws each epoch's worker base seed from it, so with
    :func:`worker_init_fn` every worker's seeds are a function of (seed, epoch, worker id).
    Assign ``loader.generator = loader_generator(seed, epoch)`` at the start of each epoch
    to make a resumed run match an uninterrupted one.
    """
    epoch = u64(epoch, "epoch")
    g = torch.Generator()
    g.manual_seed(int(Generator(seed).child("DataLoader", epoch).bits(dtype=np.uint64)))
    return g


def worker_init_fn(worker_id: int) -> None:
    """Seeds Python's ``random``, NumPy's legacy global generator and torch in a DataLoader
    worker from the worker's base seed and id, so workers get distinct, reproducible seeds.

    It cannot make code deterministic that draws from other sources (OS entropy,
    ``np.random.default_rng()`` without a seed, GPU kernels); use named seedstream streams
    for those draws.
    """
    info = torch.utils.data.get_worker_info()
    base = info.seed if info is not None else torch.initial_seed()
    root = Generator(int(base) % 2**64).child("worker", int(worker_id))
    random.seed(int(root.child("python").bits(dtype=np.uint64)))
    np.random.seed(int(root.child("numpy").bits()))
    torch.manual_seed(int(root.child("torch").bits(dtype=np.uint64)))
