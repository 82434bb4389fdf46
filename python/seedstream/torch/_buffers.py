"""Zero-copy NumPy views of tensors, and the device dispatch point.

CPU tensors are filled in place through a NumPy view of their memory. CUDA tensors are
filled by seedstream's kernels on the GPU (`_cuda`), for draws that have one and `philox`
generators. Other devices, and draws without a kernel, get the values produced on the CPU
and copied. Every path gives the same bits. `meta` tensors hold no data, so nothing is
drawn for them.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import torch

from seedstream.torch import _cuda

_NUMPY_OF = {
    torch.float32: np.float32,
    torch.float64: np.float64,
    torch.int64: np.int64,
    torch.int32: np.int32,
    torch.int16: np.int16,
    torch.int8: np.int8,
    torch.uint8: np.uint8,
    torch.bool: np.bool_,
}
_HALF = {torch.float16: "float16", torch.bfloat16: "bfloat16"}


def parse_size(size: Sequence[Any], arg: str = "size") -> Tuple[int, ...]:
    """torch-style sizes: ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(torch.Size(...))``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
        size = tuple(size[0])
    dims = []
    for d in size:
        if isinstance(d, bool) or not hasattr(type(d), "__index__"):
            raise TypeError(f"{arg}: expected ints, got {type(d).__name__}")
        v = int(d)
        if v < 0:
            raise ValueError(f"{arg}: expected non-negative ints, got {v}")
        dims.append(v)
    return tuple(dims)


def numpy_view(t: torch.Tensor, arg: str = "out", half_as_bits: bool = True) -> np.ndarray:
    """A C-contiguous NumPy array sharing `t`'s memory. 16-bit floats are uint16 bits, or
    with ``half_as_bits=False`` NumPy float16 / ``ml_dtypes.bfloat16`` values."""
    if t.device.type != "cpu":
        raise ValueError(f"{arg}: a NumPy view needs a CPU tensor, got device {t.device}")
    if not t.is_contiguous():
        raise ValueError(f"{arg}: must be contiguous (a copy would not be filled in place)")
    d = t.detach()
    if t.dtype in _HALF:
        bits = d.view(torch.int16).numpy().view(np.uint16)
        if half_as_bits:
            return bits
        if t.dtype == torch.float16:
            return bits.view(np.float16)
        import ml_dtypes

        return bits.view(ml_dtypes.bfloat16)
    if t.dtype not in _NUMPY_OF:
        raise TypeError(f"{arg}: unsupported dtype {t.dtype}")
    return d.numpy()


def empty_cpu(shape: Tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised CPU tensor in memory from NumPy's allocator, which asks the kernel
    for huge pages on large arrays: first touch of fresh memory then costs far less than
    with small pages, and first touch costs more than generating the values."""
    if dtype in _HALF:
        return torch.from_numpy(np.empty(shape, np.uint16)).view(dtype)
    if dtype in _NUMPY_OF:
        return torch.from_numpy(np.empty(shape, _NUMPY_OF[dtype]))
    return torch.empty(shape, dtype=dtype)


def target(
    size: Tuple[int, ...],
    dtype: torch.dtype,
    device: Any,
    out: Optional[torch.Tensor],
    requires_grad: bool = False,
) -> torch.Tensor:
    """The tensor to fill: `out` after checks, or a new uninitialised one."""
    if out is None:
        try:
            if device is None or torch.device(device).type == "cpu":
                return empty_cpu(size, dtype).requires_grad_(requires_grad)
            return torch.empty(size, dtype=dtype, device=device, requires_grad=requires_grad)
        except RuntimeError as exc:
            if "alloc" in str(exc).lower() or "memory" in str(exc).lower():
                raise MemoryError(f"size: cannot allocate {size} of {dtype}") from None
            raise
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"out: expected a torch.Tensor, got {type(out).__name__}")
    if out.dtype != dtype:
        raise ValueError(f"out: dtype {out.dtype} does not match dtype={dtype}")
    if size and tuple(out.shape) != size:
        raise ValueError(f"out: shape {tuple(out.shape)} does not match size={size}")
    if not out.is_contiguous():
        raise ValueError("out: must be contiguous (a copy would not be filled in place)")
    return out


def fill(
    t: torch.Tensor,
    fill_cpu: Callable[[np.ndarray], Any],
    cuda: Optional[Tuple[Any, str, Tuple[Any, ...]]] = None,
) -> torch.Tensor:
    """Fills `t` on its device with `fill_cpu(numpy_view)`; the device dispatch point.

    `cuda` is ``(generator, method, params)`` of the same draw for the GPU kernels (see
    ``_cuda.launch``); without it a CUDA tensor is filled on the CPU and copied. A meta
    tensor holds no data: nothing is drawn and no generator advances.
    """
    with torch.no_grad():
        kind = t.device.type
        if kind == "cpu":
            fill_cpu(numpy_view(t, half_as_bits=False))
        elif kind == "cuda" and cuda is not None and _cuda.has_kernels(cuda[0]._stream):
            # The CPU draw of no elements checks the arguments with the CPU's own messages
            # and moves nothing; then the kernel draws.
            fill_cpu(numpy_view(empty_cpu((0,), t.dtype), half_as_bits=False))
            generator, method, params = cuda
            _cuda.launch(generator._stream, method, t, params)
        elif kind != "meta":
            host = empty_cpu(tuple(t.shape), t.dtype)
            fill_cpu(numpy_view(host, half_as_bits=False))
            t.copy_(host)
    return t
