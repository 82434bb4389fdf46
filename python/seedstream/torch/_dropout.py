"""``Dropout`` module whose mask is a pure function of (seed, name, step, index)."""

from __future__ import annotations

from typing import Union

import torch

from seedstream import Generator
from seedstream._validate import utf8
from seedstream.torch.functional import dropout, dropout_probability


class Dropout(torch.nn.Module):
    """Deterministic dropout: at training step ``t`` the mask of element ``j`` is element
    ``j`` of ``Generator(seed).child(name, t).bernoulli(p, ...)``.

    The step lives in the ``step`` buffer, increments on each training forward and is saved
    in ``state_dict``, so a resumed run continues with the next masks. Same scaling as
    ``torch.nn.Dropout``; backward regenerates the mask instead of storing it.
    """

    def __init__(self, p: float = 0.5, *, seed: Union[int, str], name: str) -> None:
        super().__init__()
        prob = dropout_probability(p)
        if not isinstance(name, str):
            raise TypeError(f"name: expected a str, got {type(name).__name__}")
        utf8(name, "name")
        self.p = prob
        self.seed = seed
        self.name = name
        self._root = Generator(seed)
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        g = self._root.child(self.name, int(self.step))
        self.step += 1
        return dropout(x, self.p, generator=g)

    def extra_repr(self) -> str:
        return f"p={self.p}, seed={self.seed!r}, name={self.name!r}"
