"""Zero-copy NumPy views of tensors, and the device dispatch point.

CPU tensors are filled in place through a NumPy view of their memory. CUDA tensors are
filled by seedstream's kernels on the GPU (`_cuda`), for draws that have one and `philox`
generators. Other devices, and draws without a kernel, get the values produced on the CPU
and copied. Every path gives the same bits. `meta` tensors hold no data: nothing is
computed for them, but the generator moves as far as the draw would have moved it, so
later draws match a run on real tensors.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import torch

from seedstream._validate import dims
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
    return dims(size, arg)


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
        for d in size:
            if d > sys.maxsize:
                raise ValueError(f"size: dimension {d} exceeds the largest tensor dimension {sys.maxsize}")
        try:
            if device is None or torch.device(device).type == "cpu":
                return empty_cpu(size, dtype).requires_grad_(requires_grad)
            return torch.empty(size, dtype=dtype, device=device, requires_grad=requires_grad)
        except (MemoryError, ValueError):  # NumPy's "array is too big" is a ValueError
            raise MemoryError(f"size: cannot allocate {size} of {dtype}") from None
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
    if out.requires_grad and torch.is_grad_enabled():
        # torch's rule for out= functions (e.g. torch.rand(..., out=leaf)): no autograd.
        raise RuntimeError(
            "out: functions with out= do not support automatic differentiation, but out requires "
            "grad; pass out.detach() or call under torch.no_grad()"
        )
    return out


def words_per_element(dtype: torch.dtype) -> int:
    """Words of the word stream one element of a draw in `dtype` reads (docs/spec.md#positions):
    2 for float64 and the integer dtypes (``integers``), 1 for the other floats and bool
    (``bernoulli``)."""
    return 2 if dtype == torch.float64 or (not dtype.is_floating_point and dtype != torch.bool) else 1


def fill(
    t: torch.Tensor,
    fill_cpu: Callable[[np.ndarray], Any],
    cuda: Optional[Tuple[Any, str, Tuple[Any, ...]]] = None,
    arg: str = "out",
    generator: Any = None,
    meta_blocks: Optional[int] = None,
) -> torch.Tensor:
    """Fills `t` on its device with `fill_cpu(numpy_view)`; the device dispatch point.

    `cuda` is ``(generator, method, params)`` of the same draw for the GPU kernels (see
    ``_cuda.launch``); without it a CUDA tensor is filled on the CPU and copied.
    A non-contiguous `t` gets the values of its elements in C order.
    The write counts as an in-place operation for autograd, as torch's own: `t`'s version
    counter moves, so a backward that saved `t` raises instead of reading the new values.
    A meta tensor holds no data: nothing is computed, and `generator` (the one `fill_cpu`
    draws from) advances by the blocks the draw would use: `meta_blocks`, or by default
    ``ceil(numel * w / 4)`` with `w` from :func:`words_per_element`, after `fill_cpu` on an
    empty array has checked the arguments.
    """
    if t.device.type == "meta":
        if generator is not None:
            blocks = meta_blocks
            if blocks is None:
                # A draw of no elements checks the arguments as the real draw does.
                fill_cpu(numpy_view(empty_cpu((0,), t.dtype), arg, half_as_bits=False))
                blocks = -(-int(t.numel()) * words_per_element(t.dtype) // 4)
            generator.advance(blocks)
        return t
    if t.is_inference() and not torch.is_inference_mode_enabled():
        raise RuntimeError(
            f"{arg}: an inference tensor cannot be updated in place outside InferenceMode (as in torch)"
        )
    if t.device.type != "meta" and not t.is_contiguous():
        # As torch.nn.init: a strided view gets the values of its C-order elements.
        if any(stride == 0 and n > 1 for stride, n in zip(t.stride(), t.shape)):
            raise RuntimeError(f"{arg}: several elements share one memory location (an expanded tensor)")
        tmp = empty_cpu(tuple(t.shape), t.dtype) if t.device.type == "cpu" else torch.empty(
            tuple(t.shape), dtype=t.dtype, device=t.device)
        fill(tmp, fill_cpu, cuda, arg, generator, meta_blocks)
        with torch.no_grad():
            t.copy_(tmp)
        return t
    with torch.no_grad():
        kind = t.device.type
        if kind == "cpu":
            fill_cpu(numpy_view(t, arg, half_as_bits=False))
            # Writes through a NumPy view are invisible to autograd: count this one.
            torch.autograd.graph.increment_version(t)
        elif kind == "cuda" and cuda is not None and _cuda.has_kernels(cuda[0].stream):
            # The CPU draw of no elements checks the arguments with the CPU's own messages
            # and moves nothing; then the kernel draws.
            fill_cpu(numpy_view(empty_cpu((0,), t.dtype), half_as_bits=False))
            generator, method, params = cuda
            _cuda.launch(generator.stream, method, t, params)
            torch.autograd.graph.increment_version(t)
        elif kind != "meta":
            host = empty_cpu(tuple(t.shape), t.dtype)
            fill_cpu(numpy_view(host, half_as_bits=False))
            t.copy_(host)  # an in-place op: moves the version counter itself
    return t
