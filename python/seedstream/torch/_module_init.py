"""``init_module``: deterministic, device-independent re-initialisation of any nn.Module."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch

from seedstream import Generator
from seedstream.torch import init as ss_init

_FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


class _Registry:
    """Finds the qualified name of the parameter or buffer a tensor (or a view of it) lives in."""

    def __init__(self, module: torch.nn.Module, root: Generator) -> None:
        self.root = root
        self.streams: Dict[Tuple[Union[str, int], ...], Generator] = {}
        self.by_storage: Dict[int, List[Tuple[int, int, str]]] = {}
        seen = set()
        named = list(module.named_parameters()) + [
            (n, t) for n, t in module.named_buffers() if t is not None and t.dtype in _FLOATS
        ]
        for name, t in named:
            if t.device.type == "meta" or id(t) in seen:
                continue
            seen.add(id(t))
            ptr = t.untyped_storage().data_ptr()
            start = t.storage_offset() * t.element_size()
            self.by_storage.setdefault(ptr, []).append((start, start + t.numel() * t.element_size(), name))

    def stream(self, t: torch.Tensor) -> Optional[Generator]:
        """The generator for `t`: its tensor's stream, continued across calls; None when `t`
        is not part of a parameter or floating buffer (e.g. a temporary)."""
        if t.device.type == "meta":
            return None
        ranges = self.by_storage.get(t.untyped_storage().data_ptr())
        if not ranges:
            return None
        start = t.storage_offset() * t.element_size()
        for lo, hi, name in ranges:
            if lo <= start < hi:
                whole = start == lo and t.numel() * t.element_size() == hi - lo
                # A part of a tensor (a slice initialised on its own) gets the child named
                # by its byte offset, so two parts never share a stream.
                path: Tuple[Union[str, int], ...] = (name,) if whole else (name, start - lo)
                if path not in self.streams:
                    self.streams[path] = self.root.child(*path)
                return self.streams[path]
        return None


@contextlib.contextmanager
def _routed(registry: _Registry) -> Iterator[None]:
    """Routes Tensor.uniform_/normal_ and nn.init.trunc_normal_ on registered tensors to
    their streams; keeps torch's global RNG state as it was."""
    orig_uniform, orig_normal = torch.Tensor.uniform_, torch.Tensor.normal_
    orig_trunc = torch.nn.init.trunc_normal_

    def uniform_(self: torch.Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> torch.Tensor:
        g = registry.stream(self)
        if g is None:
            return orig_uniform(self, a, b, generator=generator)
        return _contiguous_fill(self, lambda t: ss_init.uniform_(t, a, b, generator=g))

    def normal_(self: torch.Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> torch.Tensor:
        g = registry.stream(self)
        if g is None:
            return orig_normal(self, mean, std, generator=generator)
        return _contiguous_fill(self, lambda t: ss_init.normal_(t, mean, std, generator=g))

    def trunc_normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                      b: float = 2.0, generator: Any = None) -> torch.Tensor:
        g = registry.stream(tensor)
        if g is None:
            return orig_trunc(tensor, mean, std, a, b, generator=generator)
        return _contiguous_fill(tensor, lambda t: ss_init.trunc_normal_(t, mean, std, a, b, generator=g))

    devices = [torch.device("cuda", i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.Tensor.uniform_ = uniform_  # type: ignore[method-assign]
        torch.Tensor.normal_ = normal_  # type: ignore[method-assign]
        torch.nn.init.trunc_normal_ = trunc_normal_
        try:
            yield
        finally:
            torch.Tensor.uniform_ = orig_uniform  # type: ignore[method-assign]
            torch.Tensor.normal_ = orig_normal  # type: ignore[method-assign]
            torch.nn.init.trunc_normal_ = orig_trunc


def _contiguous_fill(t: torch.Tensor, fill: Callable[[torch.Tensor], Any]) -> torch.Tensor:
    """Fills `t`; a non-contiguous view gets the values of its C-order elements."""
    with torch.no_grad():
        if t.is_contiguous():
            fill(t)
        else:
            tmp = torch.empty(t.shape, dtype=t.dtype, device=t.device)
            fill(tmp)
            t.copy_(tmp)
    return t


def init_module(
    module: torch.nn.Module,
    seed: Union[int, str, Generator],
    *,
    init_fn: Optional[Callable[[torch.nn.Module], Any]] = None,
) -> torch.nn.Module:
    """Re-initialises ``module`` deterministically and returns it.

    Each submodule's own init logic runs — ``init_fn(submodule)`` when given (for example a
    Hugging Face model's ``_init_weights``), else its ``reset_parameters()`` (or
    ``_reset_parameters()``) — with ``torch.nn.init`` and ``Tensor.uniform_``/``normal_``
    routed so that the tensor named ``q`` (its qualified name in ``named_parameters`` /
    ``named_buffers``) draws from ``Generator(seed).child(q)``. Hence:

    - the weights are identical on CPU float32, bfloat16 (the float32 values rounded), any
      thread count, and for a model built on the ``meta`` device and materialised with
      ``to_empty``;
    - adding a layer leaves every other layer's weights unchanged;
    - torch's global RNG state is left as it was.

    Draws through other functions (``Tensor.random_``, ``bernoulli_``, ``orthogonal_``'s
    QR) are not routed: they use torch's generator, whose state is restored afterwards, and
    are not device-independent. Code that imported ``trunc_normal_`` by name before the call
    also bypasses the routing. Do not run other torch code in other threads meanwhile.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if init_fn is not None and not callable(init_fn):
        raise TypeError("init_fn: expected a callable taking a module")
    root = seed if isinstance(seed, Generator) else Generator(seed)
    registry = _Registry(module, root)
    with _routed(registry), torch.no_grad():
        for sub in module.modules():
            if init_fn is not None:
                init_fn(sub)
            elif callable(getattr(sub, "reset_parameters", None)):
                sub.reset_parameters()
            elif callable(getattr(sub, "_reset_parameters", None)):
                sub._reset_parameters()
    return module
