"""``audit``: run a training step twice from one state and report the randomness that does
not come from seedstream and the first place where the two runs part."""

from __future__ import annotations

import copy
import dataclasses
import os
import random
import sys
import types
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_THIS_FILE = os.path.abspath(__file__)

TORCH_RNG = "torch global RNG"
NUMPY_RNG = "numpy global RNG"
PYTHON_RNG = "python global RNG"
DIFFERS = "differs between runs"

_FIX_DROPOUT = "replace with seedstream.torch.Dropout, or call seedstream.torch.patch_dropout(model, seed=...)"
_FIX_SDPA = "call seedstream.torch.patch_dropout(model, seed=...), which routes attention dropout_p through seedstream"
_FIX_LOADER = (
    "sample with seedstream.torch.ShuffleSampler, or pass "
    "DataLoader(generator=seedstream.torch.loader_generator(seed, epoch))"
)
_FIX_TORCH = (
    "pass generator=: draw with seedstream.torch.rand/randn/randint/randperm/normal/bernoulli"
    "(..., generator=g.child(<what the draw is for>))"
)
_FIX_NUMPY = (
    "draw from a seedstream stream keyed by what the draw is for, e.g. numpy.random.Generator("
    "seedstream.Generator(seed).child('data', index).bit_generator())"
)
_FIX_PYTHON = "draw from a seedstream stream keyed by what the draw is for, e.g. seedstream.Generator(seed).child('data', index)"
_FIX_MODULE = (
    "the module's output depends on something outside the step's state: an unseeded generator "
    "(np.random.default_rng(), os.urandom), the clock, or a nondeterministic kernel: "
    "torch.use_deterministic_algorithms(True)"
)
_FIX_INPUTS = (
    "the module's inputs already differ: the data or state fed to the model changes between runs "
    "(data order, unseeded augmentation, a counter kept outside the step)"
)
_FIX_KERNEL = "a nondeterministic kernel (atomics, split reductions): torch.use_deterministic_algorithms(True)"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One row of an :class:`AuditReport`.

    ``module`` is the qualified name of the module running at the time ("" for the model
    itself, None outside the model); ``call`` the function that drew or the value that
    differs; ``site`` the first frame outside torch ("file.py:12 in forward"); ``count``
    how often it happened in one step; ``fix`` what to do about it.
    """

    kind: str
    module: Optional[str]
    call: str
    site: str
    count: int
    detail: str
    fix: str
    max_diff: Optional[float] = None


class AuditReport:
    """What :func:`audit` found, ordered by execution. ``str(report)`` is a table;
    :meth:`to_dict` a plain dict; ``report.clean`` is True when nothing was found."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings: List[Finding] = list(findings)

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_dict(self) -> Dict[str, Any]:
        return {"clean": self.clean, "findings": [dataclasses.asdict(f) for f in self.findings]}

    def __str__(self) -> str:
        if self.clean:
            return "seedstream audit: nothing found (two runs of the step agree; no global RNG was used)"
        lines = [f"seedstream audit: {len(self.findings)} finding(s), in execution order"]
        rows = [("#", "module", "kind", "call", "site")]
        for i, f in enumerate(self.findings, 1):
            call = f.call + (f" x{f.count}" if f.count > 1 else "")
            if f.detail:
                call += f" ({f.detail})"
            rows.append((str(i), _module_label(f.module), f.kind, call, f.site))
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        for i, r in enumerate(rows):
            lines.append("  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  " + r[4])
            if i:
                lines.append(" " * (widths[0] + 2) + "-> " + self.findings[i - 1].fix)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"AuditReport({len(self.findings)} findings)"


def _module_label(name: Optional[str]) -> str:
    if name is None:
        return "(outside the model)"
    return name or "(model)"


