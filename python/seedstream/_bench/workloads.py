"""The workloads: for each, how seedstream, NumPy, torch and the memory-fill reference
produce one case's output, and the table `--only` picks from."""

from __future__ import annotations

import collections
import concurrent.futures
import functools
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

import seedstream as ss

from seedstream._bench.harness import NUMPY_BITGENS, Built, Case, Contender, Workload
from seedstream._bench.machine import Env
from seedstream._bench.units import fmt_size

SEED = 42
INT_HIGH = 1000
BERNOULLI_P = 0.5
DROPOUT_P = 0.1
TRUNC = {"loc": 0.0, "scale": 1.0, "a": -2.0, "b": 2.0}  # torch.nn.init.trunc_normal_'s defaults
SAMPLER_MAX_SIZE = 10_000_000  # Python-level iteration: 1e8 would take minutes and GBs of ints

Reset = Optional[Callable[[], None]]


def _itemsize(variant: str) -> int:
    return np.dtype(variant).itemsize


def _torch_dtype(env: Env, variant: str) -> Any:
    return getattr(env.torch, variant)


def _into(f: Callable[..., object], out: Any, device: str, *args: Any, **kwargs: Any) -> object:
    """`f(*args, out=out)` into the preallocated output, or a fresh output on `device`."""
    if out is not None:
        return f(*args, out=out, **kwargs)
    return f(*args, device=device, **kwargs)


def _fill_contenders(env: Env, nbytes: int, keep: List[Any]) -> List[Contender]:
    """`ndarray.fill` of a byte buffer of the output's size: the memory-fill rate, at one
    thread and at the most seedstream threads. At t threads, t pool threads each fill one
    contiguous slice (`ndarray.fill` releases the GIL)."""
    # Written once, so page faults are not timed (np.zeros would map untouched zero pages).
    buf = np.empty(max(nbytes, 1), np.uint8)
    buf.fill(0)
    keep.append(buf)
    out = [Contender("fill", "out=", lambda: buf.fill(1))]
    if env.max_ss > 1:
        pool = concurrent.futures.ThreadPoolExecutor(env.max_ss)
        keep.append(pool)
        parts = np.array_split(buf, env.max_ss)

        def fill_parallel() -> None:
            for f in [pool.submit(p.fill, 1) for p in parts]:
                f.result()

        out.append(Contender("fill", "out=", fill_parallel, threads=env.max_ss))
    return out


def _ss_threads(env: Env, make: Callable[[], Tuple[Callable[[], object], Reset]], output: str) -> List[Contender]:
    out = []
    for t in env.ss_threads:
        fn, reset = make()
        out.append(Contender("seedstream", output, fn, threads=t, reset=reset))
    return out


def _torch_threads(env: Env, fn: Callable[[], object], output: str, reset: Reset = None) -> List[Contender]:
    return [Contender("torch", output, fn, threads=t, reset=reset) for t in env.torch_threads]


def _cuda_pair(env: Env, output: str, torch_fn: Callable[[], object],
               ss_fn: Optional[Callable[[], object]], reset: Reset = None) -> List[Contender]:
    """torch's CUDA generator and seedstream writing CUDA tensors, all CPU threads allowed
    (seedstream's kernels run on the GPU; randperm is computed on the CPU and copied)."""
    out = [Contender("torch-cuda", output, torch_fn, threads=env.cores, device="cuda", reset=reset)]
    if ss_fn is not None:
        out.append(Contender("seedstream-cuda", output, ss_fn, threads=env.cores, device="cuda",
                             reset=reset))
    return out


def _numpy_rngs() -> List[Tuple[str, np.random.Generator]]:
    return [(f"numpy-{b}", np.random.Generator(getattr(np.random, b)(SEED))) for b in NUMPY_BITGENS]


