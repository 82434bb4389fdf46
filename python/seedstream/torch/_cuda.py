"""Draws straight into CUDA tensors with seedstream's own kernels (no host round trip).

The kernels live in the Rust core (``seedstream._core.cuda_source()``); they are compiled at
first use on each device, with the NVRTC library of torch's CUDA wheels, to a cubin for that
device's exact SM. Each draw is launched on torch's current stream of the tensor's device
with the tensor's ``data_ptr()``; the generator's position moves at launch, and nothing
waits for the GPU. The values equal the CPU's bit for bit (docs/spec.md applies unchanged).

Missing pieces raise ``RuntimeError`` naming what is missing; nothing falls back to values
computed another way. A ``pcg64`` generator has no kernel (its blocks are sequential): its
values are computed on the CPU and copied, bit for bit the same.

Draws are refused while the stream is being captured into a CUDA graph: kernel arguments
are frozen into a graph, so every replay would repeat the same numbers.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import torch

from seedstream import _core
from seedstream._core import Stream

_NAMES = {
    torch.float64: "float64",
    torch.float32: "float32",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.int64: "int64",
    torch.int32: "int32",
    torch.int16: "int16",
    torch.int8: "int8",
    torch.uint8: "uint8",
    torch.bool: "bool",
}

#: Environment variable holding an absolute path to ``libnvrtc.so``, overriding the search.
NVRTC_ENV = "SEEDSTREAM_NVRTC"

_configured: Optional[str] = None


def nvrtc_path() -> str:
    """The NVRTC library to compile with: ``$SEEDSTREAM_NVRTC``, else the one of the
    ``nvidia-cuda-nvrtc`` wheel found (and loaded, with its builtins) by ``cuda.pathfinder``."""
    path = os.environ.get(NVRTC_ENV)
    if path:
        return path
    try:
        from cuda import pathfinder  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise RuntimeError(
            "nvrtc: CUDA tensors need NVRTC: install torch's CUDA wheels (nvidia-cuda-nvrtc and "
            f"cuda-pathfinder), or set {NVRTC_ENV} to the path of libnvrtc.so"
        ) from None
    try:
        lib = pathfinder.load_nvidia_dynamic_lib("nvrtc")
    except Exception as exc:  # pathfinder raises its own error types
        raise RuntimeError(f"nvrtc: NVRTC was not found by cuda.pathfinder: {exc}") from None
    return str(lib.abs_path)


def _configure() -> None:
    global _configured
    if _configured is None:
        path = nvrtc_path()
        _core.cuda_set_nvrtc(path)
        _configured = path


def _device_index(t: torch.Tensor) -> int:
    return t.device.index if t.device.index is not None else torch.cuda.current_device()


def launch(
    stream: Stream,
    method: str,
    out: torch.Tensor,
    params: Sequence[Any] = (),
    input: Optional[torch.Tensor] = None,
) -> int:
    """Launches `method` (see ``Stream.cuda_draw``) into the contiguous CUDA tensor `out`,
    reading `input` (same device, contiguous); returns the first block used."""
    if out.device.type != "cuda":
        raise ValueError(f"out: expected a CUDA tensor, got device {out.device}")
    if not out.is_contiguous():
        raise ValueError("out: must be contiguous (a copy would not be filled in place)")
    if input is not None and (input.device != out.device or not input.is_contiguous()):
        raise ValueError("input: expected a contiguous tensor on the device of out")
    _configure()
    device = _device_index(out)
    cuda_stream = torch.cuda.current_stream(out.device).cuda_stream
    return int(
        stream.cuda_draw(
            method,
            _NAMES[out.dtype],
            out.numel(),
            out.data_ptr() if out.numel() else 0,
            input.data_ptr() if input is not None and input.numel() else 0,
            device,
            cuda_stream,
            list(params),
        )
    )


def has_kernels(stream: Stream) -> bool:
    """Whether draws of `stream` run on the GPU (``philox`` streams do)."""
    return stream.algorithm == "philox"


def dropout(stream: Stream, x: torch.Tensor, p: float) -> Tuple[torch.Tensor, int]:
    """Dropout of the CUDA tensor `x` (float32/64/16, bfloat16) with the mask drawn from
    `stream` at its position, which advances as ``bernoulli(p, size=x.numel())`` would.

    One fused kernel: element ``i`` is ``+0`` where word ``i`` is below ``round(p * 2**32)``,
    else ``x[i] * 1 / (1 - p)`` (docs/spec.md#dropout-v1); the mask is never stored. Returns
    the output (contiguous, on `x`'s device) and the first block, from which the backward
    pass regenerates the mask: ``dropout(Stream.from_key(algorithm, key, first), grad, p)``.
    """
    x = x.contiguous()
    out = torch.empty_like(x, memory_format=torch.contiguous_format)
    first = launch(stream, "dropout", out, (float(p),), input=x.detach())
    return out, first


def bernoulli_probabilities(stream: Stream, p: torch.Tensor) -> torch.Tensor:
    """A bool CUDA tensor shaped like `p`, element ``i`` True when word ``i`` is below
    ``round(p[i] * 2**32)`` (``p`` widened to float64). Checking ``p`` is in [0, 1] reads
    one flag back from the GPU (a synchronisation) before anything is drawn."""
    probs = p.detach().to(torch.float64).contiguous()
    if bool(((probs < 0) | (probs > 1) | probs.isnan()).any()):
        raise ValueError("p: expected probabilities in [0, 1]")
    mask = torch.empty(probs.shape, dtype=torch.bool, device=probs.device)
    launch(stream, "bernoulli_p", mask, input=probs)
    return mask


def sample_dropout(
    stream: Stream,
    x: torch.Tensor,
    p: float,
    offset: int,
    box: Optional[Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]],
) -> torch.Tensor:
    """Sample dropout of the CUDA tensor `x` (docs/spec.md#sample-dropout-v1): sample ``x[j]``
    with the stream ``child(offset + j)`` of `stream` at position 0, or with `box` =
    (sample shape, element offset, box shape) that box of the sample's mask.

    The samples' Philox keys (SHA-256, derived on the host in one call with the GIL
    released) and the box's run starts go into a pinned host buffer, which is copied to the
    device with ``non_blocking=True`` on torch's current stream; one kernel on that stream
    then applies every mask. Nothing waits for the GPU: torch's pinned allocator keeps the
    buffer until the copy has run, and the device copy is freed in stream order.
    """
    x = x.contiguous()
    out = torch.empty_like(x, memory_format=torch.contiguous_format)
    if x.numel() == 0:
        return out
    local = tuple(int(d) for d in x.shape[1:])
    sample_box = box if box is not None else (local, (0,) * len(local), local)
    _configure()
    device = _device_index(x)
    cuda_stream = torch.cuda.current_stream(x.device).cuda_stream
    # Libraries, kernels and the graph-capture refusal first: nothing is queued on failure.
    _core.cuda_prepare(device, cuda_stream)
    samples = int(x.shape[0])
    host = torch.empty(_core.cuda_sample_table_words(samples, sample_box), dtype=torch.int32, pin_memory=True)
    stream.cuda_sample_table(host.numpy().view(np.uint32), offset, samples, sample_box)
    table = host.to(x.device, non_blocking=True)
    _core.cuda_sample_dropout(
        _NAMES[x.dtype], float(p), samples, sample_box, table.data_ptr(), out.data_ptr(), x.data_ptr(), device, cuda_stream
    )
    return out
