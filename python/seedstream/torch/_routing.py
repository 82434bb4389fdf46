"""``routed``: every random draw on a model's tensors comes from that tensor's named stream.

A ``TorchFunctionMode`` sees each torch call made in the block. Draws whose target is (part
of) a parameter or buffer of the model are replaced by seedstream draws from
``Generator(seed).child(name)``; any other draw raises. The mode also records which tensors
were overwritten, so that ``materialize`` can tell which ones still hold uninitialised memory.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple, Union

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from seedstream import Generator
from seedstream.torch import _buffers as buffers
from seedstream.torch import _distributed as dist
from seedstream.torch import init as ss_init

_MANTISSA_DIGITS = {torch.float32: 24, torch.float64: 53, torch.float16: 11, torch.bfloat16: 8}

Path = Tuple[Union[str, int], ...]

# Constructors whose result is a fresh tensor made from a source tensor: a draw on the result
# comes from the source's stream (torch initialises a channels_last Conv weight through such a
# copy; orthogonal_ draws into one).
_DERIVED = {
    torch.empty_like, torch.zeros_like, torch.ones_like, torch.full_like,
    torch.Tensor.new_empty, torch.Tensor.new_zeros, torch.Tensor.new_ones, torch.Tensor.new_full,
}
_TENSOR_DRAWS = {torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.bernoulli_, torch.Tensor.random_}
# In-place ops whose result does not depend on the previous contents of the tensor.
_OVERWRITES = {
    torch.Tensor.fill_, torch.Tensor.zero_, torch.Tensor.copy_,
    torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.bernoulli_, torch.Tensor.random_,
}
# Draws with no seedstream mapping (or no tensor to name the stream): they raise.
_UNROUTED = {
    torch.Tensor.exponential_, torch.Tensor.cauchy_, torch.Tensor.log_normal_,
    torch.Tensor.geometric_, torch.Tensor.bernoulli, torch.Tensor.multinomial,
    torch.normal, torch.bernoulli, torch.multinomial, torch.poisson, torch.binomial,
    torch.randint, torch.randint_like, torch.rrelu, torch.rrelu_, torch.dropout,
    torch.feature_dropout, torch.alpha_dropout, torch.feature_alpha_dropout, torch.native_dropout,
    torch.nn.functional.dropout, torch.nn.functional.dropout1d, torch.nn.functional.dropout2d,
    torch.nn.functional.dropout3d, torch.nn.functional.alpha_dropout,
    torch.nn.functional.feature_alpha_dropout, torch.nn.functional.rrelu,
    torch.nn.functional.gumbel_softmax,
}

_DATA = torch._C.TensorBase.__dict__["data"]  # `p.data = x` reaches the mode as its __set__

ROUTED_DRAWS = (
    "Tensor.uniform_, Tensor.normal_, Tensor.bernoulli_, Tensor.random_, "
    "torch.nn.init.* (trunc_normal_ as seedstream's truncated_normal, sparse_ with "
    "seedstream's normal and permutation draws), "
    "torch.rand_like/randn_like of a parameter"
)


def _name(func: Any) -> str:
    owner = getattr(func, "__objclass__", None)
    if owner is torch.Tensor or getattr(func, "__qualname__", "").startswith("TensorBase."):
        return "Tensor." + func.__name__
    mod = getattr(func, "__module__", None) or "torch"
    return f"{mod}.{getattr(func, '__name__', func)}".replace("torch._C._VariableFunctions", "torch")


class _Entry:
    """A registered tensor: its name and byte range in its storage."""

    __slots__ = ("name", "lo", "hi", "tensor")

    def __init__(self, name: str, lo: int, hi: int, tensor: torch.Tensor) -> None:
        self.name, self.lo, self.hi, self.tensor = name, lo, hi, tensor


def _span(t: torch.Tensor) -> Tuple[int, int, int]:
    t = dist.local(t)  # a DTensor is found by its local shard
    start = int(t.storage_offset()) * t.element_size()
    return t.untyped_storage().data_ptr(), start, start + int(t.numel()) * t.element_size()


class Router(TorchFunctionMode):
    """The mode behind ``routed``, ``init_module`` and ``materialize``.

    Tensors are found by storage and byte range, so ``p.data``, ``p.detach()`` and views of
    ``p`` all route to ``p``. Registered tensors (and the derived temporaries) are held until
    the block ends, so no freed storage can be mistaken for a parameter.
    """

    def __init__(self, module: torch.nn.Module, root: Generator) -> None:
        super().__init__()
        self.root = root
        self.streams: Dict[Path, Generator] = {}
        self.by_storage: Dict[int, List[_Entry]] = {}
        self.names_by_id: Dict[int, str] = {}
        self.derived: Dict[int, Tuple[str, torch.Tensor]] = {}
        self.written: Dict[str, List[Tuple[int, int]]] = {}
        self.full: Set[str] = set()
        self.scope: Optional[Tuple[str, torch.nn.Module]] = None
        self.unrouted: List[str] = []  # draws allowed to proceed in a scope, reported after it
        self.quiet = 0
        for name, t in _named_tensors(module):
            self.register(name, t)

    # -- registry -------------------------------------------------------------------------
    def register(self, name: str, t: torch.Tensor) -> None:
        if id(t) in self.names_by_id or t.numel() == 0:
            return
        ptr, lo, hi = _span(t)
        self.names_by_id[id(t)] = name
        self.by_storage.setdefault(ptr, []).append(_Entry(name, lo, hi, t))

    def _lookup(self, t: torch.Tensor) -> Optional[Tuple[_Entry, int]]:
        ptr, start, _ = _span(t)
        for e in self.by_storage.get(ptr, ()):
            if e.lo <= start < e.hi:
                return e, start
        return None

    def find(self, t: torch.Tensor) -> Optional[Tuple[_Entry, int]]:
        """The registered tensor `t` is part of, and `t`'s first byte in storage."""
        t = dist.local(t)
        if t.device.type == "meta" or t.numel() == 0:
            return None
        hit = self._lookup(t)
        if hit is None and self.scope is not None:
            # The module being initialised may have replaced a parameter or buffer.
            prefix, sub = self.scope
            for local, v in list(sub._parameters.items()) + list(sub._buffers.items()):
                if v is not None:
                    self.register(prefix + local, v)
            hit = self._lookup(t)
        return hit

    def stream_of(self, t: torch.Tensor) -> Optional[Generator]:
        """`t`'s stream: ``child(name)`` for a whole tensor, ``child(name, byte_offset)`` for
        a part; the same Generator object across calls, so positions continue. A DTensor
        is named as the whole tensor (its local shard draws its own part of that stream)."""
        t = dist.local(t)
        hit = self.find(t)
        if hit is None:
            d = self.derived.get(_span(t)[0]) if t.numel() else None
            if d is None:
                return None
            path: Path = (d[0],)
        else:
            e, start = hit
            whole = start == e.lo and t.numel() * t.element_size() == e.hi - e.lo
            path = (e.name,) if whole else (e.name, start - e.lo)
        if path not in self.streams:
            self.streams[path] = self.root.child(*path)
        return self.streams[path]

    def mark_written(self, t: torch.Tensor) -> None:
        t = dist.local(t)
        hit = self.find(t) if t.device.type != "meta" and t.numel() else None
        if hit is None:
            return
        e, start = hit
        size = t.numel() * t.element_size()
        if start == e.lo and size == e.hi - e.lo:
            self.full.add(e.name)
        elif t.is_contiguous():
            spans = self.written.setdefault(e.name, [])
            spans.append((start - e.lo, start - e.lo + size))
            spans.sort()
            covered = 0
            for lo, hi in spans:
                if lo > covered:
                    break
                covered = max(covered, hi)
            if covered >= e.hi - e.lo:
                self.full.add(e.name)

    # -- the mode ------------------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if self.quiet:
            return func(*args, **kwargs)
        handler = _HANDLERS.get(func)
        if func in _TENSOR_DRAWS and args[0].requires_grad and torch.is_grad_enabled():
            # As torch: autograd cannot record an in-place fill of a tensor that requires grad.
            raise ValueError(
                f"tensor: {_name(func)} in place on a tensor that requires grad; run it under "
                "torch.no_grad() or on tensor.data (torch.nn.init does so)"
            )
        if handler is not None:
            t = _arg(args, kwargs, 0, "tensor", None)
            if handler not in (_creation, _new_draw) and isinstance(t, torch.Tensor) and t.numel() == 0:
                return func(*args, **kwargs)  # nothing to draw (torch's no-op, and its warnings)
            return handler(self, func, args, kwargs)
        if func in _UNROUTED:
            return self.unroutable(func, args, kwargs, None)
        if func is torch.Tensor.__setitem__:
            with torch.no_grad():
                region = args[0][args[1]]
            out = func(*args, **kwargs)
            if isinstance(region, torch.Tensor):
                self.mark_written(region)
            return out
        if func is torch.Tensor.set_ or (
            getattr(func, "__self__", None) is _DATA and func.__name__ == "__set__"
        ):
            out = func(*args, **kwargs)
            self.rebind(args[0])
            return out
        out = func(*args, **kwargs)
        if func in _OVERWRITES:
            self.mark_written(args[0])
        elif func in _DERIVED and isinstance(out, torch.Tensor) and out.numel():
            src = self.find(args[0]) if isinstance(args[0], torch.Tensor) else None
            if src is not None:
                self.derived[_span(out)[0]] = (src[0].name, out)
        return out

    def rebind(self, t: torch.Tensor) -> None:
        """`t`'s storage was replaced (``p.data = x``, ``p.set_(x)``): a full overwrite."""
        name = self.names_by_id.pop(id(t), None)
        if name is None:
            return
        for entries in self.by_storage.values():
            entries[:] = [e for e in entries if e.tensor is not t]
        self.register(name, t)
        self.full.add(name)

    def unroutable(self, func: Any, args: Any, kwargs: Any, target: Optional[torch.Tensor]) -> Any:
        what = _name(func)
        where = f" in the init of module {self.scope[0].rstrip('.')!r}" if self.scope and self.scope[0] else ""
        if target is not None and func not in _UNROUTED:
            problem = "draws on a tensor that is not (part of) a parameter or buffer of the model"
        elif target is None and func not in _UNROUTED:
            problem = "draws a new tensor that no parameter or buffer names"
        else:
            problem = "has no seedstream mapping"
        msg = (
            f"tensor: {what}{where} {problem}, so it cannot come from a named stream "
            f"(routed: {ROUTED_DRAWS})"
        )
        if self.scope is not None and func not in _UNROUTED and target is None:
            # Let it run: the tensor it makes may become a parameter, named in the error
            # raised at the end of this module's init (torch's RNG state is restored).
            self.unrouted.append(what)
            return func(*args, **kwargs)
        raise ValueError(msg)

    # -- draws --------------------------------------------------------------------------
    def target_stream(self, func: Any, args: Any, kwargs: Any, t: torch.Tensor) -> Generator:
        g = self.stream_of(t)
        if g is None:
            self.unroutable(func, args, kwargs, t)  # raises: `t` exists and is not registered
            raise AssertionError("unreachable")
        return g


