"""``patch_dropout``: every dropout executed in a model's forward drawn from named streams,
and the same masks again when activation checkpointing recomputes part of the forward.

Keying (docs/spec.md#patch-dropout-v1): the ``k``-th dropout (``k`` from 0) attributed to
the module with qualified path ``q`` in forward pass ``t`` uses
``Generator(seed).child(q, t, k)`` (``child(q, t, k, rank)`` with a rank). ``t`` counts the
top-level training forward calls that took a key (``p = 0`` included); it is saved in the
model's state_dict. ``seedstream.torch.Dropout`` keeps its own key and step (``steps``).

Recomputation (``_Tracker``, shared by ``patch_dropout`` and by every
``seedstream.torch.Dropout``). ``torch.utils.checkpoint`` re-runs a region of the forward
inside backward, from the very same input tensors (the reentrant form passes detached
aliases of their storage). Each module call that checkpointing may recompute (made without
grad or under saved-tensor hooks) records the counters it started with, under the identity
of its input storages; a call made inside backward that starts a recomputation looks that
record up and counts from it, so it draws the masks of the original call. Recomputation
never moves the live counters.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch.multiprocessing.reductions import StorageWeakRef
from torch.overrides import TorchFunctionMode

from seedstream import Generator
from seedstream import _validate as v
from seedstream.torch import functional as sf

STEP_BUFFER = "seedstream_dropout_step"
_ANCHORS_PER_INPUT = 16
_local = threading.local()


def in_backward() -> bool:
    """True while the autograd engine runs a backward pass on this thread (where
    activation checkpointing recomputes)."""
    return bool(torch._C._current_graph_task_id() != -1)


class _Counts:
    """Counters of one forward pass: its step ``t``, the number of draws made so far per
    module path (and the step of each ``seedstream.torch.Dropout`` used), and each such
    module's step when the pass first used it (shared by every copy of the pass)."""

    __slots__ = ("step", "rank", "counts", "first", "sample_offset")

    def __init__(self, step: int, rank: Optional[int], counts: Dict[Any, int], first: Dict[Any, int],
                 sample_offset: Optional[int] = None) -> None:
        self.step, self.rank, self.counts, self.first = step, rank, counts, first
        # Per-sample keys (DropoutPatch.samples): the global index of the batch's first sample.
        self.sample_offset = sample_offset

    def copy(self) -> "_Counts":
        return _Counts(self.step, self.rank, dict(self.counts), self.first, self.sample_offset)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Counts):
            return False
        return (self.step, self.rank, self.counts, self.sample_offset) == (
            other.step, other.rank, other.counts, other.sample_offset)

    __hash__ = None  # type: ignore[assignment]


class _Scope:
    """A live forward pass or a recomputation, from its first hooked call to its end."""

    __slots__ = ("tracker", "counts", "live", "depth", "mode", "drew")

    def __init__(self, tracker: "_Tracker", counts: _Counts, live: bool, depth: int) -> None:
        self.tracker, self.counts, self.live, self.depth = tracker, counts, live, depth
        self.mode: Optional[_DropoutMode] = None
        self.drew = False

    def generator(self, path: str) -> Generator:
        """The stream of the next dropout attributed to `path` (a ``patch_dropout`` pass)."""
        k = self.counts.counts.get(path, 0)
        self.counts.counts[path] = k + 1
        self.drew = True
        names: Tuple[Any, ...] = (path, self.counts.step, k)
        if self.counts.rank is not None:
            names += (self.counts.rank,)
        return self.tracker.root.child(*names)  # type: ignore[attr-defined]

    def module_call(self, module: torch.nn.Module) -> int:
        """The index ``k`` of this call of a ``seedstream.torch.Dropout`` among its calls in
        the pass (its key under per-sample keys)."""
        key = ("call", id(module))
        k = self.counts.counts.get(key, 0)
        self.counts.counts[key] = k + 1
        return k

    def module_step(self, module: torch.nn.Module) -> int:
        """The step a ``seedstream.torch.Dropout`` uses now; advances it in a live pass."""
        c, key = self.counts, id(module)
        if self.live:  # the buffer, which may have moved outside tracked calls
            step = _buffer_value(module)
            c.first.setdefault(key, step)
        else:
            known = c.counts.get(key)
            step = c.first.setdefault(key, _buffer_value(module)) if known is None else known
        c.counts[key] = step + 1
        self.drew = True
        if self.live:
            with torch.no_grad():
                module.step.fill_(step + 1)
            module._seedstream_step_seen = (module.step, module.step._version, step + 1)
        return step


