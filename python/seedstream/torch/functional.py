"""Functional forms: ``dropout`` whose mask is regenerated from counters in backward."""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np
import torch

from seedstream import Generator
from seedstream._core import Stream
from seedstream._validate import probability
from seedstream.torch import _buffers as b

_DROPOUT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _apply(stream: Stream, x: torch.Tensor, p: float) -> Tuple[torch.Tensor, int]:
    """Draws the mask from `stream` at its position (advancing it); returns the dropped-out
    copy of `x` and the first block used. A meta tensor holds no data: nothing is drawn and
    the stream does not advance."""
    if x.device.type == "meta":
        return torch.empty_like(x, memory_format=torch.contiguous_format), stream.position
    x = x.contiguous()
    if x.device.type == "cpu":
        out = b.empty_cpu(tuple(x.shape), x.dtype)
        host_in, host_out = x, out
    else:  # no native kernel on this device yet: same bits, computed on the CPU
        out = torch.empty_like(x, memory_format=torch.contiguous_format)
        host_in, host_out = x.cpu(), b.empty_cpu(tuple(x.shape), x.dtype)
    xi = b.numpy_view(host_in.detach(), "input")
    xo = b.numpy_view(host_out, "out")
    if x.dtype in (torch.float16, torch.bfloat16):
        first = stream.fill_dropout_half(xi, xo, p, str(x.dtype).replace("torch.", ""))
    else:
        first = stream.fill_dropout(xi, xo, p)
    if host_out is not out:
        out.copy_(host_out)
    return out, first


def dropout_probability(p: Any) -> float:
    """A dropout rate: a float in [0, 1] (NumPy floats too), not a bool."""
    if isinstance(p, (bool, np.bool_)):
        raise TypeError("p: expected a float in [0, 1], got bool")
    return probability(p)


class _Dropout(torch.autograd.Function):
    """Saves the stream's algorithm, key and first block instead of the mask."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, p: float, stream: Stream) -> torch.Tensor:
        out, first = _apply(stream, x, p)
        ctx.p, ctx.where = p, (stream.algorithm, stream.key, first)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        algorithm, key, first = ctx.where
        out, _ = _apply(Stream.from_key(algorithm, key, first), grad, ctx.p)
        return out, None, None


def dropout(x: torch.Tensor, p: float = 0.5, *, generator: Generator, training: bool = True) -> torch.Tensor:
    """Dropout with torch's semantics: zero each element with probability ``p`` and scale the
    rest by ``1 / (1 - p)``. The mask is ``generator.bernoulli(p, size=x.numel())`` in C order
    at the generator's position, which advances as that draw would; backward regenerates the
    mask from those counters instead of storing it (docs/spec.md#dropout-v1).
    """
    if not isinstance(generator, Generator):
        raise TypeError(f"generator: expected a seedstream.Generator, got {type(generator).__name__}")
    prob = dropout_probability(p)
    if not isinstance(x, torch.Tensor) or x.dtype not in _DROPOUT_DTYPES:
        raise TypeError("x: expected a float32, float64, float16 or bfloat16 tensor")
    if not training or prob == 0.0:
        return x
    return _Dropout.apply(x, prob, generator._stream)