def _named_tensors(module: torch.nn.Module) -> List[Tuple[str, torch.Tensor]]:
    out: List[Tuple[str, torch.Tensor]] = list(module.named_parameters())
    out += [(n, b) for n, b in module.named_buffers() if b is not None]
    return out


def _fill(t: torch.Tensor, fill: Callable[[torch.Tensor], Any]) -> torch.Tensor:
    """Fills `t`; a non-contiguous tensor gets the values of its C-order elements."""
    with torch.no_grad():
        if t.is_contiguous():
            fill(t)
        else:
            tmp = torch.empty(t.shape, dtype=t.dtype, device=t.device)
            fill(tmp)
            t.copy_(tmp)
    return t


def _fill_values(t: torch.Tensor, values: np.ndarray) -> None:
    with torch.no_grad():
        t.copy_(torch.from_numpy(values).reshape(t.shape))


def _arg(args: Any, kwargs: Any, i: int, key: str, default: Any) -> Any:
    return args[i] if len(args) > i else kwargs.get(key, default)


def _fill_dtensor(r: Router, func: Any, args: Any, kwargs: Any, t: Any, method: str, margs: Any,
                  mkwargs: Any = None, draw_dtype: Any = None) -> Any:
    """A draw on a DTensor: its local shard gets its part of the whole tensor's draw."""
    if dist.local(t).numel():  # an uneven split can leave a process nothing
        hit = r.find(t)
        if hit is not None and (hit[1] != hit[0].lo or _span(t)[2] != hit[0].hi):
            raise ValueError(
                f"tensor: {_name(func)} on a part of the DTensor {hit[0].name!r}: draws on a "
                "sharded tensor must cover all of it (its local shard gets its part)"
            )
        g = r.target_stream(func, args, kwargs, t)
        dist.fill(t, g, method, margs, mkwargs, draw_dtype)
        r.mark_written(t)
    return t