def _buffer_value(module: torch.nn.Module) -> int:
    """``int(module.step)``, read back only when something other than the last tracked call
    wrote the buffer (a restore, ``load_state_dict``, ``model.to``): on a GPU a read waits."""
    buf = module.step
    seen = getattr(module, "_seedstream_step_seen", None)
    if seen is not None and seen[0] is buf and seen[1] == buf._version:
        return int(seen[2])
    value = int(buf)
    module._seedstream_step_seen = (buf, buf._version, value)
    return value


def _p(args: Tuple[Any, ...], kwargs: Dict[str, Any], i: int, name: str, default: Any) -> Any:
    return args[i] if len(args) > i else kwargs.get(name, default)


class _DropoutMode(TorchFunctionMode):
    """Routes torch's dropout functions, executed while a scope is active, to seedstream."""

    def __init__(self, scope: _Scope) -> None:
        super().__init__()
        self.scope = scope

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        handler = _HANDLERS.get(func)
        if handler is None:
            return func(*args, **kwargs)
        return handler(self, func, args, kwargs)

    def path(self) -> str:
        return self.scope.tracker.here().path_stack[-1]  # type: ignore[no-any-return]


def _dropout(mode: _DropoutMode, func: Any, args: Any, kwargs: Any, samples: Optional[int] = None) -> Any:
    """``samples``: the number of samples in ``input`` when dimension 0 is not the sample
    dimension (MultiheadAttention's weights, ``(N * heads, L, S)``)."""
    x, p = _p(args, kwargs, 0, "input", None), _p(args, kwargs, 1, "p", 0.5)
    training = _p(args, kwargs, 2, "training", kwargs.get("train", True))  # torch.dropout: train
    inplace = _p(args, kwargs, 3, "inplace", False)
    if not training:
        return x
    # p = 0 takes its key too (and returns x), so changing p never shifts another mask.
    offset = mode.scope.counts.sample_offset
    if offset is not None:
        g = mode.scope.generator(mode.path())
        if samples is None:
            out = sf.sample_dropout(x, p, generator=g, sample_offset=offset)
        else:
            out = sf.sample_dropout(x.reshape(samples, -1), p, generator=g, sample_offset=offset).reshape(x.shape)
        return x.copy_(out) if inplace and out is not x else out
    out = sf.dropout(x, p, generator=mode.scope.generator(mode.path()))
    return x.copy_(out) if inplace and out is not x else out


def _channel(unbatched_dim: Optional[int]) -> Any:
    def handler(mode: _DropoutMode, func: Any, args: Any, kwargs: Any) -> Any:
        x, p = _p(args, kwargs, 0, "input", None), _p(args, kwargs, 1, "p", 0.5)
        training, inplace = _p(args, kwargs, 2, "training", True), _p(args, kwargs, 3, "inplace", False)
        if not training:
            return x
        offset = mode.scope.counts.sample_offset
        if offset is not None:
            if x.dim() == unbatched_dim or x.dim() < 2:
                raise ValueError(
                    f"input: {func.__name__} in module {mode.path()!r} got an unbatched input of "
                    f"shape {tuple(x.shape)}; per-sample keys need a sample dimension (dimension 0)"
                )
            g = mode.scope.generator(mode.path())
            out = sf.sample_channel_dropout(x, p, generator=g, sample_offset=offset)
            return x.copy_(out) if inplace and out is not x else out
        # As torch: a mask per (sample, channel); per channel for unbatched input.
        dims = 1 if x.dim() == unbatched_dim else min(2, x.dim())
        out = sf.channel_dropout(x, p, generator=mode.scope.generator(mode.path()), mask_dims=dims)
        return x.copy_(out) if inplace and out is not x else out

    return handler


def _unbatched(mode: _DropoutMode, query: Any, least: int) -> None:
    """Per-sample keys need a sample dimension: a clear error for an unbatched query."""
    if mode.scope.counts.sample_offset is not None and isinstance(query, torch.Tensor) and query.dim() < least:
        raise ValueError(
            f"query: attention in module {mode.path()!r} got an unbatched query of shape "
            f"{tuple(query.shape)}; per-sample keys need a sample dimension"
        )


