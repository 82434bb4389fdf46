"""``seed_everything``: seed the global generators of Python, NumPy and torch at once."""

from __future__ import annotations

import importlib.util
import random
from typing import Union

import numpy as np

from seedstream._generator import _FROM_OS, Generator


def seed_everything(seed: Union[int, str] = _FROM_OS) -> Generator:
    """Seeds Python's ``random``, NumPy's legacy global generator (``np.random.seed``) and,
    when PyTorch is installed, torch's CPU and CUDA generators, each from its own named
    child of ``Generator(seed)``; returns that root generator for seedstream draws.

    Without a seed, ``Generator()`` draws one from the OS and logs it once (logger
    ``"seedstream"``, INFO); ``seed_everything(root.seed)`` reruns the run.

    What it cannot do: NumPy's ``default_rng()`` without a seed has no global state to seed;
    CUDA kernels that use atomics, and anything reading OS entropy, stay nondeterministic.
    """
    root = Generator(seed)
    random.seed(int(root.child("python").bits(dtype=np.uint64)))
    np.random.seed(int(root.child("numpy").bits()))
    if importlib.util.find_spec("torch") is not None:
        import torch

        value = int(root.child("torch").bits(dtype=np.uint64))
        torch.manual_seed(value)  # seeds the CPU and every CUDA device
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(value)
    return root