def _uniform(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    t = _arg(args, kwargs, 0, "tensor", None)
    a = _arg(args, kwargs, 1, "from" if func is torch.Tensor.uniform_ else "a", 0.0)
    b = _arg(args, kwargs, 2, "to" if func is torch.Tensor.uniform_ else "b", 1.0)
    if dist.is_dtensor(t):
        return _fill_dtensor(r, func, args, kwargs, t, "uniform", (float(a), float(b)))
    g = r.target_stream(func, args, kwargs, t)
    _fill(t, lambda x: ss_init.uniform_(x, float(a), float(b), generator=g))
    r.mark_written(t)
    return t


def _normal(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    t = _arg(args, kwargs, 0, "tensor", None)
    mean, std = _arg(args, kwargs, 1, "mean", 0.0), _arg(args, kwargs, 2, "std", 1.0)
    if dist.is_dtensor(t):
        return _fill_dtensor(r, func, args, kwargs, t, "normal", (float(mean), float(std)))
    g = r.target_stream(func, args, kwargs, t)
    _fill(t, lambda x: ss_init.normal_(x, float(mean), float(std), generator=g))
    r.mark_written(t)
    return t


def _trunc_normal(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    t = _arg(args, kwargs, 0, "tensor", None)
    mean, std = _arg(args, kwargs, 1, "mean", 0.0), _arg(args, kwargs, 2, "std", 1.0)
    a, b = _arg(args, kwargs, 3, "a", -2.0), _arg(args, kwargs, 4, "b", 2.0)
    if dist.is_dtensor(t):
        margs = (float(mean), float(std), float(a), float(b))
        return _fill_dtensor(r, func, args, kwargs, t, "truncated_normal", margs)
    g = r.target_stream(func, args, kwargs, t)
    _fill(t, lambda x: ss_init.trunc_normal_(x, float(mean), float(std), float(a), float(b), generator=g))
    r.mark_written(t)
    return t


def _sparse(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    # torch's algorithm with both of its draws (the normal fill and one permutation per
    # column) from the tensor's stream: seedstream.torch.init.sparse_.
    t = _arg(args, kwargs, 0, "tensor", None)
    sparsity, std = _arg(args, kwargs, 1, "sparsity", None), _arg(args, kwargs, 2, "std", 0.01)
    if dist.is_dtensor(t):
        return r.unroutable(func, args, kwargs, t)
    g = r.target_stream(func, args, kwargs, t)
    with torch.no_grad():
        ss_init.sparse_(t, sparsity, float(std), generator=g)
    r.mark_written(t)
    return t


def _kaiming(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    # torch's own formulas (the same as seedstream.torch.init), then a routed draw.
    t = _arg(args, kwargs, 0, "tensor", None)
    if 0 in t.shape:
        return func(*args, **kwargs)
    a = _arg(args, kwargs, 1, "a", 0)
    mode = _arg(args, kwargs, 2, "mode", "fan_in")
    nonlinearity = _arg(args, kwargs, 3, "nonlinearity", "leaky_relu")
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(torch.nn.init._calculate_correct_fan(t, mode))
    if func is torch.nn.init.kaiming_normal_:
        return _normal(r, torch.Tensor.normal_, (t, 0.0, std), {})
    bound = math.sqrt(3.0) * std
    return _uniform(r, torch.Tensor.uniform_, (t, -bound, bound), {})


def _xavier(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    t = _arg(args, kwargs, 0, "tensor", None)
    gain = _arg(args, kwargs, 1, "gain", 1.0)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    if func is torch.nn.init.xavier_normal_:
        return _normal(r, torch.Tensor.normal_, (t, 0.0, std), {})
    bound = math.sqrt(3.0) * std
    return _uniform(r, torch.Tensor.uniform_, (t, -bound, bound), {})


def _deterministic_init(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    out = func(*args, **kwargs)
    r.mark_written(_arg(args, kwargs, 0, "tensor", None))
    return out


def _bernoulli(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    t = _arg(args, kwargs, 0, "tensor", None)
    p = _arg(args, kwargs, 1, "p", 0.5)
    if dist.is_dtensor(t):
        if isinstance(p, torch.Tensor):
            raise ValueError("p: a tensor of probabilities on a DTensor has no seedstream mapping; pass a float")
        return _fill_dtensor(r, func, args, kwargs, t, "bernoulli", (float(p),), draw_dtype=np.bool_)
    g = r.target_stream(func, args, kwargs, t)
    if isinstance(p, torch.Tensor):
        probs = p.detach().to("cpu", torch.float64).expand(t.shape).contiguous().numpy()
        mask = g.bernoulli(probs).reshape(-1)
    else:
        mask = g.bernoulli(float(p), size=t.numel())
    _fill_values(t, mask)
    r.mark_written(t)
    return t


def _random(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    t = _arg(args, kwargs, 0, "tensor", None)
    rest = list(args[1:])
    # torch's overloads: random_(), random_(to), random_(from, to), with keywords from=, to=
    if len(rest) >= 2:
        low, high = rest[0], rest[1]
    elif len(rest) == 1:
        low, high = (rest[0], kwargs["to"]) if "to" in kwargs else (0, rest[0])
    else:
        low, high = kwargs.get("from", 0), kwargs.get("to", None)
    low = 0 if low is None else int(low)
    if high is None:  # torch's default upper bounds, inclusive
        if t.dtype in _MANTISSA_DIGITS:
            top = 2 ** _MANTISSA_DIGITS[t.dtype]
        elif t.dtype == torch.bool:
            top = 1
        else:
            top = int(torch.iinfo(t.dtype).max)
        bounds, endpoint = (low, top), True
    else:
        bounds, endpoint = (low, int(high)), False
    if dist.is_dtensor(t):
        return _fill_dtensor(r, func, args, kwargs, t, "integers", bounds, {"endpoint": endpoint}, np.int64)
    g = r.target_stream(func, args, kwargs, t)
    values = g.integers(*bounds, size=t.numel(), endpoint=endpoint)
    _fill_values(t, values)
    r.mark_written(t)
    return t


def _creation(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    """rand_like / randn_like of a registered tensor: made by torch (shape, dtype, device,
    layout as torch decides), then refilled from the source's stream."""
    src = _arg(args, kwargs, 0, "input", None)
    src = src if isinstance(src, torch.Tensor) else None
    if src is not None and dist.is_dtensor(src):
        # Made without torch's draw: DTensor's own random ops synchronise their RNG across ranks.
        out = torch.empty_like(*args, **kwargs)
        if not dist.local(src).numel():
            return out
    g = r.stream_of(src) if src is not None else None
    if g is None:
        return r.unroutable(func, args, kwargs, None)
    if not dist.is_dtensor(src):
        out = func(*args, **kwargs)
    if dist.is_dtensor(out):
        method, margs = ("uniform", (0.0, 1.0)) if func is torch.rand_like else ("standard_normal", ())
        dist.fill(out, g, method, margs)
    elif func is torch.rand_like:
        _fill(out, lambda x: ss_init.uniform_(x, 0.0, 1.0, generator=g))
    else:
        _fill(out, lambda x: buffers.fill(x, lambda a: g.standard_normal(dtype=a.dtype, out=a)))
    return out


def _new_draw(r: Router, func: Any, args: Any, kwargs: Any) -> Any:
    return r.unroutable(func, args, kwargs, None)


_HANDLERS: Dict[Any, Callable[[Router, Any, Any, Any], Any]] = {
    torch.Tensor.uniform_: _uniform,
    torch.Tensor.normal_: _normal,
    torch.Tensor.bernoulli_: _bernoulli,
    torch.Tensor.random_: _random,
    torch.nn.init.uniform_: _uniform,
    torch.nn.init.normal_: _normal,
    torch.nn.init.trunc_normal_: _trunc_normal,
    torch.nn.init.sparse_: _sparse,
    torch.nn.init.kaiming_uniform_: _kaiming,
    torch.nn.init.kaiming_normal_: _kaiming,
    torch.nn.init.xavier_uniform_: _xavier,
    torch.nn.init.xavier_normal_: _xavier,
    torch.nn.init.constant_: _deterministic_init,
    torch.nn.init.ones_: _deterministic_init,
    torch.nn.init.zeros_: _deterministic_init,
    torch.nn.init.eye_: _deterministic_init,
    torch.nn.init.dirac_: _deterministic_init,
    torch.rand_like: _creation,
    torch.randn_like: _creation,
    torch.rand: _new_draw,
    torch.randn: _new_draw,
    torch.randperm: _new_draw,
}

# torch.nn.init.trunc_normal_ does not dispatch to modes (its body draws a uniform and maps it
# through erfinv): while a block is routed, the module attribute points to this wrapper.
_ORIGINAL_TRUNC = torch.nn.init.trunc_normal_


def _trunc_normal_entry(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                        b: float = 2.0, generator: Any = None) -> torch.Tensor:
    active = torch.overrides._get_current_function_mode_stack()  # type: ignore[attr-defined]
    router = next((m for m in reversed(active) if isinstance(m, Router)), None)
    if router is None:
        return _ORIGINAL_TRUNC(tensor, mean, std, a, b, generator=generator)
    with torch.overrides._pop_mode_temporarily():  # type: ignore[attr-defined]
        return _trunc_normal(router, _ORIGINAL_TRUNC, (tensor, mean, std, a, b), {})


_ORIGINAL_SPARSE = torch.nn.init.sparse_


def _sparse_entry(tensor: torch.Tensor, sparsity: float, std: float = 0.01, generator: Any = None) -> torch.Tensor:
    # sparse_ does not dispatch to modes either (its permutations come from torch.randperm).
    active = torch.overrides._get_current_function_mode_stack()  # type: ignore[attr-defined]
    router = next((m for m in reversed(active) if isinstance(m, Router)), None)
    if router is None:
        return _ORIGINAL_SPARSE(tensor, sparsity, std, generator=generator)
    with torch.overrides._pop_mode_temporarily():  # type: ignore[attr-defined]
        return _sparse(router, _ORIGINAL_SPARSE, (tensor, sparsity, std), {})


_SWAPPED = (("trunc_normal_", _ORIGINAL_TRUNC, _trunc_normal_entry), ("sparse_", _ORIGINAL_SPARSE, _sparse_entry))


def check_not_meta(module: torch.nn.Module) -> None:
    for name, t in _named_tensors(module):
        if isinstance(t, torch.nn.parameter.UninitializedTensorMixin):
            raise ValueError(
                f"module: {name!r} is an uninitialised parameter of a lazy module (its shape is "
                "not known yet); run a forward pass first, so that its init can be routed"
            )
        if t.device.type == "meta":
            raise ValueError(
                f"module: {name!r} is on the meta device and holds no memory to initialise; "
                "materialise it with seedstream.torch.materialize(module, device, seed=...) "
                "(or module.to_empty(device=...) first)"
            )


@contextlib.contextmanager
def routing(module: torch.nn.Module, root: Generator) -> Iterator[Router]:
    """Enters a Router for `module`; torch's global RNG state is left as it was."""
    check_not_meta(module)
    router = Router(module, root)
    devices = [torch.device("cuda", i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        swapped = [(name, orig) for name, orig, entry in _SWAPPED if getattr(torch.nn.init, name) is orig]
        for name, orig, entry in _SWAPPED:
            if (name, orig) in swapped:
                setattr(torch.nn.init, name, entry)
        try:
            with router:
                yield router
        finally:
            for name, orig in swapped:
                setattr(torch.nn.init, name, orig)


def _root(seed: Union[int, str, Generator]) -> Generator:
    return seed if isinstance(seed, Generator) else Generator(seed)


@contextlib.contextmanager
def routed(module: torch.nn.Module, seed: Union[int, str, Generator]) -> Iterator[None]:
    """Runs the block with every random draw on ``module``'s tensors taken from named streams.

    Inside the block, a draw on the parameter or buffer with qualified name ``q`` (as in
    ``named_parameters()`` / ``named_buffers()``; a tied tensor is named by its first name),
    or on any view of it (``p.data``, ``p[0]``, ``p.T``), comes from
    ``Generator(seed).child(q)`` (a part of it: ``child(q, byte_offset)``), and a second draw
    on the same tensor continues that stream. So the final values depend only on the seed,
    the names and the draws made on each tensor — not on the order in which tensors are
    initialised, the device, the dtype, or other parameters. Any code may run in the block,
    for example ``model.apply(model._init_weights)`` followed by a loop over
    ``named_parameters()``.

    Routed (docs/spec.md#init-module-v1): ``Tensor.uniform_``, ``normal_``, ``bernoulli_``,
    ``random_``; ``torch.nn.init``'s ``uniform_``, ``normal_``, ``trunc_normal_`` (as
    seedstream's ``truncated_normal``, not torch's erfinv formula), ``kaiming_*``,
    ``xavier_*`` (torch's fan and gain formulas) and ``orthogonal_`` (its normal draw; the QR
    is torch's); ``torch.rand_like``/``randn_like`` of a parameter; and draws on a tensor
    made from a parameter by ``empty_like``/``zeros_like``/``new_empty``/... (torch
    initialises a channels_last Conv weight through one). Every other draw raises
    ``ValueError``: draws on tensors that are not part of ``module`` (``torch.randn(...)``,
    a forward pass with dropout), and draws with no seedstream mapping (``exponential_``,
    ...). A ``generator=`` argument of a routed draw is ignored.

    torch's global RNG state is left as it was. The routing is per thread; the module
    attributes ``torch.nn.init.trunc_normal_`` and ``sparse_`` are swapped for the block.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    with routing(module, _root(seed)):
        yield
