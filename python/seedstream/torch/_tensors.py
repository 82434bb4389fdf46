"""torch-like tensor constructors drawing from a seedstream.Generator."""

from __future__ import annotations

from typing import Any, Optional

import torch

from seedstream import Generator
from seedstream.torch import _buffers as b

_INT_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


def _generator(generator: Any) -> Generator:
    if not isinstance(generator, Generator):
        raise TypeError(f"generator: expected a seedstream.Generator, got {type(generator).__name__}")
    return generator


def rand(
    *size: Any,
    generator: Generator,
    dtype: Optional[torch.dtype] = None,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
    requires_grad: bool = False,
) -> torch.Tensor:
    """Uniform [0, 1) like ``torch.rand``: the values of ``generator.random(size, dtype)``."""
    g = _generator(generator)
    dtype = dtype or torch.float32
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype: expected torch.float32 or torch.float64, got {dtype}")
    t = b.target(b.parse_size(size), dtype, device, out, requires_grad)
    np_dtype = "float32" if dtype == torch.float32 else "float64"
    return b.fill(t, lambda a: g.random(dtype=np_dtype, out=a))


def randint(
    *args: Any,
    generator: Generator,
    dtype: torch.dtype = torch.int64,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)`` like ``torch.randint``:
    uniform integers in [low, high), the values of ``generator.integers``."""
    g = _generator(generator)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint: expected (high, size) or (low, high, size)")
    if dtype not in _INT_DTYPES:
        raise ValueError(f"dtype: expected an integer dtype, got {dtype}")
    t = b.target(b.parse_size((size,)), dtype, device, out)
    np_dtype = str(dtype).replace("torch.", "")
    return b.fill(t, lambda a: g.integers(low, high, dtype=np_dtype, out=a))


def randperm(
    n: int,
    *,
    generator: Generator,
    dtype: torch.dtype = torch.int64,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """A random permutation of ``range(n)``, the values of ``generator.permutation(n)``."""
    g = _generator(generator)
    if dtype != torch.int64:
        raise ValueError(f"dtype: only torch.int64 is supported, got {dtype}")
    if isinstance(n, bool) or not hasattr(type(n), "__index__") or int(n) < 0:
        raise ValueError(f"n: expected a non-negative int, got {n!r}")
    t = b.target((int(n),), dtype, device, out)
    return b.fill(t, lambda a: g.permutation(int(n), out=a))


def bernoulli(
    p: float,
    *size: Any,
    generator: Generator,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """A bool tensor, True with probability p: the values of ``generator.bernoulli(p, size)``."""
    g = _generator(generator)
    t = b.target(b.parse_size(size), torch.bool, device, out)
    return b.fill(t, lambda a: g.bernoulli(p, out=a))
