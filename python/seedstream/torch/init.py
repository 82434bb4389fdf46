"""Mirror of ``torch.nn.init`` drawing from a seedstream.Generator.

Same fan and gain rules as torch (its own ``_calculate_fan_in_and_fan_out`` and
``calculate_gain`` are used); the values come from the Generator's ``uniform``, ``normal``
and ``truncated_normal``, so they are identical on every device and thread count, and a
bfloat16 or float16 tensor holds the float32 values rounded to nearest-even.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.nn.init import _calculate_fan_in_and_fan_out, calculate_gain

from seedstream import Generator
from seedstream import _validate as v
from seedstream.torch import _buffers as buffers

_FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _check(tensor: Any, generator: Any) -> None:
    v.generator(generator)
    if not isinstance(tensor, torch.Tensor) or tensor.dtype not in _FLOATS:
        raise TypeError("tensor: expected a float32, float64, float16 or bfloat16 tensor")


def _fill(tensor: torch.Tensor, draw: Any, cuda: Any) -> torch.Tensor:
    # A meta tensor holds no data: nothing is drawn (init_module gives every tensor its own
    # stream, so positions of other tensors never depend on it).
    return buffers.fill(tensor, draw, cuda, "tensor")


def uniform_(tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """Fills with U(a, b): ``generator.uniform(a, b)`` in the tensor's dtype."""
    _check(tensor, generator)
    return _fill(tensor, lambda arr: generator.uniform(a, b, dtype=arr.dtype, out=arr), (generator, "uniform", (a, b)))


def normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """Fills with N(mean, std^2): ``generator.normal(mean, std)`` in the tensor's dtype."""
    _check(tensor, generator)
    return _fill(tensor, lambda arr: generator.normal(mean, std, dtype=arr.dtype, out=arr), (generator, "normal", (mean, std)))


def trunc_normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    *,
    generator: Generator,
) -> torch.Tensor:
    """Fills with N(mean, std^2) truncated to [a, b] (absolute bounds, as torch)."""
    _check(tensor, generator)
    return _fill(
        tensor,
        lambda arr: generator.truncated_normal(mean, std, a, b, dtype=arr.dtype, out=arr),
        (generator, "truncated_normal", (mean, std, a, b)),
    )


def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """U(-x, x) with ``x = gain * sqrt(6 / (fan_in + fan_out))``, as torch."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``, as torch."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator=generator)


def _kaiming_std(tensor: torch.Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode: expected 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError("tensor: cannot initialise a tensor with zero elements in its fan")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    generator: Generator,
) -> torch.Tensor:
    """U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``, as torch."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    generator: Generator,
) -> torch.Tensor:
    """N(0, std^2) with ``std = gain / sqrt(fan)``, as torch."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator=generator)