def _elementwise(env: Env, case: Case, ss_call: Callable[..., object],
                 np_call: Optional[Callable[..., object]], torch_call: Optional[Callable[..., object]],
                 ss_cuda_call: Optional[Callable[..., object]], outputs: Sequence[str],
                 np_outputs: Sequence[str], scratch_bytes: Optional[int] = None) -> Built:
    """Contenders for a draw into an n-element array, preallocated (`out=`) and/or fresh.

    Each *_call takes (generator, n, out) with out None for a fresh output; the out= buffer
    is one NumPy array, which the torch contenders see through torch.from_numpy.
    """
    n, dt = case.size, np.dtype(case.variant)
    keep: List[Any] = []
    out_buf = None
    if "out=" in outputs:
        out_buf = np.empty(n, dt)
        out_buf.fill(0)  # written once, so no contender pays the first touch of its pages
    keep.append(out_buf)
    contenders: List[Contender] = []
    for output in outputs:
        buf = out_buf if output == "out=" else None

        def make_ss(buf: Optional[np.ndarray] = buf) -> Tuple[Callable[[], object], None]:
            g = ss.Generator(SEED)
            return (lambda: ss_call(g, n, buf)), None

        contenders += _ss_threads(env, make_ss, output)
        if np_call is not None and output in np_outputs:
            for impl, rng in _numpy_rngs():
                contenders.append(Contender(impl, output, functools.partial(np_call, rng, n, buf)))
        if env.torch is not None and torch_call is not None:
            tg = env.torch.Generator().manual_seed(SEED)
            tbuf = env.torch.from_numpy(buf) if buf is not None else None
            contenders += _torch_threads(env, functools.partial(torch_call, tg, n, tbuf, "cpu"), output)
        if env.cuda and torch_call is not None:
            cbuf = env.torch.zeros(n, dtype=_torch_dtype(env, dt.name), device="cuda") if buf is not None else None
            keep.append(cbuf)
            tg = env.torch.Generator(device="cuda").manual_seed(SEED)
            sg = ss.Generator(SEED)
            ss_fn = (functools.partial(ss_cuda_call, sg, n, cbuf)
                     if ss_cuda_call is not None and env.sst is not None else None)
            contenders += _cuda_pair(env, output, functools.partial(torch_call, tg, n, cbuf, "cuda"), ss_fn)
    nbytes = n * dt.itemsize
    built = Built(contenders, n, nbytes, {"out=": 0, "fresh": nbytes}, keep=keep,
                  scratch_bytes=nbytes if scratch_bytes is None else scratch_bytes)
    contenders += _fill_contenders(env, nbytes, keep)
    if env.cuda:
        cfill = env.torch.zeros(max(nbytes, 1), dtype=env.torch.uint8, device="cuda")
        keep.append(cfill)
        contenders.append(Contender("fill-cuda", "out=", lambda: cfill.fill_(1), device="cuda"))
    return built


# -- random, standard_normal ------------------------------------------------------------
def _float_draw(method: str, torch_name: str) -> Callable[[Env, Case], Built]:
    """A float draw that seedstream and NumPy both call `method(n, dtype, out=)`, and torch
    and seedstream.torch `torch_name(n, dtype, out=)`."""

    def build(env: Env, case: Case) -> Built:
        dt: Any = case.variant
        ss_method, np_method = getattr(ss.Generator, method), getattr(np.random.Generator, method)

        def td() -> Any:
            return _torch_dtype(env, dt)

        return _elementwise(
            env, case,
            lambda g, n, out: ss_method(g, n, dtype=dt, out=out),
            lambda rng, n, out: np_method(rng, n, dtype=dt, out=out),
            lambda g, n, out, device: _into(getattr(env.torch, torch_name), out, device, n, dtype=td(), generator=g),
            lambda g, n, out: _into(getattr(env.sst, torch_name), out, "cuda", n, generator=g, dtype=td()),
            ("out=", "fresh"), ("out=", "fresh"))

    return build


# -- truncated normal -------------------------------------------------------------------
def _build_truncated_normal(env: Env, case: Case) -> Built:
    loc, scale, a, b = TRUNC["loc"], TRUNC["scale"], TRUNC["a"], TRUNC["b"]
    return _elementwise(
        env, case,
        lambda g, n, out: g.truncated_normal(size=n, dtype=case.variant, out=out, **TRUNC),
        None,
        # trunc_normal_ only fills a given tensor; it has no generator argument before torch
        # 2.5, so it draws from the default generator (the cost is the same).
        lambda g, n, out, device: env.torch.nn.init.trunc_normal_(out, mean=loc, std=scale, a=a, b=b),
        lambda g, n, out: env.sst.init.trunc_normal_(out, loc, scale, a, b, generator=g),
        ("out=",), ())


# -- integers ---------------------------------------------------------------------------
def _build_integers(env: Env, case: Case) -> Built:
    return _elementwise(
        env, case,
        lambda g, n, out: g.integers(0, INT_HIGH, size=n, dtype=np.int64, out=out),
        lambda rng, n, out: rng.integers(0, INT_HIGH, size=n, dtype=np.int64),  # NumPy has no out= here
        lambda g, n, out, device: _into(env.torch.randint, out, device, 0, INT_HIGH, (n,), generator=g),  # int64
        lambda g, n, out: _into(env.sst.randint, out, "cuda", 0, INT_HIGH, (n,), generator=g),
        ("out=", "fresh"), ("fresh",))


