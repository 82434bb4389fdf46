"""``Dropout`` module whose mask is a pure function of (seed, name, step, index)."""

from __future__ import annotations

from typing import Any, Optional, Union

import torch

from seedstream import Generator
from seedstream._core import Stream
from seedstream._validate import utf8
from seedstream.torch import _patch
from seedstream.torch.functional import _DROPOUT_DTYPES, dropout_probability, named_dropout, sample_dropout


class Dropout(torch.nn.Module):
    """Deterministic dropout: at training step ``t`` the mask of element ``j`` is element
    ``j`` of ``Generator(seed).child(name, t).bernoulli(p, ...)``.

    The step lives in the ``step`` buffer, increments on each training forward and is saved
    in ``state_dict``, so a resumed run continues with the next masks. A checkpoint saved
    before ``torch.nn.Dropout`` was swapped for this module (so without ``step``) loads with
    ``strict=True`` and keeps the current step. With ``rank`` (default ``"auto"``: the
    process's rank once ``torch.distributed`` is initialised, checked at each call; ``None``:
    no rank; an int: that rank) the key is ``child(name, t, rank)``, so data-parallel ranks
    draw different masks for their different data. Same scaling as ``torch.nn.Dropout``;
    backward regenerates the mask instead of storing it.

    A module called several times in one forward uses the next step at each call. Under
    activation checkpointing (``torch.utils.checkpoint``, reentrant or not, nested) a
    recomputed call draws the mask of its original call and leaves ``step`` alone. To tell
    calls apart, the calls of this module and of every module that holds it are tracked
    (forward hooks); checkpoint such a module, or a function whose first call of one takes
    the checkpointed tensors. A call recomputed in backward that matches no forward call
    raises ``RuntimeError`` rather than drawing a new mask.

    Inside ``with seedstream.torch.sample_keys(step, offset):`` the module uses per-sample
    keys instead, whose masks do not depend on the micro-batch split or the data-parallel
    world size: its ``k``-th call in a forward pass applies
    :func:`~seedstream.torch.functional.sample_dropout` with ``Generator(seed).child(name,
    step, k)`` and ``sample_offset=offset`` (no rank), also when checkpointing recomputes it.
    """

    def __init__(self, p: float = 0.5, *, seed: Union[int, str], name: str, rank: Any = "auto") -> None:
        super().__init__()
        prob = dropout_probability(p)
        if not isinstance(name, str):
            raise TypeError(f"name: expected a str, got {type(name).__name__}")
        utf8(name, "name")
        self.p = prob
        self.seed = seed
        self.name = name
        if rank != "auto":
            _patch.current_rank(rank)  # checks it
        self.rank = rank
        root = Generator(seed)
        self._algorithm, self._key = root.stream.algorithm, root.stream.key.hex()
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))
        self.register_load_state_dict_pre_hook(_keep_step_when_absent)
        _patch.steps.install()
        _patch.steps.track(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        if not isinstance(x, torch.Tensor) or x.dtype not in _DROPOUT_DTYPES:
            raise TypeError("x: expected a float32, float64, float16 or bfloat16 tensor")
        if torch.compiler.is_compiling():
            if _patch.active_sample_keys() is not None:  # dynamo guards on this
                return _eager_forward(self, x)
            return self._draw(x, None)
        return self._draw(x, _patch.steps.scope())

    def _draw(self, x: torch.Tensor, scope: Optional[_patch._Scope]) -> torch.Tensor:
        """The mask of this call; `scope`: the pass or recomputation in progress (None when
        traced by torch.compile or called without hooks)."""
        if not torch.compiler.is_compiling():
            # Per-sample keys: those of the pass (of the original call when recomputed).
            keys = _patch.active_sample_keys() if scope is None else scope.counts.sample_offset
            if keys is not None and (scope is not None or not _patch.in_backward()):
                return _sample_forward(self, x, scope)
        if scope is not None:
            step = torch.tensor(scope.module_step(self))
        elif not torch.compiler.is_compiling() and _patch.in_backward():
            raise RuntimeError(
                f"Dropout {self.name!r}: forward recomputed in backward (activation "
                "checkpointing?) without a matching forward call; checkpoint a module that "
                "holds it, or a function whose first such module call takes the checkpointed "
                "tensors"
            )
        else:  # traced by torch.compile, or called without hooks (forward() itself)
            # The op gets its own copy of the step: the buffer moves on before backward runs.
            step = self.step.clone()
            self.step.add_(1)
        if self.p == 0.0:  # the step still moves, so p never shifts later masks
            return x
        rank = _patch.current_rank(self.rank)
        return named_dropout(x, self.p, self._algorithm, self._key, self.name, step, -1 if rank is None else rank)

    def __setstate__(self, state: Any) -> None:
        super().__setstate__(state)
        _patch.steps.install()

    def extra_repr(self) -> str:
        return f"p={self.p}, seed={self.seed!r}, name={self.name!r}"


def _sample_forward(module: Dropout, x: torch.Tensor, scope: Optional[_patch._Scope]) -> torch.Tensor:
    """Per-sample keys (``sample_keys``): the ``k``-th call of the pass uses
    ``sample_dropout`` with ``Generator(seed).child(name, step, k)``."""
    if scope is None:  # forward() called without its hooks: a pass of its own
        keys = _patch.active_sample_keys()
        assert keys is not None
        (step, offset), k = keys, 0
        with torch.no_grad():
            module.step.add_(1)
    else:
        scope.module_step(module)  # the call still counts in `step`
        k = scope.module_call(module)
        step, keys_offset = scope.counts.step, scope.counts.sample_offset
        assert keys_offset is not None
        offset = keys_offset
    if module.p == 0.0:
        return x
    root = Stream.from_key(module._algorithm, bytes.fromhex(module._key), 0)
    g = Generator.from_stream(root.child([module.name, step, k]))
    return sample_dropout(x, module.p, generator=g, sample_offset=offset)


def _forward_eagerly(module: Dropout, x: torch.Tensor) -> torch.Tensor:
    return module._draw(x, _patch.steps.scope())


# Under torch.compile while per-sample keys are set: the call runs eagerly (a graph break),
# where the hooks keep the counters, so it draws what eager mode draws.
_eager_forward = torch._dynamo.disable(_forward_eagerly)


def _keep_step_when_absent(module: Dropout, state_dict: Any, prefix: str, *rest: Any) -> None:
    _patch.steps.forget_chain()  # the steps may move
    state_dict.setdefault(prefix + "step", module.step.clone())