def audit(
    model: torch.nn.Module,
    step: Callable[[], Any],
    *,
    restore: Iterable[Any] = (),
) -> AuditReport:
    """Runs ``step()`` twice from the same state and reports, in execution order:

    1. every draw from torch's global CPU/CUDA generators, NumPy's global generator
       (``np.random.rand``...) and Python's ``random`` during the step, by module and call
       site: randomness that seedstream does not control;
    2. the first module whose output (forward) or gradient (backward) differs between the
       two runs, with the largest difference, else the first parameter or buffer that
       differs after the step, else the step's return value.

    ``step`` is a zero-argument callable doing one training step (forward, backward,
    optimizer step). Before each run the parameters, buffers and gradients of ``model``,
    the ``state_dict`` of every object in ``restore`` (optimizers, LR schedulers, grad
    scalers) and the global RNG states are reset to what they were at the call; so are
    they afterwards. Anything else the step reads (an iterator, a counter, the clock) is
    not reset: a step should fetch its batch by step index and draw from streams keyed
    by it (``g.child("batch", step_index)``), not from a live iterator or a generator
    whose position moves. It keeps a copy of every
    module output and gradient of one step per run; run it on a small batch.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not callable(step):
        raise TypeError(f"step: expected a callable, got {type(step).__name__}")
    restore = list(restore)
    for obj in restore:
        if not (hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict")):
            raise TypeError(f"restore: expected objects with state_dict()/load_state_dict(), got {type(obj).__name__}")
    saved = _Snapshot(model, restore)
    runs: List[_Tracer] = []
    try:
        for _ in range(2):
            saved.restore()
            tracer = _Tracer(model)
            with tracer:
                result = step()
            tracer.result = _tensors(result)
            tracer.final = {n: t.detach().clone() for n, t in _named_state(model)}
            runs.append(tracer)
    finally:
        saved.restore()
    rows = list(runs[0].draws.values())
    first = _first_difference(runs[0], runs[1])
    if first is not None:
        rows.append(first)
    rows.sort(key=lambda r: r[0])
    return AuditReport([f for _, f in rows])


# -- state to reset between runs ---------------------------------------------------------
def _named_state(model: torch.nn.Module) -> List[Tuple[str, torch.Tensor]]:
    return list(model.named_parameters()) + [(n, b) for n, b in model.named_buffers() if b is not None]


class _Snapshot:
    """The model's tensors, the restore objects' state dicts and the global RNG states."""

    def __init__(self, model: torch.nn.Module, restore: List[Any]) -> None:
        self.slots: List[Tuple[Dict[str, Any], str, torch.Tensor, torch.Tensor, Optional[torch.Tensor]]] = []
        for mod in model.modules():
            for table in (mod._parameters, mod._buffers):
                for name, t in table.items():
                    if t is not None:
                        grad = None if t.grad is None else t.grad.detach().clone()
                        self.slots.append((table, name, t, t.detach().clone(), grad))
        self.objects = [(obj, copy.deepcopy(obj.state_dict())) for obj in restore]
        self.torch_rng = torch.get_rng_state()
        self.cuda_rng = torch.cuda.get_rng_state_all() if _cuda_live() else None
        self.numpy_rng = np.random.get_state()
        self.python_rng = random.getstate()

    def restore(self) -> None:
        with torch.no_grad():
            for table, name, t, value, grad in self.slots:
                table[name] = t  # a step may have replaced the tensor object
                t.copy_(value)
                t.grad = None if grad is None else grad.clone()
        for obj, state in self.objects:
            obj.load_state_dict(copy.deepcopy(state))
        torch.set_rng_state(self.torch_rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)
        np.random.set_state(self.numpy_rng)
        random.setstate(self.python_rng)


def _cuda_live() -> bool:
    # No CUDA generator can have drawn before CUDA is initialised (cheap: no device query).
    return torch.cuda.is_initialized()


def _torch_rng_fingerprint() -> Tuple[bytes, ...]:
    states = [torch.default_generator.get_state()]
    if _cuda_live():
        states += [g.get_state() for g in torch.cuda.default_generators]
    return tuple(s.numpy().tobytes() for s in states)


def _numpy_rng_fingerprint() -> Any:
    state: Any = np.random.get_state()
    _, key, pos, has_gauss, gauss = state
    return key.tobytes(), pos, has_gauss, gauss


# -- one traced run ------------------------------------------------------------------------
def _tensors(value: Any) -> List[torch.Tensor]:
    leaves, _ = tree_flatten(value)
    return [t.detach().clone() for t in leaves if isinstance(t, torch.Tensor)]


def _site(frame: Optional[types.FrameType], skip: Tuple[str, ...] = ()) -> Tuple[str, bool]:
    """The first frame outside torch, this file and ``skip``; and whether a frame on the
    way was torch's data loading code."""
    loader = False
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(_TORCH_DIR):
            loader = loader or os.path.join("torch", "utils", "data") in path
        elif os.path.abspath(path) != _THIS_FILE and not path.startswith(skip):
            return f"{os.path.basename(path)}:{frame.f_lineno} in {frame.f_code.co_name}", loader
        frame = frame.f_back
    return "", loader