# -- bernoulli --------------------------------------------------------------------------
def _build_bernoulli(env: Env, case: Case) -> Built:
    def torch_call(g: Any, n: int, out: Any, device: str) -> object:
        # Tensor.bernoulli_(p) writes a bool tensor in place, as seedstream does; fresh
        # outputs are an empty bool tensor filled the same way.
        if out is None:
            out = env.torch.empty(n, dtype=env.torch.bool, device=device)
        return out.bernoulli_(BERNOULLI_P, generator=g)

    return _elementwise(
        env, case,
        lambda g, n, out: g.bernoulli(BERNOULLI_P, size=n, out=out),
        lambda rng, n, out: rng.random(n) < BERNOULLI_P,  # NumPy's idiom; it makes a float64 temporary
        torch_call,
        lambda g, n, out: _into(env.sst.bernoulli, out, "cuda", BERNOULLI_P, n, generator=g),
        ("out=", "fresh"), ("fresh",), scratch_bytes=9 * case.size)  # NumPy: a float64 temporary, then the bools


# -- permutation ------------------------------------------------------------------------
def _build_permutation(env: Env, case: Case) -> Built:
    # Fresh outputs only: NumPy has no out= here, a shuffle's cost is its random memory
    # access rather than the allocation, and out= rows would double the longest case of the run.
    return _elementwise(
        env, case,
        lambda g, n, out: g.permutation(n, out=out),
        lambda rng, n, out: rng.permutation(n),
        lambda g, n, out, device: _into(env.torch.randperm, out, device, n, generator=g),
        lambda g, n, out: _into(env.sst.randperm, out, "cuda", n, generator=g),
        ("fresh",), ("fresh",))


# -- dropout forward + backward ---------------------------------------------------------
def _build_dropout(env: Env, case: Case) -> Built:
    torch, sst, n = env.torch, env.sst, case.size
    F = torch.nn.functional
    keep: List[Any] = []
    contenders: List[Contender] = []

    def pair(device: str) -> Tuple[Any, Any]:
        x = torch.ones(n, dtype=torch.float32, device=device, requires_grad=True)
        ones = torch.ones(n, dtype=torch.float32, device=device)
        keep.extend((x, ones))
        return x, ones

    def step(x: Any, ones: Any, drop: Callable[[Any], Any]) -> object:
        # The gradient of the last call is dropped first, so each call allocates the output
        # and x.grad anew, as a training step does.
        x.grad = None
        y = drop(x)
        y.backward(ones)
        return y

    x, ones = pair("cpu")

    def clear(x: Any = x) -> None:
        x.grad = None

    def make_ss() -> Tuple[Callable[[], object], Callable[[], None]]:
        g = ss.Generator(SEED)
        return (lambda: step(x, ones, lambda t: sst.functional.dropout(t, DROPOUT_P, generator=g))), clear

    contenders += _ss_threads(env, make_ss, "fresh")
    contenders += _torch_threads(env, lambda: step(x, ones, lambda t: F.dropout(t, DROPOUT_P, training=True)),
                                 "fresh", reset=clear)
    if env.cuda:
        cx, cones = pair("cuda")
        cg = ss.Generator(SEED)
        contenders += _cuda_pair(
            env, "fresh",
            lambda: step(cx, cones, lambda t: F.dropout(t, DROPOUT_P, training=True)),
            lambda: step(cx, cones, lambda t: sst.functional.dropout(t, DROPOUT_P, generator=cg)),
            reset=lambda: setattr(cx, "grad", None))
    nbytes = 2 * n * 4  # the forward output and the input's gradient
    contenders += _fill_contenders(env, nbytes, keep)
    # torch keeps a float mask for backward next to the output and the gradient.
    return Built(contenders, n, nbytes, {"fresh": nbytes}, keep=keep, scratch_bytes=3 * n * 4)


# -- ShuffleSampler iteration -----------------------------------------------------------
def _build_sampler(env: Env, case: Case) -> Built:
    torch, sst, n = env.torch, env.sst, case.size

    def drain(it: Any) -> None:
        collections.deque(it, maxlen=0)  # consumes at C speed: only the sampler is timed

    def make_ss() -> Tuple[Callable[[], object], None]:
        sampler = sst.ShuffleSampler(n, seed=SEED)
        return (lambda: drain(iter(sampler))), None

    # RandomSampler is what DataLoader(shuffle=True) uses: it iterates randperm(n).tolist().
    rs = torch.utils.data.RandomSampler(range(n), generator=torch.Generator().manual_seed(SEED))
    contenders = _ss_threads(env, make_ss, "iterate")
    contenders += _torch_threads(env, lambda: drain(iter(rs)), "iterate")
    return Built(contenders, n, 8 * n, {"iterate": 0}, fill=False)