def _sdpa(mode: _DropoutMode, func: Any, args: Any, kwargs: Any) -> Any:
    names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
    defaults = (None, None, None, None, 0.0, False, None, False)
    a = {n: _p(args, kwargs, i, n, d) for i, (n, d) in enumerate(zip(names, defaults))}
    if a["dropout_p"] == 0.0:
        return func(*args, **kwargs)
    _unbatched(mode, a["query"], 3)
    g = mode.scope.generator(mode.path())
    return sf.scaled_dot_product_attention(**a, generator=g, sample_offset=mode.scope.counts.sample_offset)


_F_DROPOUT, _F_SDPA = F.dropout, F.scaled_dot_product_attention
_mha_calls = [0]


def _routed_dropout(*args: Any, **kwargs: Any) -> Any:
    routed = getattr(_local, "mha", None)
    if routed is None:
        return _F_DROPOUT(*args, **kwargs)
    # The attention weights, (N * heads, L, S) with each sample's heads together: per-sample
    # keys see them as (N, heads, L, S), as the SDPA path does.
    mode, batch = routed
    return _dropout(mode, _F_DROPOUT, args, kwargs, samples=batch)


def _routed_sdpa(*args: Any, **kwargs: Any) -> Any:
    routed = getattr(_local, "mha", None)
    return _F_SDPA(*args, **kwargs) if routed is None else _sdpa(routed[0], _F_SDPA, args, kwargs)


def _mha(mode: _DropoutMode, func: Any, args: Any, kwargs: Any) -> Any:
    # multi_head_attention_forward calls F.dropout or F.scaled_dot_product_attention by
    # their module-level names. A mode cannot see them (torch runs a handled function with
    # the mode off, and re-entering it would dispatch this same function again), so for
    # the duration of the call those names point to routers that act for this thread only.
    query = _p(args, kwargs, 0, "query", None)
    _unbatched(mode, query, 3)  # (L, N, E) batched, (L, E) unbatched
    outer = getattr(_local, "mha", None)
    _local.mha = (mode, int(query.shape[1]) if query.dim() == 3 else None)
    if _mha_calls[0] == 0:
        F.dropout, F.scaled_dot_product_attention = _routed_dropout, _routed_sdpa  # type: ignore[assignment]
    _mha_calls[0] += 1
    try:
        return func(*args, **kwargs)
    finally:
        _mha_calls[0] -= 1
        if _mha_calls[0] == 0:
            F.dropout, F.scaled_dot_product_attention = _F_DROPOUT, _F_SDPA  # type: ignore[assignment]
        _local.mha = outer


_HANDLERS: Dict[Any, Callable[..., Any]] = {
    F.dropout: _dropout,
    torch.dropout: _dropout,
    F.dropout1d: _channel(2),
    F.dropout2d: _channel(None),
    F.dropout3d: _channel(4),
    F.scaled_dot_product_attention: _sdpa,
    F.multi_head_attention_forward: _mha,
}


def _inputs(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Tuple[Any, ...], List[StorageWeakRef]]:
    """The identity of a call's tensor arguments: storage, offset, shape, strides."""
    ids, refs = [], []
    for a in itertools.chain(args, kwargs.values()):
        if isinstance(a, torch.Tensor) and a.device.type != "meta":
            try:
                ref = StorageWeakRef(a.untyped_storage())
            except (RuntimeError, NotImplementedError):
                continue
            ids.append((ref.cdata, a.storage_offset(), tuple(a.shape), a.stride()))
            refs.append(ref)
    return tuple(ids), refs


_UNTRACKED = object()  # on the call stack for a call in backward that is no recomputation


class _Thread(threading.local):
    """A tracker's state on one thread: the calls in progress and their scopes."""

    def __init__(self) -> None:
        self.path_stack: List[Any] = []
        self.scopes: List[_Scope] = []
        self.replay: Optional[_Counts] = None
        self.replay_task = -1