def _forward_site(module: torch.nn.Module) -> str:
    """Where the module's forward is defined: the place to look when its output differs."""
    code = getattr(type(module).forward, "__code__", None)
    if code is None or code.co_filename.startswith(_TORCH_DIR):
        return ""
    return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno} in {type(module).__qualname__}.forward"


def _torch_call_name(func: Any) -> str:
    qual = str(getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func)))
    owner, _, name = qual.rpartition(".")
    if owner in ("TensorBase", "Tensor"):
        return f"Tensor.{name}"
    module = getattr(func, "__module__", None) or ""
    if module.startswith("torch.nn.functional") or module.startswith("torch._C._nn"):
        return f"torch.nn.functional.{name}"
    return f"torch.{name}"


def _dropout_detail(name: str, args: Sequence[Any], kwargs: Dict[str, Any]) -> str:
    if "scaled_dot_product_attention" in name:
        p = kwargs.get("dropout_p", args[4] if len(args) > 4 else 0.0)
        return f"dropout_p={p}"
    if "dropout" in name:
        p = kwargs.get("p", args[1] if len(args) > 1 else 0.5)
        return f"p={p}"
    return ""


def _torch_fix(name: str, loader: bool) -> str:
    if "scaled_dot_product_attention" in name or "multi_head_attention" in name:
        return _FIX_SDPA
    if "dropout" in name:
        return _FIX_DROPOUT
    return _FIX_LOADER if loader else _FIX_TORCH


class _Mode(TorchFunctionMode):
    def __init__(self, tracer: "_Tracer") -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        tr = self.tracer
        if tr.busy:
            return func(*args, **kwargs)
        tr.check_torch()
        out = func(*args, **kwargs)
        now = _torch_rng_fingerprint()
        if now != tr.torch_state:
            tr.torch_state = now
            name = _torch_call_name(func)
            site, loader = _site(sys._getframe(1))
            tr.note(TORCH_RNG, name, site, _dropout_detail(name, args, kwargs), _torch_fix(name, loader))
        return out