def _sampler_sizes(sizes: List[int], quick: bool) -> Tuple[List[int], Optional[str]]:
    kept = [s for s in sizes if s <= SAMPLER_MAX_SIZE]
    if len(kept) < len(sizes):
        return kept, (f"sampler: sizes above {fmt_size(SAMPLER_MAX_SIZE)} are skipped "
                      "(Python-level iteration; RandomSampler would hold a list of every index)")
    return kept, None


# -- init_module ------------------------------------------------------------------------
def _model(torch: Any, params: int) -> Any:
    """A stack of TransformerEncoderLayers (attention, feed-forward, LayerNorm) with about
    `params` parameters: 12 d^2 + 13 d per layer."""
    d = 1024 if params >= 50_000_000 else 512 if params >= 10_000_000 else 256 if params >= 3_000_000 else 128
    per_layer = 12 * d * d + 13 * d
    layers = max(1, round(params / per_layer))
    return torch.nn.Sequential(*[
        torch.nn.TransformerEncoderLayer(d, max(1, d // 64), 4 * d, batch_first=True)
        for _ in range(layers)
    ])


def _torch_default_init(model: Any) -> Callable[[], None]:
    """Every module's own init, as at construction: reset_parameters(), or
    MultiheadAttention's private _reset_parameters() for its packed in-projection."""
    inits = []
    for m in model.modules():
        f = getattr(m, "reset_parameters", None) or getattr(m, "_reset_parameters", None)
        if f is not None:
            inits.append(f)

    def run() -> None:
        for f in inits:
            f()

    return run


def _build_init_module(env: Env, case: Case) -> Built:
    torch, sst = env.torch, env.sst
    model = _model(torch, case.size)
    tensors = list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]
    elements = sum(t.numel() for t in tensors)
    nbytes = sum(t.numel() * t.element_size() for t in tensors)
    keep: List[Any] = [model]

    def make_ss() -> Tuple[Callable[[], object], None]:
        return (lambda: sst.init_module(model, seed=SEED)), None

    contenders = _ss_threads(env, make_ss, "in-place")
    contenders += _torch_threads(env, _torch_default_init(model), "in-place")
    if env.cuda:
        cmodel = _model(torch, case.size).to("cuda")
        keep.append(cmodel)
        contenders += _cuda_pair(env, "in-place", _torch_default_init(cmodel),
                                 lambda: sst.init_module(cmodel, seed=SEED))
    contenders += _fill_contenders(env, nbytes, keep)
    return Built(contenders, elements, nbytes, {"in-place": 0}, keep=keep)


def _init_sizes(sizes: List[int], quick: bool) -> Tuple[List[int], Optional[str]]:
    kept = [s for s in sizes if s >= 1_000_000]
    return kept, ("init_module: sizes are parameter counts; sizes below 1e6 are skipped"
                  if len(kept) < len(sizes) else None)


# -- availability -----------------------------------------------------------------------
def _always(env: Env) -> Optional[str]:
    return None


def _needs_torch(env: Env) -> Optional[str]:
    return None if env.sst is not None else "needs torch and seedstream.torch"


WORKLOADS = [
    Workload("random", "random", ["float32", "float64"], _float_draw("random", "rand"),
             lambda n, v: 4 * n * _itemsize(v), _always),
    Workload("normal", "standard_normal", ["float32", "float64"], _float_draw("standard_normal", "randn"),
             lambda n, v: 4 * n * _itemsize(v), _always),
    Workload("truncated_normal", "truncated_normal [-2, 2]", ["float32"], _build_truncated_normal,
             lambda n, v: 3 * n * _itemsize(v), _always),
    Workload("integers", f"integers [0, {INT_HIGH})", ["int64"], _build_integers,
             lambda n, v: 4 * n * 8, _always),
    Workload("bernoulli", f"bernoulli p={BERNOULLI_P}", ["bool"], _build_bernoulli,
             lambda n, v: 12 * n, _always),
    Workload("permutation", "permutation", ["int64"], _build_permutation,
             lambda n, v: 4 * n * 8, _always),
    Workload("dropout", f"dropout p={DROPOUT_P} fwd+bwd", ["float32"], _build_dropout,
             lambda n, v: 8 * n * 4, _needs_torch),
    Workload("sampler", "ShuffleSampler iteration", [""], _build_sampler,
             lambda n, v: 60 * n, _needs_torch, _sampler_sizes),
    Workload("init_module", "init_module", ["float32"], _build_init_module,
             lambda n, v: 4 * n * 4, _needs_torch, _init_sizes),
]
WORKLOAD_NAMES = [w.name for w in WORKLOADS]
