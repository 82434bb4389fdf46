"""Mirror of ``torch.nn.init`` drawing from a seedstream.Generator.

Same fan and gain rules as torch (its own ``_calculate_fan_in_and_fan_out`` and
``calculate_gain`` are used, with torch's order of operations), the same warnings and the
same errors; the values come from the Generator's ``uniform``, ``normal``,
``truncated_normal`` and ``permutation``, so they are identical on every device and thread
count, and a bfloat16 or float16 tensor holds the float32 values rounded to nearest-even.
A non-contiguous tensor (``w.T``, a strided slice) is filled in place with the values of
its elements in C order. A ``meta`` tensor is left as it is, but the generator advances as
far as the draw on a real tensor would move it.
"""

from __future__ import annotations

import math
import warnings
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


def _fill(tensor: torch.Tensor, generator: Generator, draw: Any, cuda: Any) -> torch.Tensor:
    return buffers.fill(tensor, draw, cuda, "tensor", generator=generator)


def uniform_(tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """Fills with U(a, b): ``generator.uniform(a, b)`` in the tensor's dtype."""
    _check(tensor, generator)
    return _fill(tensor, generator, lambda arr: generator.uniform(a, b, dtype=arr.dtype, out=arr), (generator, "uniform", (a, b)))


def normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """Fills with N(mean, std^2): ``generator.normal(mean, std)`` in the tensor's dtype."""
    _check(tensor, generator)
    return _fill(tensor, generator, lambda arr: generator.normal(mean, std, dtype=arr.dtype, out=arr), (generator, "normal", (mean, std)))


def trunc_normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    *,
    generator: Generator,
) -> torch.Tensor:
    """Fills with N(mean, std^2) truncated to [a, b] (absolute bounds, as torch):
    ``generator.truncated_normal(mean, std, a, b)``.

    As torch: a UserWarning when ``mean`` is more than 2 std outside [a, b], and
    RuntimeError when ``a > b`` or ``std < 0`` (``a == b`` and ``std == 0`` raise
    ValueError: there is no distribution to sample).
    """
    _check(tensor, generator)
    m, s, lo, hi = (v.real(x, name) for x, name in ((mean, "mean"), (std, "std"), (a, "a"), (b, "b")))
    # RuntimeError rather than ValueError: torch's contract for these two.
    if lo > hi:
        raise RuntimeError(f"b: trunc_normal_ expects a <= b, got a={lo}, b={hi}")
    if s < 0:
        raise RuntimeError(f"std: trunc_normal_ expects std >= 0, got {s}")
    if m < lo - 2 * s or m > hi + 2 * s:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    return _fill(
        tensor,
        generator,
        lambda arr: generator.truncated_normal(m, s, lo, hi, dtype=arr.dtype, out=arr),
        (generator, "truncated_normal", (m, s, lo, hi)),
    )


def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """U(-x, x) with ``x = sqrt(3) * (gain * sqrt(2 / (fan_in + fan_out)))``, as torch
    computes it (the same float64 operations in the same order)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``, as torch."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator=generator)


def _zero_element(tensor: Any) -> bool:
    """torch's kaiming_* warn and do nothing on a tensor with a zero-size dimension."""
    if isinstance(tensor, torch.Tensor) and 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def _kaiming_std(tensor: torch.Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if not isinstance(mode, str):
        raise TypeError(f"mode: expected 'fan_in' or 'fan_out', got {type(mode).__name__}")
    if mode.lower() not in ("fan_in", "fan_out"):  # torch lower-cases the mode
        raise ValueError(f"mode: expected 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode.lower() == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    generator: Generator,
) -> torch.Tensor:
    """U(-bound, bound) with ``bound = sqrt(3) * (gain / sqrt(fan))``, as torch. A tensor
    with a zero-size dimension gets torch's UserWarning and is left as it is."""
    _check(tensor, generator)
    if _zero_element(tensor):
        return tensor
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
    """N(0, std^2) with ``std = gain / sqrt(fan)``, as torch. A tensor with a zero-size
    dimension gets torch's UserWarning and is left as it is."""
    _check(tensor, generator)
    if _zero_element(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator=generator)


def orthogonal_(tensor: torch.Tensor, gain: float = 1.0, *, generator: Generator) -> torch.Tensor:
    """A (semi) orthogonal matrix, by torch's algorithm: ``normal(0, 1)`` of shape
    ``(rows, numel // rows)`` in the tensor's dtype, then torch's QR and sign correction,
    times ``gain``. The normal draw is seedstream's; the QR is torch's LAPACK, so the bits
    are not promised across platforms (as under ``routed``)."""
    _check(tensor, generator)
    if tensor.ndimension() < 2:
        raise ValueError("tensor: only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flattened = torch.empty((rows, cols), dtype=tensor.dtype, device=tensor.device)
    normal_(flattened, 0.0, 1.0, generator=generator)
    if tensor.is_meta:
        return tensor
    with torch.no_grad():
        if rows < cols:
            flattened.t_()
        q, r = torch.linalg.qr(flattened)
        q *= torch.diag(r, 0).sign()
        if rows < cols:
            q.t_()
        tensor.view_as(q).copy_(q)
        tensor.mul_(gain)
    return tensor


def sparse_(tensor: torch.Tensor, sparsity: float, std: float = 0.01, *, generator: Generator) -> torch.Tensor:
    """A 2-D sparse matrix, by torch's algorithm: ``normal(0, std)`` over the tensor, then
    for each column in order ``permutation(rows)``, whose first ``ceil(sparsity * rows)``
    rows are set to zero (all draws from ``generator``, one after another)."""
    _check(tensor, generator)
    if tensor.ndimension() != 2:
        raise ValueError("tensor: only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(v.real(sparsity, "sparsity") * rows)
    normal_(tensor, 0.0, std, generator=generator)
    if tensor.is_meta:
        steps = max(rows - 1, 0)
        generator.advance(cols * ((steps + 1) // 2))
        return tensor
    with torch.no_grad():
        for col_idx in range(cols):
            row_indices = torch.from_numpy(generator.permutation(rows)).to(tensor.device)
            tensor[row_indices[:num_zeros], col_idx] = 0
    return tensor