class _Tracker:
    """Hook bodies that keep the counters of forward passes and recognise recomputation.

    A subclass names each module (``_key``), gives the counters of a new live pass
    (``_live_counts``) and acts when a scope starts and ends (``_begin``, ``_end``).
    """

    def _reset(self) -> None:
        self._anchors: Dict[Any, List[List[Any]]] = {}
        self._thread = _Thread()

    def here(self) -> _Thread:
        return self._thread

    def scope(self) -> Optional[_Scope]:
        """The innermost pass or recomputation in progress on this thread, if any."""
        scopes = self._thread.scopes
        return scopes[-1] if scopes else None

    def _key(self, module: torch.nn.Module) -> Any:
        raise NotImplementedError

    def _live_counts(self) -> _Counts:
        raise NotImplementedError

    def _unmatched(self, key: Any) -> Optional[_Counts]:
        """Counters for a call in backward that matches no recorded call (None: untracked)."""
        raise NotImplementedError

    def _begin(self, scope: _Scope) -> None:
        pass

    def _end(self, scope: _Scope) -> None:
        pass

    def _pre_body(self, module: torch.nn.Module, args: Any, kwargs: Any) -> None:
        here = self._thread
        key = self._key(module)
        scopes = here.scopes
        backward = in_backward()
        if not scopes or (backward and scopes[-1].live):
            if backward:
                counts = self._recomputed(key, args, kwargs)
                if counts is None:
                    here.path_stack.append(_UNTRACKED)
                    return
                scope = _Scope(self, counts, False, len(here.path_stack))
            else:
                scope = _Scope(self, self._live_counts(), True, len(here.path_stack))
                if len(self._anchors) > 4096:
                    self._prune()
            scopes.append(scope)
            self._begin(scope)
        here.path_stack.append(key)
        if module.training and _may_be_recomputed():
            ids, refs = _inputs(args, kwargs)
            if ids:
                log = self._anchors.setdefault((key, ids), [])
                log.append([refs, scopes[-1].counts.copy(), False])
                del log[:-_ANCHORS_PER_INPUT]

    def _post_body(self, module: torch.nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        here = self._thread
        if not here.path_stack:  # the pre-hook raised
            return
        if here.path_stack.pop() is _UNTRACKED:
            return
        scope = here.scopes[-1]
        if len(here.path_stack) == scope.depth:
            here.scopes.pop()
            self._end(scope)
            if not scope.live:  # later calls of the same backward continue from here
                here.replay, here.replay_task = scope.counts, torch._C._current_graph_task_id()

    def _recomputed(self, key: Any, args: Any, kwargs: Any) -> Optional[_Counts]:
        """Counters for a call starting a recomputation: those its original call started
        with (the latest not yet replayed), or the current ones when it continues one."""
        ids, _ = _inputs(args, kwargs)
        found = [e for e in self._anchors.get((key, ids), ()) if not any(r.expired() for r in e[0])]
        here = self._thread
        current = here.replay if here.replay_task == torch._C._current_graph_task_id() else None
        if current is not None and any(e[1] == current for e in found):
            return current
        if found:
            entry = ([e for e in found if not e[2]] or found)[-1]
            entry[2] = True
            return entry[1].copy()
        if current is not None:
            return current
        return self._unmatched(key)

    def _prune(self) -> None:
        for key in list(self._anchors):
            log = [e for e in self._anchors[key] if not any(r.expired() for r in e[0])]
            if log:
                self._anchors[key] = log
            else:
                del self._anchors[key]


class DropoutPatch(_Tracker):
    """What :func:`patch_dropout` installed on a model; ``remove()`` undoes it.

    ``step`` is the number of training forward passes that took a key so far (saved in
    the model's state_dict as ``seedstream_dropout_step``).
    """

    def __init__(self, model: torch.nn.Module, seed: Union[int, str], rank: Any) -> None:
        self.model, self.seed, self.rank = model, seed, rank
        self.step = 0
        self._paths: Dict[torch.nn.Module, str] = {m: q for q, m in model.named_modules()}
        self._handles: List[Any] = []
        self._reset()
        model.register_buffer(STEP_BUFFER, torch.zeros((), dtype=torch.int64))
        self._mark_step(getattr(model, STEP_BUFFER))
        for module in self._paths:
            self._handles.append(module.register_forward_pre_hook(self._pre, with_kwargs=True))
            self._handles.append(
                module.register_forward_hook(self._post, with_kwargs=True, always_call=True)
            )
        self._handles.append(model.register_load_state_dict_pre_hook(self._before_load))
        self._handles.append(model.register_load_state_dict_post_hook(self._after_load))

    def _reset(self) -> None:
        """The transient state: nothing in progress, nothing recorded."""
        super()._reset()
        self.root = Generator(self.seed)
        self._samples: Optional[Tuple[int, int]] = None
        self._step_seen: Tuple[Optional[torch.Tensor], int] = (None, -1)  # read it on next use

    @contextlib.contextmanager
    def samples(self, step: int, offset: int) -> Iterator[None]:
        """Per-sample keys for the forward passes run in the block (docs/spec.md#sample-dropout-v1).

        Sample ``j`` of a dropout's input (dimension 0) is the sample with global index
        ``offset + j``; the ``k``-th dropout attributed to module path ``q`` in a pass gives
        it the mask of :func:`seedstream.torch.functional.sample_dropout` with the generator
        ``Generator(seed).child(q, step, k)``; channel dropout (``Dropout1d/2d/3d``) gives it
        :func:`~seedstream.torch.functional.sample_channel_dropout` and attention dropout
        (``nn.MultiheadAttention``, ``F.scaled_dot_product_attention``) drops its
        ``(heads, L, S)`` weights with ``sample_dropout``. ``step`` is the training step (the
        same for every micro-batch of a step); the rank is not part of the key. So the masks
        of every sample are the same on 1 or N data-parallel processes and for any
        micro-batch split, when each process passes the global index of its first sample.
        An unbatched input to channel or attention dropout raises ValueError.
        :func:`sample_keys` does the same for every patched model and every
        ``seedstream.torch.Dropout``; this block wins over an enclosing one.
        """
        outer, self._samples = self._samples, _check_keys(step, offset)
        try:
            yield
        finally:
            self._samples = outer

    # A copy of the model (copy.deepcopy) gets its own patch, with the same step.
    def __getstate__(self) -> Dict[str, Any]:
        keep = ("model", "seed", "rank", "step", "_paths", "_handles")
        return {k: self.__dict__[k] for k in keep}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    def remove(self) -> None:
        """Restores the model: torch's own dropout, no hooks, no step buffer."""
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self.model._buffers.pop(STEP_BUFFER, None)
        if getattr(self.model, "_seedstream_dropout_patch", None) is self:
            del self.model._seedstream_dropout_patch

    # A checkpoint saved before patching has no step: it loads, keeping the current one.
    def _before_load(self, module: Any, state_dict: Any, prefix: str, *rest: Any) -> None:
        state_dict.setdefault(prefix + STEP_BUFFER, getattr(self.model, STEP_BUFFER).clone())

    def _after_load(self, module: Any, incompatible: Any) -> None:
        buf = getattr(self.model, STEP_BUFFER)
        self.step = int(buf)
        self._mark_step(buf)

    # Under torch.compile the bookkeeping runs eagerly (a graph break at each hooked call):
    # it reads storages and autograd's state, which a graph cannot hold.
    def _pre(self, module: torch.nn.Module, args: Any, kwargs: Any) -> None:
        if torch.compiler.is_compiling():
            return _eager_pre(self, module, args, kwargs)
        return self._pre_body(module, args, kwargs)

    def _post(self, module: torch.nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        if torch.compiler.is_compiling():
            return _eager_post(self, module, args, kwargs, output)
        return self._post_body(module, args, kwargs, output)

    def _key(self, module: torch.nn.Module) -> str:
        return self._paths[module]

    def _live_counts(self) -> _Counts:
        keys = self._samples if self._samples is not None else _keys.current
        if keys is not None:  # per-sample keys: the given step, no rank
            return _Counts(keys[0], None, {}, {}, keys[1])
        self._sync_step()
        rank = _rank(self.rank)  # "auto": as torch.distributed stands at this pass
        return _Counts(self.step, rank, {}, {})

    def _sync_step(self) -> None:
        """Takes the pass count from the buffer when something else wrote it (a restore by
        copy_, `model.to`, a manual edit): only then is it read back, which on a GPU waits."""
        buf = getattr(self.model, STEP_BUFFER)
        if buf is not self._step_seen[0] or buf._version != self._step_seen[1]:
            self.step = int(buf)
            self._mark_step(buf)

    def _mark_step(self, buf: torch.Tensor) -> None:
        self._step_seen = (buf, buf._version)

    def _unmatched(self, key: Any) -> Optional[_Counts]:
        raise RuntimeError(
            f"patch_dropout: module {key!r} was run in backward without a matching forward "
            "call; checkpoint a module (or a function of the module's inputs)"
        )

    def _begin(self, scope: _Scope) -> None:
        scope.mode = _DropoutMode(scope)
        scope.mode.__enter__()

    def _end(self, scope: _Scope) -> None:
        assert scope.mode is not None
        scope.mode.__exit__(None, None, None)
        if scope.live and scope.drew:
            self.step += 1
            buf = getattr(self.model, STEP_BUFFER)
            with torch.no_grad():
                buf.fill_(self.step)
            self._mark_step(buf)


_eager_pre = torch._dynamo.disable(DropoutPatch._pre_body)
_eager_post = torch._dynamo.disable(DropoutPatch._post_body)


class _Steps(_Tracker):
    """The steps of ``seedstream.torch.Dropout`` modules, so that a call recomputed by
    activation checkpointing uses the step of its original call, with or without
    ``patch_dropout``. Hooked modules: every ``Dropout`` and every module that holds one
    (found as submodules are registered). Modules are told apart by identity, inputs by
    storage. (Global forward hooks would see every module, but torch.compile warns about
    them.)"""

    def __init__(self) -> None:
        self._reset()
        self._chain: Optional[_Counts] = None
        self._installed = False

    # The hooks copied with a model (copy.deepcopy, pickle) refer to this same tracker.
    def __deepcopy__(self, memo: Any) -> "_Steps":
        return self

    def __reduce__(self) -> str:
        return "steps"

    def install(self) -> None:
        if not self._installed:
            torch.nn.modules.module.register_module_module_registration_hook(self._registered)
            self._installed = True

    def track(self, module: torch.nn.Module) -> None:
        if not self.tracks(module):
            module.register_forward_pre_hook(self._pre, with_kwargs=True)
            module.register_forward_hook(self._post, with_kwargs=True, always_call=True)

    def tracks(self, module: torch.nn.Module) -> bool:
        return any(getattr(h, "__self__", None) is self for h in module._forward_pre_hooks.values())

    def _registered(self, parent: torch.nn.Module, name: str, child: Any) -> None:
        if isinstance(child, torch.nn.Module) and self.tracks(child):
            self.track(parent)

    def forget_chain(self) -> None:
        self._chain = None

    # Nothing to track while torch.compile traces: a traced Dropout keeps its own step. Under
    # per-sample keys a Dropout runs eagerly (a graph break), and so does the bookkeeping
    # that gives it its call index; dynamo guards on the keys being set, so a graph traced
    # without them is not reused with them.
    def _pre(self, module: torch.nn.Module, args: Any, kwargs: Any) -> None:
        if not torch.compiler.is_compiling():
            self._pre_body(module, args, kwargs)
        elif _keys.current is not None:
            _eager_steps_pre(self, module, args, kwargs)

    def _post(self, module: torch.nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        if not torch.compiler.is_compiling():
            self._post_body(module, args, kwargs, output)
        elif _keys.current is not None:
            _eager_steps_post(self, module, args, kwargs, output)

    def _key(self, module: torch.nn.Module) -> int:
        return id(module)

    def _live_counts(self) -> _Counts:
        # Top-level calls that checkpointing may recompute (the modules of a checkpointed
        # function called outside any hooked module) count as one pass, so that a
        # recomputation continuing from one of them knows where the next ones started.
        # The pass ends with the next call that cannot be recomputed, a recomputation, or
        # a state_dict load.
        # Under per-sample keys the counters hold them, so that a recomputation uses the keys
        # of its original call; a change of keys ends the pass.
        step, offset = _keys.current if _keys.current is not None else (0, None)
        if not _may_be_recomputed():
            self._chain = None
            return _Counts(step, None, {}, {}, offset)
        if self._chain is None or (self._chain.step, self._chain.sample_offset) != (step, offset):
            self._chain = _Counts(step, None, {}, {}, offset)
        return self._chain

    def _unmatched(self, key: Any) -> Optional[_Counts]:
        return None  # not a recomputation of a tracked call: a Dropout inside raises

    def _begin(self, scope: _Scope) -> None:
        if not scope.live:
            self._chain = None


steps = _Steps()
_eager_steps_pre = torch._dynamo.disable(_Steps._pre_body)
_eager_steps_post = torch._dynamo.disable(_Steps._post_body)


class _SampleKeys(threading.local):
    """The per-sample keys in force on this thread (:func:`sample_keys`): (step, offset)."""

    def __init__(self) -> None:
        self.current: Optional[Tuple[int, int]] = None


_keys = _SampleKeys()


def _check_keys(step: Any, offset: Any) -> Tuple[int, int]:
    st = v.index(step, "step", "an int")
    off = v.index(offset, "offset", "an int")
    if st < 0:
        raise ValueError(f"step: expected an int >= 0, got {st}")
    if off < 0:
        raise ValueError(f"offset: expected an int >= 0, got {off}")
    return st, off


def active_sample_keys() -> Optional[Tuple[int, int]]:
    """The (step, offset) of the innermost :func:`sample_keys` block on this thread, if any."""
    return _keys.current


@contextlib.contextmanager
def sample_keys(step: int, offset: int) -> Iterator[None]:
    """Per-sample keys for every dropout run in the block, on this thread: masks that do not
    depend on the data-parallel world size or the micro-batch split (docs/spec.md#sample-keys).

    ``step`` is the training step (the same for every micro-batch of a step) and ``offset``
    the global index of the batch's first sample (dimension 0 of every dropout's input):
    sample ``j`` is the sample ``offset + j``. The rank is never part of the key.

    - A ``seedstream.torch.Dropout(p, seed=s, name=m)`` called for the ``k``-th time in the
      pass (``k`` from 0) applies :func:`seedstream.torch.functional.sample_dropout` with
      ``Generator(s).child(m, step, k)``: sample ``j``'s mask comes from
      ``Generator(s).child(m, step, k, offset + j)``. Its ``step`` buffer still counts the call.
    - A model under :func:`patch_dropout` runs its passes as in
      ``with patch.samples(step, offset):`` (an enclosing ``patch.samples`` block wins).

    Activation checkpointing recomputes with the keys of the original call. Under
    ``torch.compile`` each ``Dropout`` call runs eagerly (a graph break), so
    ``fullgraph=True`` cannot compile a model with one while the keys are set.
    """
    outer, _keys.current = _keys.current, _check_keys(step, offset)
    try:
        yield
    finally:
        _keys.current = outer


def _may_be_recomputed() -> bool:
    """Whether torch.utils.checkpoint may recompute the call in progress: its reentrant form
    runs the forward without grad, the other under saved-tensor hooks (as does a
    recomputation that holds nested checkpoints). Elsewhere no record is needed."""
    return not torch.is_grad_enabled() or torch._C._autograd._top_saved_tensors_default_hooks(False) is not None


def current_rank(rank: Any) -> Optional[int]:
    """The rank a ``rank=`` argument ("auto", None or an int >= 0) stands for now
    (``"auto"``: torch.distributed's, if it is initialised); ValueError for other values."""
    return _rank(rank)


def _rank(rank: Any) -> Optional[int]:
    if rank == "auto":
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            return int(dist.get_rank())
        return None
    if rank is None:
        return None
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
        raise ValueError(f"rank: expected 'auto', None or an int >= 0, got {rank!r}")
    return rank


def patch_dropout(model: torch.nn.Module, seed: Union[int, str], *, rank: Any = "auto") -> DropoutPatch:
    """Makes every dropout executed in ``model``'s forward draw from a named seedstream
    stream: ``nn.Dropout`` and ``Dropout1d/2d/3d`` (channel-wise masks), ``F.dropout*``
    called inside any submodule's forward, ``nn.MultiheadAttention``'s attention dropout
    and ``F.scaled_dot_product_attention`` with ``dropout_p > 0`` (run on the explicit math
    path; see :func:`seedstream.torch.functional.scaled_dot_product_attention` for its
    memory cost). ``seedstream.torch.Dropout`` modules inside keep their own keys.

    The ``k``-th draw attributed to the module at path ``q`` in training pass ``t`` uses
    ``Generator(seed).child(q, t, k)``. Nothing is drawn in ``eval()``. The masks do not
    depend on ``torch.manual_seed`` and are the same when ``torch.utils.checkpoint``
    recomputes part of the forward (reentrant or not, nested).

    ``rank``: with ``"auto"`` (default), once ``torch.distributed`` is initialised the
    process's rank is appended to every key (checked at each forward pass), so
    data-parallel ranks draw different masks; an int sets it; ``None`` gives every rank
    the same masks. For masks that do not depend on the data-parallel world size or the
    micro-batch split, run the forward passes in ``with sample_keys(step, offset):`` or
    ``with handle.samples(step, offset):`` (per-sample keys; see :meth:`DropoutPatch.samples`).

    Returns a handle whose ``remove()`` undoes the patch.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if getattr(model, "_seedstream_dropout_patch", None) is not None:
        raise ValueError("model: dropout is already patched; call remove() on the handle first")
    if rank != "auto":
        rank = _rank(rank)
    patch = DropoutPatch(model, seed, rank)
    model._seedstream_dropout_patch = patch
    return patch
