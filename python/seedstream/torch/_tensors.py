"""torch-like tensor constructors drawing from a seedstream.Generator."""

from __future__ import annotations

from typing import Any, Optional

import torch

from seedstream import Generator
from seedstream import _validate as v
from seedstream.torch import _buffers as buffers
from seedstream.torch import _cuda

_INT_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)
_FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _float_dtype(dtype: Optional[torch.dtype], out: Any = None) -> torch.dtype:
    """`dtype`, else that of `out` (as torch infers it), else float32."""
    if dtype is None and isinstance(out, torch.Tensor):
        dtype = out.dtype
    dtype = dtype or torch.float32
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype: expected torch.float32, float64, float16 or bfloat16, got {dtype}")
    return dtype


def _generator(generator: Any) -> Generator:
    return v.generator(generator)  # type: ignore[no-any-return]


def rand(
    *size: Any,
    generator: Generator,
    dtype: Optional[torch.dtype] = None,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
    requires_grad: bool = False,
) -> torch.Tensor:
    """Uniform [0, 1) like ``torch.rand``: the values of ``generator.uniform(0, 1, size,
    dtype)`` (for float32 and float64 the same as ``generator.random``); float16 and
    bfloat16 hold the float32 values rounded."""
    g = _generator(generator)
    t = buffers.target(buffers.parse_size(size), _float_dtype(dtype, out), device, out, requires_grad)
    return buffers.fill(t, lambda a: g.uniform(0.0, 1.0, dtype=a.dtype, out=a), (g, "uniform", (0.0, 1.0)), generator=g)


def randn(
    *size: Any,
    generator: Generator,
    dtype: Optional[torch.dtype] = None,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
    requires_grad: bool = False,
) -> torch.Tensor:
    """Standard normal like ``torch.randn``: the values of ``generator.standard_normal``."""
    g = _generator(generator)
    t = buffers.target(buffers.parse_size(size), _float_dtype(dtype, out), device, out, requires_grad)
    return buffers.fill(t, lambda a: g.standard_normal(dtype=a.dtype, out=a), (g, "normal", (0.0, 1.0)), generator=g)


def normal(
    mean: float,
    std: float,
    size: Any,
    *,
    generator: Generator,
    dtype: Optional[torch.dtype] = None,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
    requires_grad: bool = False,
) -> torch.Tensor:
    """``torch.normal(mean, std, size)`` with float mean and std: ``generator.normal``."""
    g = _generator(generator)
    t = buffers.target(buffers.parse_size((size,)), _float_dtype(dtype, out), device, out, requires_grad)
    return buffers.fill(t, lambda a: g.normal(mean, std, dtype=a.dtype, out=a), (g, "normal", (mean, std)), generator=g)


def trunc_normal(
    *size: Any,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator,
    dtype: Optional[torch.dtype] = None,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
    requires_grad: bool = False,
) -> torch.Tensor:
    """N(mean, std^2) truncated to the absolute bounds [a, b] (as
    ``torch.nn.init.trunc_normal_``): the values of ``generator.truncated_normal``."""
    g = _generator(generator)
    t = buffers.target(buffers.parse_size(size), _float_dtype(dtype, out), device, out, requires_grad)
    return buffers.fill(
        t,
        lambda arr: g.truncated_normal(mean, std, a, b, dtype=arr.dtype, out=arr),
        (g, "truncated_normal", (mean, std, a, b)),
        generator=g,
    )


def randint(
    *args: Any,
    generator: Generator,
    dtype: Optional[torch.dtype] = None,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)`` like ``torch.randint``:
    uniform integers in [low, high), the values of ``generator.integers``. The dtype is
    ``dtype``, else that of ``out``, else int64."""
    g = _generator(generator)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint: expected (high, size) or (low, high, size)")
    if dtype is None:
        dtype = out.dtype if isinstance(out, torch.Tensor) else torch.int64
    if dtype not in _INT_DTYPES:
        raise TypeError(f"dtype: expected an integer dtype, got {dtype}")
    t = buffers.target(buffers.parse_size((size,)), dtype, device, out)
    np_dtype = str(dtype).replace("torch.", "")
    spec = None
    if t.device.type == "cuda":
        g.integers(low, high, size=0, dtype=np_dtype)  # the CPU's checks and messages; draws nothing
        spec = (g, "integers", (int(low), int(high) - int(low)))
    return buffers.fill(t, lambda a: g.integers(low, high, dtype=np_dtype, out=a), spec, generator=g)



def randperm(
    n: int,
    *,
    generator: Generator,
    dtype: Optional[torch.dtype] = None,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """A random permutation of ``range(n)``, the values of ``generator.permutation(n)``.
    Fisher–Yates is sequential: on CUDA the permutation is computed on the CPU and copied."""
    g = _generator(generator)
    if dtype is None:
        dtype = out.dtype if isinstance(out, torch.Tensor) else torch.int64
    if dtype != torch.int64:
        raise TypeError(f"dtype: only torch.int64 is supported, got {dtype}")
    count = v.count(n, "n")
    t = buffers.target((count,), dtype, device, out)
    steps = max(count - 1, 0)  # Fisher-Yates steps of 2 words each (docs/spec.md#positions)
    return buffers.fill(t, lambda a: g.permutation(count, out=a), generator=g, meta_blocks=(steps + 1) // 2)


def bernoulli(
    p: Any,
    *size: Any,
    generator: Generator,
    dtype: Optional[torch.dtype] = None,
    device: Any = None,
    out: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """``bernoulli(p, *size)`` with a float ``p``: a bool tensor, True with probability p
    (``generator.bernoulli(p, size)``). ``bernoulli(input)`` with a tensor of probabilities,
    as ``torch.bernoulli``: element ``i`` is 1 with probability ``input[i]``, in the input's
    dtype unless ``dtype`` says otherwise."""
    g = _generator(generator)
    if isinstance(p, torch.Tensor):
        if size:
            raise TypeError("size: not accepted with a tensor of probabilities")
        result_dtype = dtype or p.dtype
        if out is not None:
            buffers.target(tuple(p.shape), result_dtype, None, out)  # the checks of every out=
        if p.device.type == "meta" or (out is not None and out.device.type == "meta"):
            # No data: nothing is computed; the position moves as the draw's (1 word each).
            g.advance(-(-int(p.numel()) // 4))
            return torch.empty(p.shape, dtype=result_dtype, device="meta") if out is None else out
        if p.device.type == "cuda" and _cuda.has_kernels(g.stream):
            result = _cuda.bernoulli_probabilities(g.stream, p).to(result_dtype)
            return result if out is None else out.copy_(result)
        probs = p.detach().to("cpu", torch.float64).contiguous().numpy()
        mask = buffers.target(tuple(p.shape), torch.bool, "cpu", None)
        g.bernoulli(probs, out=buffers.numpy_view(mask))
        result = mask.to(result_dtype)
        return result.to(p.device) if out is None else out.copy_(result)
    if dtype not in (None, torch.bool):
        raise TypeError(f"dtype: a float p gives torch.bool, got {dtype}")
    t = buffers.target(buffers.parse_size(size), torch.bool, device, out)
    return buffers.fill(t, lambda a: g.bernoulli(p, out=a), (g, "bernoulli", (p,)), generator=g)