class _Tracer:
    """Hooks, a torch function mode and wrapped NumPy/Python global draws for one run."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.stack: List[str] = []
        self.order = 0
        self.draws: Dict[Tuple[str, Optional[str], str, str], Tuple[int, Finding]] = {}
        # label -> list of (order, tensors); labels repeat when a module runs twice
        self.forward: Dict[str, List[Tuple[int, List[torch.Tensor], List[torch.Tensor]]]] = {}
        self.backward: Dict[str, List[Tuple[int, torch.Tensor]]] = {}
        self.calls: Dict[str, int] = {}
        self.sites: Dict[str, str] = {}
        self.result: List[torch.Tensor] = []
        self.final: Dict[str, torch.Tensor] = {}
        self.handles: List[Any] = []
        self.patched: List[Tuple[Any, str, Any]] = []
        # Set while the audit's own hooks run, so that their tensor calls pass the mode.
        self.busy = False
        self.inputs: List[List[torch.Tensor]] = []
        self.torch_state: Tuple[bytes, ...] = ()
        self.numpy_state: Any = None
        self.python_state: Any = None

    # bookkeeping
    def tick(self) -> int:
        self.order += 1
        return self.order

    def note(self, kind: str, call: str, site: str, detail: str, fix: str) -> None:
        module = self.stack[-1] if self.stack else None
        key = (kind, module, call, site)
        if key in self.draws:
            order, f = self.draws[key]
            self.draws[key] = (order, dataclasses.replace(f, count=f.count + 1))
        else:
            self.draws[key] = (self.tick(), Finding(kind, module, call, site, 1, detail, fix))

    def check_torch(self) -> None:
        now = _torch_rng_fingerprint()
        if now != self.torch_state:
            self.torch_state = now
            self.note(TORCH_RNG, "(a call not seen by the audit)", "", "", _FIX_TORCH)

    def check_all(self) -> None:
        """Catches global draws made without a traced call (names imported before the audit,
        C extensions), attributed to the running module."""
        self.check_torch()
        now = _numpy_rng_fingerprint()
        if now != self.numpy_state:
            self.numpy_state = now
            self.note(NUMPY_RNG, "(a call not seen by the audit)", "", "", _FIX_NUMPY)
        now = random.getstate()
        if now != self.python_state:
            self.python_state = now
            self.note(PYTHON_RNG, "(a call not seen by the audit)", "", "", _FIX_PYTHON)

    # module hooks
    def pre_hook(self, name: str) -> Callable[..., None]:
        def hook(module: torch.nn.Module, args: Any) -> None:
            self.busy = True
            self.check_all()
            self.stack.append(name)
            self.inputs.append(_tensors(args))
            self.busy = False

        return hook

    def post_hook(self, name: str) -> Callable[..., None]:
        def hook(module: torch.nn.Module, args: Any, output: Any) -> None:
            self.busy = True
            self.check_all()
            self.stack.pop()
            k = self.calls[name] = self.calls.get(name, 0) + 1
            if k == 1:
                self.sites[name] = _forward_site(module)
            label = _module_label(name) + (f" (call {k})" if k > 1 else "")
            self.forward.setdefault(label, []).append((self.tick(), self.inputs.pop(), _tensors(output)))
            leaves, _ = tree_flatten(output)
            for i, t in enumerate(x for x in leaves if isinstance(x, torch.Tensor)):
                if t.requires_grad:
                    t.register_hook(self.grad_hook(f"{label} output[{i}]"))
            self.busy = False

        return hook

    def grad_hook(self, label: str) -> Callable[[torch.Tensor], None]:
        def hook(grad: torch.Tensor) -> None:
            busy, self.busy = self.busy, True
            self.backward.setdefault(label, []).append((self.tick(), grad.detach().clone()))
            self.busy = busy

        return hook

    # global draws through module attributes, with their call site
    def wrap(self, namespace: Any, owner: Any, kind: str, prefix: str, skip: Tuple[str, ...], fix: str) -> None:
        for attr in dir(namespace):
            fn = getattr(namespace, attr)
            if attr.startswith("_") or getattr(fn, "__self__", None) is not owner or not callable(fn):
                continue
            if attr in ("seed", "getstate", "setstate", "get_state", "set_state", "get_bit_generator",
                        "set_bit_generator"):
                continue
            self.patched.append((namespace, attr, fn))
            setattr(namespace, attr, self.global_draw(fn, kind, prefix + attr, skip, fix))

    def global_draw(self, fn: Any, kind: str, call: str, skip: Tuple[str, ...], fix: str) -> Any:
        def draw(*args: Any, **kwargs: Any) -> Any:
            busy, self.busy = self.busy, True
            self.check_all()
            out = fn(*args, **kwargs)
            self.numpy_state = _numpy_rng_fingerprint()
            self.python_state = random.getstate()
            self.note(kind, call, _site(sys._getframe(1), skip)[0], "", fix)
            self.busy = busy
            return out

        return draw

    def __enter__(self) -> "_Tracer":
        self.torch_state = _torch_rng_fingerprint()
        self.numpy_state = _numpy_rng_fingerprint()
        self.python_state = random.getstate()
        seen = set()
        for name, mod in self.model.named_modules():
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            self.handles.append(mod.register_forward_pre_hook(self.pre_hook(name)))
            self.handles.append(mod.register_forward_hook(self.post_hook(name)))
        for name, p in self.model.named_parameters():
            if p.requires_grad:
                self.handles.append(p.register_hook(self.grad_hook(f"{name} gradient")))
        numpy_dir = os.path.dirname(np.__file__) + os.sep
        random_file = os.path.abspath(random.__file__)
        self.wrap(np.random, np.random.mtrand._rand, NUMPY_RNG, "numpy.random.", (numpy_dir,), _FIX_NUMPY)
        self.wrap(random, random._inst, PYTHON_RNG, "random.", (random_file,), _FIX_PYTHON)  # type: ignore[attr-defined]
        self.mode = _Mode(self)
        self.mode.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.mode.__exit__(*exc)
        for namespace, attr, fn in reversed(self.patched):
            setattr(namespace, attr, fn)
        for h in self.handles:
            h.remove()
        self.stack.clear()
        self.check_all()


# -- comparing the two runs -------------------------------------------------------------------
def _max_diff(a: List[torch.Tensor], b: List[torch.Tensor]) -> Optional[float]:
    """The largest absolute difference between two lists of tensors; None when equal
    (NaN equals NaN here: a NaN in both runs is reproducible)."""
    if len(a) != len(b):
        return float("inf")
    worst: Optional[float] = None
    for x, y in zip(a, b):
        if x.shape != y.shape or x.dtype != y.dtype:
            return float("inf")
        if x.is_complex():
            x, y = torch.view_as_real(x), torch.view_as_real(y)
        x64, y64 = x.double(), y.double()
        nan = x64.isnan()
        differ = (x64 != y64) & ~(nan & y64.isnan())
        if bool(differ.any()):
            d = float((x64 - y64).abs()[differ].max())
            d = float("nan") if d != d else d
            worst = d if worst is None or not d <= worst else worst
    return worst


def _owner(param_name: str) -> str:
    return param_name.rpartition(".")[0]


def _first_difference(one: _Tracer, two: _Tracer) -> Optional[Tuple[int, Finding]]:
    events: List[Tuple[int, str, str, int]] = []  # (order, table, label, occurrence)
    tables: Dict[str, Dict[str, List[Any]]] = {"forward": one.forward, "backward": one.backward}  # type: ignore[dict-item]
    for table, records in tables.items():
        for label, calls in records.items():
            events += [(int(c[0]), table, label, i) for i, c in enumerate(calls)]
    events.sort()
    for order, table, label, i in events:
        other: List[Any] = (two.forward if table == "forward" else two.backward).get(label, [])
        if i >= len(other):
            return order, Finding(DIFFERS, _label_module(label), label, "", 1,
                                  "ran in the first run only", _FIX_INPUTS)
        if table == "forward":
            _, in1, out1 = one.forward[label][i]
            _, in2, out2 = other[i]
            d = _max_diff(out1, out2)
            if d is not None:
                inputs_differ = _max_diff(in1, in2) is not None
                detail = f"output max |diff| {d:.3g}" + ("; its inputs differ too" if inputs_differ else "; inputs equal")
                module = _label_module(label)
                site = one.sites.get(module or "", "")
                return order, Finding(DIFFERS, module, "forward output", site, 1, detail,
                                      _FIX_INPUTS if inputs_differ else _FIX_MODULE, d)
        else:
            d = _max_diff([one.backward[label][i][1]], [other[i][1]])
            if d is not None:
                if label.endswith(" gradient"):
                    param = label[: -len(" gradient")]
                    module, call = _owner(param), f"gradient of {param}"
                else:
                    module, call = _label_module(label) or "", "gradient of " + label.rpartition(" ")[2]
                return order, Finding(DIFFERS, module, call, "", 1, f"max |diff| {d:.3g}", _FIX_KERNEL, d)
    end = one.order + 1
    for name, value in one.final.items():
        d = _max_diff([value], [two.final[name]]) if name in two.final else float("inf")
        if d is not None:
            return end, Finding(DIFFERS, _owner(name), f"{name} after the step", "", 1,
                                f"max |diff| {d:.3g}", _FIX_KERNEL, d)
    d = _max_diff(one.result, two.result)
    if d is not None:
        return end, Finding(DIFFERS, None, "step() return value", "", 1, f"max |diff| {d:.3g}", _FIX_INPUTS, d)
    return None


def _label_module(label: str) -> Optional[str]:
    name = label.split(" (call ")[0].split(" output[")[0]
    return "" if name == "(model)" else name


# -- python -m seedstream audit ----------------------------------------------------------------
def main(argv: Optional[List[str]] = None) -> int:
    """``python -m seedstream audit SCRIPT``: runs SCRIPT (its ``__main__`` block is skipped),
    audits its ``model`` and ``step`` (resetting ``optimizer`` if defined), prints the
    report; exit status 1 when something was found."""
    import argparse
    import json
    import runpy

    parser = argparse.ArgumentParser(
        prog="python -m seedstream audit",
        description="Runs a training step of SCRIPT twice from the same state and reports the "
        "randomness seedstream does not control and the first module whose results differ.")
    parser.add_argument("script", help="a Python file defining a model and a zero-argument step function")
    parser.add_argument("--model", default="model", help="name of the nn.Module in SCRIPT (default: model)")
    parser.add_argument("--step", default="step", help="name of the step function in SCRIPT (default: step)")
    parser.add_argument("--restore", nargs="*", default=None, metavar="NAME",
                        help="objects with state_dict() reset before each run (default: optimizer, if defined)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
    names = runpy.run_path(args.script, run_name="__seedstream_audit__")
    restore_names = args.restore if args.restore is not None else [n for n in ("optimizer",) if n in names]
    for name in [args.model, args.step, *restore_names]:
        if name not in names:
            parser.error(f"{args.script} defines no {name!r}")
    report = audit(names[args.model], names[args.step], restore=[names[n] for n in restore_names])
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return 0 if report.clean else 1
