"""``init_module`` and ``materialize``: deterministic, device-independent initialisation of
any nn.Module, also one built on the ``meta`` device."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple, Union

import torch
from torch.nn.utils import parametrize
from torch.nn.utils.weight_norm import WeightNorm

from seedstream import Generator
from seedstream.torch import _distributed as dist
from seedstream.torch._routing import Router, _named_tensors, _root, routing


@contextlib.contextmanager
def _scope(router: Router, prefix: str, sub: torch.nn.Module) -> Iterator[None]:
    """The init of one submodule: parametrized tensors are initialised as plain ones (named by
    their own name) and their originals set by the parametrizations' ``right_inverse``, as
    when the parametrization was registered; draws that make new tensors are reported with the
    parameters they replaced."""
    before = {k: id(v) for k, v in list(sub._parameters.items()) + list(sub._buffers.items())}
    reported = len(router.unrouted)
    swapped = _unparametrize(router, prefix, sub) if parametrize.is_parametrized(sub) else None
    norms = [h for h in sub._forward_pre_hooks.values() if isinstance(h, WeightNorm)]
    for h in norms:
        # The deprecated hook form keeps the weight as a plain attribute, recomputed from
        # name_g and name_v before each forward: draws on it are drawn under its own name.
        setattr(sub, h.name, h.compute_weight(sub).detach().clone())
        router.register(prefix + h.name, getattr(sub, h.name))
    router.scope = (prefix, sub)
    try:
        yield
    finally:
        router.scope = None
        if swapped is not None:
            _reparametrize(router, prefix, sub, *swapped)
        for h in norms:
            _renormalize(router, prefix, sub, h)
    if len(router.unrouted) > reported:
        after = list(sub._parameters.items()) + list(sub._buffers.items())
        replaced = [prefix + k for k, v in after if v is not None and before.get(k) != id(v)]
        what = ", ".join(sorted(set(router.unrouted[reported:])))
        target = (
            f"cannot route the init of {', '.join(map(repr, replaced))}: it is replaced by a tensor drawn"
            if replaced
            else f"the init of module {prefix.rstrip('.')!r} draws a tensor that is not a parameter or buffer"
        )
        raise ValueError(
            f"module: {target} with {what}, which no named stream can give; initialise the "
            "existing parameter in place (torch.nn.init.*, Tensor.uniform_/normal_) instead"
        )


def _unparametrize(
    router: Router, prefix: str, sub: torch.nn.Module
) -> Tuple[type, Dict[str, torch.nn.Parameter]]:
    cls = sub.__class__
    temps: Dict[str, torch.nn.Parameter] = {}
    for pname in list(sub.parametrizations.keys()):  # type: ignore[union-attr, operator]
        value = getattr(sub, pname).detach().clone()
        temps[pname] = torch.nn.Parameter(value)
    sub.__class__ = parametrize.type_before_parametrizations(sub)
    for pname, t in temps.items():
        sub._parameters[pname] = t
        router.register(prefix + pname, t)
    return cls, temps


def _reparametrize(
    router: Router, prefix: str, sub: torch.nn.Module, cls: type, temps: Dict[str, torch.nn.Parameter]
) -> None:
    for pname in temps:
        del sub._parameters[pname]
    sub.__class__ = cls
    router.quiet += 1
    try:
        for pname, t in temps.items():
            plist: Any = sub.parametrizations[pname]  # type: ignore[index]
            value: Any = t.detach()
            with torch.no_grad():
                # As ParametrizationList.__init__ does when the parametrization is registered.
                for p in reversed(plist):  # type: ignore[call-overload]
                    if hasattr(p, "right_inverse"):
                        try:
                            value = p.right_inverse(value)
                        except NotImplementedError:
                            pass
                if plist.is_tensor:
                    originals, values = [plist.original], [value]
                else:
                    values = list(value)
                    originals = [getattr(plist, f"original{i}") for i in range(len(values))]
                for o, v in zip(originals, values):
                    o.copy_(v)
            if prefix + pname in router.full:
                for o in originals:
                    name = router.names_by_id.get(id(o))
                    if name is not None:
                        router.full.add(name)
    finally:
        router.quiet -= 1


def _renormalize(router: Router, prefix: str, sub: torch.nn.Module, h: WeightNorm) -> None:
    """name_g and name_v from the weight, as ``torch.nn.utils.weight_norm`` sets them."""
    w = getattr(sub, h.name)
    g, v = getattr(sub, h.name + "_g"), getattr(sub, h.name + "_v")
    router.quiet += 1
    try:
        with torch.no_grad():
            g.copy_(torch.norm_except_dim(w, 2, h.dim))
            v.copy_(w)
            setattr(sub, h.name, h.compute_weight(sub))
    finally:
        router.quiet -= 1
    if prefix + h.name in router.full:
        router.full.update({prefix + h.name + "_g", prefix + h.name + "_v"})


def _reset_counters(sub: torch.nn.Module) -> None:
    """seedstream's own modules keep integer counters (Dropout's ``step``) in buffers: they
    start at 0, as after construction."""
    if type(sub).__module__.startswith("seedstream."):
        for b in sub._buffers.values():
            if b is not None and not b.is_floating_point():
                b.zero_()


def _children_first(module: torch.nn.Module) -> List[Tuple[str, torch.nn.Module]]:
    """Submodules with their name prefixes, each after its children, as ``Module.apply``
    visits them and as construction initialises them (a parent's init, e.g.
    MultiheadAttention zeroing ``out_proj.bias``, comes after its children's); a module
    reachable at several places is visited once, at the first."""
    out: List[Tuple[str, torch.nn.Module]] = []
    seen: Set[int] = set()

    def walk(m: torch.nn.Module, prefix: str) -> None:
        seen.add(id(m))
        for name, child in m._modules.items():
            if child is not None and id(child) not in seen:
                walk(child, prefix + name + ".")
        out.append((prefix, m))

    walk(module, "")
    return out


def _run_inits(router: Router, module: torch.nn.Module, init_fn: Optional[Callable[[torch.nn.Module], Any]]) -> None:
    for prefix, sub in _children_first(module):
        with _scope(router, prefix, sub), torch.no_grad():
            if init_fn is not None:
                init_fn(sub)
            elif callable(getattr(sub, "reset_parameters", None)):
                sub.reset_parameters()  # type: ignore[operator]
            elif callable(getattr(sub, "_reset_parameters", None)):
                sub._reset_parameters()  # type: ignore[operator]
            elif callable(getattr(sub, "reset_running_stats", None)):
                sub.reset_running_stats()  # type: ignore[operator]
            _reset_counters(sub)


def _check_args(module: Any, init_fn: Any) -> None:
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if init_fn is not None and not callable(init_fn):
        raise TypeError("init_fn: expected a callable taking a module")


def init_module(
    module: torch.nn.Module,
    seed: Union[int, str, Generator],
    *,
    init_fn: Optional[Callable[[torch.nn.Module], Any]] = None,
) -> torch.nn.Module:
    """Re-initialises ``module`` deterministically and returns it.

    For each submodule, children before parents (as ``module.apply`` and construction
    order them), its own init logic runs —
    ``init_fn(submodule)`` when given (for example a Hugging Face model's
    ``_init_weights``), else its ``reset_parameters()`` (or ``_reset_parameters()``, or
    ``reset_running_stats()``) — inside
    ``routed(module, seed)``: the tensor named ``q`` (its qualified name in
    ``named_parameters`` / ``named_buffers``) draws from ``Generator(seed).child(q)``. Hence:

    - the weights are identical on CPU float32, bfloat16 (the float32 values rounded), any
      thread count, and for a model built on the ``meta`` device (see ``materialize``);
    - adding a layer leaves every other layer's weights unchanged;
    - torch's global RNG state is neither used nor changed.

    A parametrized tensor (``torch.nn.utils.parametrizations.weight_norm``...) is
    initialised as the plain tensor of the same name, then its originals are set by the
    parametrizations' ``right_inverse``, as when the parametrization was registered.
    seedstream's own counters (``Dropout``'s ``step``) are set to 0.

    ``init_fn`` is called once per submodule, as ``model.apply(init_fn)`` would: code that
    runs after ``apply`` (nanoGPT's scaled ``c_proj`` loop) is not part of it; run the whole
    procedure in ``with seedstream.torch.routed(model, seed): ...`` instead. A draw that no
    named stream can give raises ``ValueError`` (see ``routed``), naming the parameter when
    the init replaces one with a tensor drawn anew. A model with tensors on ``meta`` raises
    ``ValueError``: use ``materialize``.
    """
    _check_args(module, init_fn)
    with routing(module, _root(seed)) as router:
        _run_inits(router, module, init_fn)
    return module


def _occurrences(module: torch.nn.Module) -> List[List[Tuple[torch.nn.Module, str, bool]]]:
    """Tensors registered at several places (tied weights), each as (module, name, is_param)."""
    seen: Dict[int, List[Tuple[torch.nn.Module, str, bool]]] = {}
    places: Set[Tuple[int, str]] = set()
    for _, mod in module.named_modules(remove_duplicate=False):
        for is_param, table in ((True, mod._parameters), (False, mod._buffers)):
            for local, t in table.items():
                if t is not None and (id(mod), local) not in places:
                    places.add((id(mod), local))
                    seen.setdefault(id(t), []).append((mod, local, is_param))
    return [occ for occ in seen.values() if len(occ) > 1]


def materialize(
    module: torch.nn.Module,
    device: Union[str, torch.device],
    *,
    seed: Union[int, str, Generator],
    init_fn: Optional[Callable[[torch.nn.Module], Any]] = None,
) -> torch.nn.Module:
    """Allocates a model built on the ``meta`` device on ``device`` and initialises it: the
    result equals building the model directly and calling ``init_module(model, seed)``
    (then ``init_module(model, seed, init_fn=init_fn)`` when ``init_fn`` is given), bit for
    bit, in every parameter and buffer. Returns ``module``.

    ``module.to_empty(device=device)`` allocates the tensors (values on other devices are
    discarded too); weights tied before (one tensor registered at several places) are tied
    again, as ``to_empty`` makes one tensor per place; every submodule's
    ``reset_parameters()`` then sets its parameters and buffers — LayerNorm's ones and zeros,
    BatchNorm's running statistics — from named streams, and seedstream's counters start at 0.
    A parameter or buffer that neither ``reset_parameters()`` nor ``init_fn`` overwrites
    entirely would hold uninitialised memory: ``ValueError`` names it (give its module a
    ``reset_parameters()`` that sets it, as torch asks of modules built on ``meta``).
    Further init (``with routed(module, seed): ...``) acts on the result as on a model built
    directly.
    """
    _check_args(module, init_fn)
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: expected a torch device, got {device!r}") from None
    if dev.type == "meta":
        raise ValueError("device: expected a device with memory, got meta")
    ties = _occurrences(module)
    module.to_empty(device=dev)
    for occ in ties:
        first, local, is_param = occ[0]
        table: Dict[str, Any] = first._parameters if is_param else first._buffers  # type: ignore[assignment]
        for mod, name, p in occ[1:]:
            (mod._parameters if p else mod._buffers)[name] = table[local]
    root = _root(seed)
    written: Set[str] = set()
    for fn in (None, init_fn) if init_fn is not None else (None,):
        with routing(module, root) as router:
            _run_inits(router, module, fn)
        written |= router.full
    missing = [n for n, t in _named_tensors(module) if dist.local(t).numel() and n not in written]
    if missing:
        raise ValueError(
            f"module: {', '.join(map(repr, missing))} not set by any reset_parameters() or init_fn "
            "after materialisation (it would hold uninitialised memory); give its module a "
            "reset_parameters() that sets it"
        )
    return module
