"""``Dropout`` module whose mask is a pure function of (seed, name, step, index)."""

from __future__ import annotations

from typing import Any, Union

import torch

from seedstream import Generator
from seedstream._validate import utf8
from seedstream.torch import _patch
from seedstream.torch.functional import _DROPOUT_DTYPES, dropout_probability, named_dropout


class Dropout(torch.nn.Module):
    """Deterministic dropout: at training step ``t`` the mask of element ``j`` is element
    ``j`` of ``Generator(seed).child(name, t).bernoulli(p, ...)``.

    The step lives in the ``step`` buffer, increments on each training forward and is saved
    in ``state_dict``, so a resumed run continues with the next masks. A checkpoint saved
    before ``torch.nn.Dropout`` was swapped for this module (so without ``step``) loads with
    ``strict=True`` and keeps the current step. Same scaling as ``torch.nn.Dropout``;
    backward regenerates the mask instead of storing it.

    Under activation checkpointing, recomputation must draw the masks of the original
    calls: run the model through :func:`seedstream.torch.patch_dropout`, which tracks that.
    Without it, a recomputed forward raises ``RuntimeError`` rather than drawing new masks.
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
        root = Generator(seed)
        self._algorithm, self._key = root._stream.algorithm, root._stream.key.hex()
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))
        self.register_load_state_dict_pre_hook(_keep_step_when_absent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if not isinstance(x, torch.Tensor) or x.dtype not in _DROPOUT_DTYPES:
            raise TypeError("x: expected a float32, float64, float16 or bfloat16 tensor")
        if not torch.compiler.is_compiling():
            scope = _patch.active()
            if scope is not None:
                step = torch.tensor(scope.module_step(self))
                return named_dropout(x, self.p, self._algorithm, self._key, self.name, step)
            if _patch.in_backward():
                raise RuntimeError(
                    f"Dropout {self.name!r}: forward recomputed in backward (activation "
                    "checkpointing?) outside seedstream.torch.patch_dropout(model, ...), "
                    "which is needed to redraw the original masks"
                )
        # The op gets its own copy of the step: the buffer moves on before backward runs.
        step = self.step.clone()
        self.step.add_(1)
        return named_dropout(x, self.p, self._algorithm, self._key, self.name, step)

    def extra_repr(self) -> str:
        return f"p={self.p}, seed={self.seed!r}, name={self.name!r}"


def _keep_step_when_absent(module: Dropout, state_dict: Any, prefix: str, *rest: Any) -> None:
    state_dict.setdefault(prefix + "step", module.step.clone())
