"""Functional forms: ``dropout`` whose mask is regenerated from counters in backward,
channel-wise dropout, and attention with dropout drawn from a stream."""

from __future__ import annotations

import math
from typing import Any, List, Optional, Tuple

import numpy as np
import torch

from seedstream import Generator
from seedstream import _validate as v
from seedstream._core import Stream
from seedstream._validate import probability
from seedstream.torch import _buffers as b
from seedstream.torch import _cuda

_DROPOUT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _apply(stream: Stream, x: torch.Tensor, p: float) -> Tuple[torch.Tensor, int]:
    """Draws the mask from `stream` at its position (advancing it); returns the dropped-out
    copy of `x` and the first block used. A meta tensor holds no data: nothing is computed,
    and the stream advances as the real draw would (one word per element), so later draws
    match a run on real tensors."""
    if x.device.type == "meta":
        first = stream.position
        stream.advance(-(-x.numel() // 4))
        return torch.empty_like(x, memory_format=torch.contiguous_format), first
    x = x.contiguous()
    if x.device.type == "cuda" and _cuda.has_kernels(stream):
        return _cuda.dropout(stream, x, p)  # one fused mask-and-scale kernel, no mask stored
    if x.device.type == "cpu":
        out = b.empty_cpu(tuple(x.shape), x.dtype)
        host_in, host_out = x, out
    else:  # no native kernel for this device or algorithm: same bits, computed on the CPU
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


def _skip(stream: Stream, n: int) -> None:
    """Moves `stream` as a draw of `n` one-word elements would (p = 0 draws nothing, yet
    takes its place in the stream, so changing p never shifts a later draw)."""
    stream.advance(-(-n // 4))


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
        # The gradient is the same masked scale over the same blocks. Applying the Function
        # itself (not the raw fill) records it when create_graph=True, so double backward
        # sees the mask too.
        algorithm, key, first = ctx.where
        return _Dropout.apply(grad, ctx.p, Stream.from_key(algorithm, key, first)), None, None


def _named_stream(algorithm: str, key: str, name: str, step: int, rank: int) -> Stream:
    """``Generator(seed).child(name, step)`` (``child(name, step, rank)`` for a rank >= 0)
    at position 0, from the root's hex key."""
    names: List[Any] = [name, step] if rank < 0 else [name, step, rank]
    return Stream.from_key(algorithm, bytes.fromhex(key), 0).child(names)


# One opaque op for a module's dropout, so torch.compile traces it without a graph break:
# the step arrives as a tensor (read inside the op, never in the traced code), the key as
# strings, and the backward is the same op, which keeps it differentiable.
@torch.library.custom_op("seedstream::named_dropout", mutates_args=())
def named_dropout(
    x: torch.Tensor, p: float, algorithm: str, key: str, name: str, step: torch.Tensor, rank: int
) -> torch.Tensor:
    """dropout-v1 of ``x`` with the stream ``child(name, step)`` (``child(name, step, rank)``
    for ``rank >= 0``) of the root whose algorithm and hex key are given
    (``seedstream.torch.Dropout``'s mask at that step)."""
    out, _ = _apply(_named_stream(algorithm, key, name, int(step), rank), x, p)
    return out


@named_dropout.register_fake
def _named_dropout_fake(
    x: torch.Tensor, p: float, algorithm: str, key: str, name: str, step: torch.Tensor, rank: int
) -> torch.Tensor:
    return torch.empty_like(x, memory_format=torch.contiguous_format)


def _named_dropout_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    _, ctx.p, ctx.algorithm, ctx.key, ctx.name, step, ctx.rank = inputs
    ctx.save_for_backward(step)


def _named_dropout_backward(ctx: Any, grad: torch.Tensor) -> Any:
    (step,) = ctx.saved_tensors
    grad_x = named_dropout(grad, ctx.p, ctx.algorithm, ctx.key, ctx.name, step, ctx.rank)
    return grad_x, None, None, None, None, None, None


named_dropout.register_autograd(_named_dropout_backward, setup_context=_named_dropout_setup)


def _check(x: Any, p: Any, generator: Any) -> float:
    """Checks dropout's arguments; returns ``p`` as a float."""
    v.generator(generator)
    prob = dropout_probability(p)
    if not isinstance(x, torch.Tensor) or x.dtype not in _DROPOUT_DTYPES:
        raise TypeError("x: expected a float32, float64, float16 or bfloat16 tensor")
    return prob


def dropout(x: torch.Tensor, p: float = 0.5, *, generator: Generator, training: bool = True) -> torch.Tensor:
    """Dropout with torch's semantics: zero each element with probability ``p`` and scale the
    rest by ``1 / (1 - p)``. The mask is ``generator.bernoulli(p, size=x.numel())`` in C order
    at the generator's position, which advances as that draw would (also at ``p == 0``,
    which returns ``x`` itself); backward regenerates the mask from those counters instead
    of storing it (docs/spec.md#dropout-v1). Nothing is drawn when ``training`` is false.
    """
    prob = _check(x, p, generator)
    if not training:
        return x
    if prob == 0.0:
        _skip(generator.stream, x.numel())
        return x
    return _Dropout.apply(x, prob, generator.stream)


def channel_dropout(
    x: torch.Tensor, p: float = 0.5, *, generator: Generator, mask_dims: int = 2, training: bool = True
) -> torch.Tensor:
    """Channel-wise dropout (``Dropout1d/2d/3d``): one mask entry per index of the first
    ``mask_dims`` dimensions (``(N, C)`` for batched input, ``(C,)`` unbatched), shared by
    every element of that channel. The mask is ``generator.bernoulli(p, size=prod(mask
    shape))`` in C order; a kept element is ``x * (1 / (1 - p))`` with dropout-v1's rounding,
    a dropped one ``+0`` (docs/spec.md#channel-dropout-v1).
    """
    p = _check(x, p, generator)
    if isinstance(mask_dims, bool) or not isinstance(mask_dims, int) or not 0 <= mask_dims <= x.dim():
        raise ValueError(f"mask_dims: expected an int in [0, {x.dim()}], got {mask_dims!r}")
    if not training:
        return x
    shape = tuple(x.shape[:mask_dims])
    if p == 0.0:
        _skip(generator.stream, math.prod(shape))
        return x
    dropped = torch.from_numpy(generator.bernoulli(float(p), size=math.prod(shape)))
    dropped = dropped.reshape(shape + (1,) * (x.dim() - mask_dims)).to(x.device)
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - float(p))
    # torch multiplies by a Python float in the tensor's compute type (binary32 for the
    # 16-bit formats, then rounded), which is dropout-v1's rule for a kept element.
    return torch.where(dropped, x.new_zeros(()), x * scale)


def scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: Optional[torch.Tensor] = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: Optional[float] = None,
    enable_gqa: bool = False,
    *,
    generator: Generator,
    sample_offset: Optional[int] = None,
) -> torch.Tensor:
    """``torch.nn.functional.scaled_dot_product_attention`` whose attention-probability
    dropout is :func:`dropout` drawn from ``generator`` (mask over the ``(..., L, S)``
    weights in C order). With ``dropout_p == 0`` it is torch's function, fused kernels and
    all. With ``dropout_p > 0`` it runs the explicit math path: the ``(..., L, S)`` weights
    are materialised, and backward keeps the softmax output and the dropped-out weights
    (two tensors of ``batch * heads * L * S`` elements) where a fused kernel keeps
    ``O(batch * heads * L)``.

    With ``sample_offset`` (per-sample keys), dimension 0 of ``query`` indexes samples and
    the weights ``(N, ..., L, S)`` are dropped out by :func:`sample_dropout`: sample ``j``
    gets dropout-v1 of its own ``(..., L, S)`` weights from ``generator.child(sample_offset
    + j)``, whatever the batch size (docs/spec.md#attention-dropout-v1).
    """
    if sample_offset is not None and query.dim() < 3:
        raise ValueError(
            f"query: per-sample keys need a batch dimension, (N, ..., L, E); got an unbatched "
            f"query of shape {tuple(query.shape)}"
        )
    if dropout_p == 0.0:
        return torch.nn.functional.scaled_dot_product_attention(
            query, key, value, attn_mask, 0.0, is_causal, scale, enable_gqa=enable_gqa
        )
    if enable_gqa and key.dim() >= 3 and key.size(-3) != query.size(-3):
        groups = query.size(-3) // key.size(-3)
        key = key.repeat_interleave(groups, -3)
        value = value.repeat_interleave(groups, -3)
    factor = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * factor
    if is_causal:
        causal = torch.ones(query.size(-2), key.size(-2), dtype=torch.bool, device=query.device).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    weights = torch.softmax(scores, dim=-1)
    if sample_offset is None:
        weights = dropout(weights, dropout_p, generator=generator)
    else:
        weights = sample_dropout(weights, dropout_p, generator=generator, sample_offset=sample_offset)
    return weights @ value


# A sample box: (sample shape, element offset, box shape), or None for whole samples.
_Box = Optional[Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]]


def _sample_apply(stream: Stream, x: torch.Tensor, p: float, offset: int, box: _Box) -> torch.Tensor:
    """dropout-v1 of each sample ``x[j]`` with the stream ``child(offset + j)`` of `stream`
    (of the box of each sample given by `box`, of the whole sample's mask)."""
    if x.device.type == "meta":
        return torch.empty_like(x, memory_format=torch.contiguous_format)
    x = x.contiguous()
    if x.device.type == "cuda" and _cuda.has_kernels(stream):
        return _cuda.sample_dropout(stream, x, p, offset, box)  # one kernel, no host sync
    host_in = x if x.device.type == "cpu" else x.cpu()
    host_out = b.empty_cpu(tuple(x.shape), x.dtype)
    if x.numel():
        xi = b.numpy_view(host_in.detach(), "input")
        xo = b.numpy_view(host_out, "out")
        stream.fill_sample_dropout(xi, xo, p, x.shape[0], offset, str(x.dtype).replace("torch.", ""), box)
    return host_out if host_out.device == x.device else host_out.to(x.device)


class _SampleDropout(torch.autograd.Function):
    """Keeps the stream, offset and box; backward regenerates every sample's mask."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, p: float, stream: Stream, offset: int, box: _Box) -> torch.Tensor:
        ctx.p, ctx.stream, ctx.offset, ctx.box = p, stream, offset, box
        return _sample_apply(stream, x, p, offset, box)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        return _SampleDropout.apply(grad, ctx.p, ctx.stream, ctx.offset, ctx.box), None, None, None, None


def sample_dropout(
    x: torch.Tensor,
    p: float = 0.5,
    *,
    generator: Generator,
    sample_offset: int = 0,
    sample_shape: Optional[Tuple[int, ...]] = None,
    element_offset: Optional[Tuple[int, ...]] = None,
    training: bool = True,
) -> torch.Tensor:
    """Dropout whose mask does not depend on how a batch is split: sample ``x[j]`` (dimension
    0 indexes samples) is the sample with global index ``sample_offset + j`` and gets
    dropout-v1 of its own elements (C order) from ``generator.child(sample_offset + j)`` at
    position 0. So the mask of a sample depends on the generator's key (for example
    ``Generator(seed).child(module_name, step)``), the sample's global index and the element
    within the sample, never on the batch size, the data-parallel world size or
    gradient-accumulation splits, provided each process passes the global index of its
    first sample (docs/spec.md#sample-dropout-v1). ``generator``'s position is neither used
    nor moved. Backward regenerates the masks. On a GPU (a ``philox`` generator) one kernel
    applies every sample's mask, forward and backward: the samples' keys are derived on the
    host and copied to the device without the host waiting for the GPU.

    A sharded activation (tensor parallelism): with ``sample_shape`` (the shape of a whole
    sample) and ``element_offset``, ``x[j]`` is the box of the sample starting there
    (``x[j].shape`` long in each dimension) and gets that box of the whole sample's mask, so
    the processes together apply exactly the unsharded mask. Replicated activations need
    nothing: every process gets the same masks.
    """
    prob = _check(x, p, generator)
    off = v.index(sample_offset, "sample_offset", "an int")
    if off < 0:
        raise ValueError(f"sample_offset: expected an int >= 0, got {off}")
    if x.dim() == 0:
        raise ValueError("x: expected a tensor with a sample dimension (dimension 0), got a scalar")
    box = None
    if sample_shape is not None or element_offset is not None:
        if sample_shape is None or element_offset is None:
            raise ValueError("sample_shape: give sample_shape and element_offset together")
        shape = tuple(v.index(d, "sample_shape", "a tuple of ints") for d in sample_shape)
        where = tuple(v.index(d, "element_offset", "a tuple of ints") for d in element_offset)
        local = tuple(x.shape[1:])
        if len(shape) != len(local) or len(where) != len(local):
            raise ValueError(
                f"sample_shape: expected {len(local)} dimensions as x[j] (and element_offset), "
                f"got {len(shape)} and {len(where)}"
            )
        if any(o < 0 or o + n > d for o, n, d in zip(where, local, shape)):
            raise ValueError(f"element_offset: a box of {local} at {where} leaves the sample shape {shape}")
        box = (shape, where, local)
    if not training or prob == 0.0:
        return x
    return _SampleDropout.apply(x, prob, generator.stream, off, box)


def sample_channel_dropout(
    x: torch.Tensor, p: float = 0.5, *, generator: Generator, sample_offset: int = 0, training: bool = True
) -> torch.Tensor:
    """Channel-wise dropout (``Dropout1d/2d/3d``) whose masks do not depend on how a batch is
    split: ``x`` is ``(N, C, ...)`` and sample ``x[j]``, the sample with global index
    ``sample_offset + j``, gets :func:`channel_dropout` with ``mask_dims=1`` from
    ``generator.child(sample_offset + j)`` at position 0: its ``C`` channel entries are that
    stream's ``bernoulli(p, size=C)`` (docs/spec.md#sample-channel-dropout-v1).
    ``generator``'s position is neither used nor moved. All masks come from one call into
    the core; the boolean ``(N, C)`` mask is kept for backward.
    """
    prob = _check(x, p, generator)
    off = v.index(sample_offset, "sample_offset", "an int")
    if off < 0:
        raise ValueError(f"sample_offset: expected an int >= 0, got {off}")
    if x.dim() < 2:
        raise ValueError(f"x: expected (N, C, ...) with a sample dimension, got shape {tuple(x.shape)}")
    if not training or prob == 0.0:
        return x
    n, c = int(x.shape[0]), int(x.shape[1])
    if x.device.type == "meta":
        return torch.empty_like(x, memory_format=torch.contiguous_format)
    dropped = np.empty((n, c), dtype=np.bool_)
    if dropped.size:
        generator.stream.fill_sample_bernoulli(dropped, prob, n, off)
    mask = torch.from_numpy(dropped).reshape((n, c) + (1,) * (x.dim() - 2)).to(x.device)
    scale = 0.0 if prob >= 1.0 else 1.0 / (1.0 - prob)
    # As channel_dropout: the product in the tensor's compute type is dropout-v1's rule.
    return torch.where(mask, x.new_zeros(()), x * scale)
