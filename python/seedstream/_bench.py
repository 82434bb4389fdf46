"""`python -m seedstream bench`: seedstream against NumPy's and PyTorch's generators.

A benchmark, not a test: it measures and reports, and never decides pass or fail.

    python -m seedstream bench                 # sizes 1e3 ... 1e8, every workload
    python -m seedstream bench --quick         # sizes 1e3 and 1e6, fewer and shorter repeats
    python -m seedstream bench --sizes 1e7 --only random,bernoulli --out /tmp/r

Method. A case is one workload at one size and dtype. Its contenders are seedstream at each
thread count, NumPy's Generator with PCG64, Philox and MT19937, torch's CPU generator with 1
thread and with every core, torch CUDA and seedstream on CUDA tensors when a GPU is present,
and ``ndarray.fill`` into a preallocated buffer of the output's byte size (this machine's
memory-fill bandwidth). Preallocated outputs (``out=``) are one buffer shared by every
contender, so all write to the same memory. Each contender is warmed up and calibrated so
that one repeat (a loop of calls) lasts about ``--target-ms``; the repeats then go
round-robin over the contenders, so a change in machine load hits all of them alike, and
the reported time is the median per-call time. Peak memory is sampled from
/proc/self/statm in a background thread during one more call per contender.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import datetime
import functools
import gc
import json
import math
import os
import platform
import re
import shlex
import socket
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import seedstream as ss

SEED = 42
INT_HIGH = 1000
BERNOULLI_P = 0.5
DROPOUT_P = 0.1
TRUNC = {"loc": 0.0, "scale": 1.0, "a": -2.0, "b": 2.0}  # torch.nn.init.trunc_normal_'s defaults
NUMPY_BITGENS = ("PCG64", "Philox", "MT19937")
HEADROOM = 2.0  # a case runs only if HEADROOM x its estimated bytes fit in MemAvailable
MEMORY_MIN_SIZE = 1_000_000  # below this, allocator caches and page rounding swamp the signal
FRESH_LIMIT = 1.1  # zero copy: a fresh output's peak should be about its own size
IN_PLACE_LIMIT = 0.1  # an out=/in-place call should allocate next to nothing
# Resident memory grows in 2 MiB steps where huge pages back an allocation (NumPy asks for
# them), so each end of an allocation can add up to one huge page that is not its own.
PAGE_SLACK = 4 << 20
# glibc serves allocations above 32 MiB (its largest mmap threshold) with new mappings, so
# from there on every fresh output is new pages; below, freed memory is reused anyway.
RECYCLE_MIN_BYTES = 32 << 20
SAMPLER_MAX_SIZE = 10_000_000  # Python-level iteration: 1e8 would take minutes and GBs of ints
DEFAULT_SIZES = [10**k for k in range(3, 9)]
QUICK_SIZES = [1_000, 1_000_000]


# ---------------------------------------------------------------------------------------
# The environment: optional libraries, thread counts, machine facts
# ---------------------------------------------------------------------------------------
@dataclass
class Env:
    cores: int
    ss_threads: List[int]
    torch_threads: List[int]
    torch: Any = None  # the torch module, or None
    sst: Any = None  # seedstream.torch, or None
    cuda: bool = False
    notes: List[str] = field(default_factory=list)

    @property
    def max_ss(self) -> int:
        return max(self.ss_threads)

    @property
    def max_torch(self) -> int:
        return max(self.torch_threads)


def default_threads(cores: int) -> List[int]:
    """1, 2, 4, ... up to the core count, and the core count itself."""
    out, t = [], 1
    while t < cores:
        out.append(t)
        t *= 2
    out.append(cores)
    return out


def make_env(threads: Optional[List[int]]) -> Env:
    cores = os.cpu_count() or 1
    # One thread is always measured: every ratio in the main table is taken at one thread.
    env = Env(cores=cores, ss_threads=sorted({1, *threads}) if threads else default_threads(cores),
              torch_threads=sorted({1, cores}))
    try:
        import torch
    except ImportError:
        env.notes.append("torch is not installed: torch columns and the torch-only workloads "
                         "are skipped (pip install 'seedstream[bench]')")
        return env
    env.torch = torch
    try:
        import seedstream.torch as sst
    except ImportError as exc:
        env.notes.append(f"seedstream.torch failed to import ({exc}): its workloads are skipped")
    else:
        env.sst = sst
    env.cuda = bool(torch.cuda.is_available())
    if not env.cuda:
        env.notes.append("no CUDA device: the torch CUDA and seedstream CUDA columns are skipped")
    return env


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def mem_available() -> Optional[int]:
    """MemAvailable from /proc/meminfo in bytes, or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# ---------------------------------------------------------------------------------------
# Contenders and their timing
# ---------------------------------------------------------------------------------------
@dataclass
class Contender:
    impl: str  # "seedstream", "numpy-PCG64", "torch", "torch-cuda", "seedstream-cuda", "fill"
    output: str  # "out=", "fresh", "in-place" or "iterate"
    fn: Callable[[], object]
    threads: int = 1  # applied to both seedstream's and torch's pools before each repeat
    device: str = "cpu"
    reset: Optional[Callable[[], None]] = None  # drops state a previous call left alive
    scratch_bytes: int = 0  # memory to recycle before each timed loop (see Timer.loop)
    loops: int = 1
    times: List[float] = field(default_factory=list)
    peak_bytes: Optional[int] = None
    error: Optional[str] = None

    @property
    def key(self) -> str:
        """The column name: the implementation, plus the thread count where it is a knob."""
        if self.impl in ("seedstream", "torch"):
            return f"{self.impl} {self.threads}t"
        return self.impl

    @property
    def median(self) -> float:
        return statistics.median(self.times)


class Timer:
    """Runs contenders with the thread settings they ask for; restores them at the end."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.saved_ss = ss.get_num_threads()
        self.saved_torch = env.torch.get_num_threads() if env.torch is not None else None
        self.seconds_per_element: Dict[Tuple[Any, ...], float] = {}

    def prepare(self, c: Contender) -> None:
        ss.set_num_threads(c.threads)
        if self.env.torch is not None:
            self.env.torch.set_num_threads(c.threads)

    def restore(self) -> None:
        ss.set_num_threads(self.saved_ss)
        if self.env.torch is not None:
            self.env.torch.set_num_threads(self.saved_torch)

    def sync(self, c: Contender) -> None:
        # CUDA work is asynchronous: a loop is only over once the device is idle.
        if c.device == "cuda":
            self.env.torch.cuda.synchronize()

    def loop(self, c: Contender, loops: int) -> float:
        """Seconds per call over `loops` calls. Results are dropped at once, so at most one
        fresh output is alive at a time."""
        self.prepare(c)
        if c.scratch_bytes:
            _recycle(c.scratch_bytes)
        t0 = time.perf_counter()
        for _ in range(loops):
            c.fn()
        self.sync(c)
        return (time.perf_counter() - t0) / loops

    def calibrate(self, c: Contender, target_s: float, predicted_s: Optional[float]) -> None:
        """One warm-up call, then enough calls per repeat to last about target_s."""
        if predicted_s is not None and predicted_s >= 2 * target_s:
            # A smaller size of this case has paid the one-off costs, and one call fills a
            # repeat: no warm-up call, which at 1e8 would be the costliest part of the run.
            c.loops = 1
            return
        # The warm-up call pays one-off costs (lazy initialisation, thread-pool start-up,
        # first touch of buffers) and says nothing about the steady per-call time.
        self.loop(c, 1)
        k = 1
        while True:
            t = self.loop(c, k)
            if t * k >= target_s / 10 or k >= 100_000:
                break
            k *= 10
        c.loops = max(1, min(1_000_000, math.ceil(target_s / max(t, 1e-9))))


def _recycle(nbytes: int) -> None:
    """Allocates, writes and frees `nbytes`. In a virtual machine the first touch of memory
    the guest has not used lately costs far more than recycling pages just freed; without
    this, whichever fresh contender ran first after others had released memory would pay
    for it. A program that allocates in a loop recycles, so each timed loop starts so."""
    buf = np.empty(nbytes, np.uint8)
    buf.fill(0)
    del buf


def run_round_robin(timer: Timer, contenders: List[Contender], repeats: int, target_s: float,
                    case_key: Tuple[Any, ...], elements: int) -> None:
    """Calibrates, then times repeat by repeat over all contenders, rotating the start so no
    contender always follows the same neighbour."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for c in contenders:
            per_element = timer.seconds_per_element.get((*case_key, c.output, c.key))
            try:
                timer.calibrate(c, target_s, None if per_element is None else per_element * elements)
            except Exception as exc:  # a missing or changed API drops one column, not the run
                c.error = f"{type(exc).__name__}: {exc}"
        live = [c for c in contenders if c.error is None]
        for r in range(repeats):
            k = r % len(live) if live else 0
            for c in live[k:] + live[:k]:
                c.times.append(timer.loop(c, c.loops))
    finally:
        if was_enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------
# Peak memory
# ---------------------------------------------------------------------------------------
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _malloc_trim() -> None:
    """Returns freed heap memory to the kernel (glibc), so that a later allocation that
    reuses it shows up in RSS again instead of hiding in malloc's free lists."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


class RssSampler:
    """Samples the resident set size from /proc/self/statm in a background thread."""

    def __init__(self) -> None:
        self.fd = os.open("/proc/self/statm", os.O_RDONLY)
        self.peak = 0
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return int(os.pread(self.fd, 128, 0).split()[1]) * _PAGE

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._first.set()
            time.sleep(0.0002)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        self._first.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self.fd)


def measure_peak(timer: Timer, c: Contender) -> Optional[int]:
    """Bytes above the baseline at the peak of one call, its result still alive."""
    if c.reset is not None:
        c.reset()
    timer.prepare(c)
    if c.device == "cuda":
        cuda = timer.env.torch.cuda
        cuda.synchronize()
        cuda.reset_peak_memory_stats()
        base = cuda.memory_allocated()
        result = c.fn()
        cuda.synchronize()
        peak = cuda.max_memory_allocated() - base
        del result
        return peak
    if not os.path.exists("/proc/self/statm"):
        return None
    gc.collect()
    _malloc_trim()
    with RssSampler() as s:
        base = s.rss()
        result = c.fn()
        after = s.rss()
    del result
    return max(s.peak, after) - base


# ---------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------
@dataclass
class Case:
    workload: "Workload"
    variant: str  # a dtype name, or "" where the workload has one form
    size: int  # elements (parameters for init_module)

    @property
    def label(self) -> str:
        return self.workload.label + (f" {self.variant}" if self.variant else "")


@dataclass
class Built:
    """What a workload sets up for one case."""

    contenders: List[Contender]
    elements: int  # the element count ns/element divides by
    out_bytes: int  # bytes of output one call writes
    expected: Dict[str, int]  # per output mode: the bytes a zero-copy call needs to allocate
    fill: bool = True  # whether the memory-fill reference applies
    scratch_bytes: int = 0  # the most one fresh call of any contender allocates
    keep: List[Any] = field(default_factory=list)  # buffers and models the closures use


@dataclass
class Workload:
    name: str  # the --only key
    label: str
    variants: List[str]
    build: Callable[[Env, Case], Built]
    need_bytes: Callable[[int, str], int]  # estimated bytes alive while the case runs
    available: Callable[[Env], Optional[str]]  # None, or why it is skipped
    sizes: Callable[[List[int], bool], Tuple[List[int], Optional[str]]] = (
        lambda sizes, quick: (sizes, None))


def _itemsize(variant: str) -> int:
    return np.dtype(variant).itemsize


def _torch_dtype(env: Env, variant: str) -> Any:
    return getattr(env.torch, variant)


def _fill_contender(nbytes: int, keep: List[Any]) -> Contender:
    # A byte buffer of the output's size, written once so page faults are not timed
    # (np.zeros would map untouched zero pages).
    buf = np.empty(max(nbytes, 1), np.uint8)
    buf.fill(0)
    keep.append(buf)
    return Contender("fill", "out=", lambda: buf.fill(1))


def _ss_threads(env: Env, make: Callable[[], Tuple[Callable[[], object], Optional[Callable[[], None]]]],
                output: str) -> List[Contender]:
    out = []
    for t in env.ss_threads:
        fn, reset = make()
        out.append(Contender("seedstream", output, fn, threads=t, reset=reset))
    return out


def _torch_threads(env: Env, fn: Callable[[], object], output: str,
                   reset: Optional[Callable[[], None]] = None) -> List[Contender]:
    return [Contender("torch", output, fn, threads=t, reset=reset) for t in env.torch_threads]


def _cuda_pair(env: Env, output: str, torch_fn: Callable[[], object],
               ss_fn: Optional[Callable[[], object]], reset: Optional[Callable[[], None]] = None
               ) -> List[Contender]:
    """torch's CUDA generator and seedstream writing CUDA tensors, all CPU threads allowed
    (seedstream has no CUDA kernel yet where it computes on the CPU and copies)."""
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
    contenders.append(_fill_contender(nbytes, keep))
    if env.cuda:
        cfill = env.torch.zeros(max(nbytes, 1), dtype=env.torch.uint8, device="cuda")
        keep.append(cfill)
        contenders.append(Contender("fill-cuda", "out=", lambda: cfill.fill_(1), device="cuda"))
    return built


# -- random / uniform -------------------------------------------------------------------
def _build_random(env: Env, case: Case) -> Built:
    dt: Any = case.variant

    def ss_call(g: ss.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return g.random(n, dtype=dt, out=out)

    def np_call(rng: np.random.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return rng.random(n, dtype=dt, out=out)

    def torch_call(g: Any, n: int, out: Any, device: str) -> object:
        if out is not None:
            return env.torch.rand(n, dtype=_torch_dtype(env, dt), out=out, generator=g)
        return env.torch.rand(n, dtype=_torch_dtype(env, dt), device=device, generator=g)

    def ss_cuda(g: ss.Generator, n: int, out: Any) -> object:
        if out is not None:
            return env.sst.rand(n, generator=g, dtype=_torch_dtype(env, dt), out=out)
        return env.sst.rand(n, generator=g, dtype=_torch_dtype(env, dt), device="cuda")

    return _elementwise(env, case, ss_call, np_call, torch_call, ss_cuda, ("out=", "fresh"), ("out=", "fresh"))


# -- normal -----------------------------------------------------------------------------
def _build_normal(env: Env, case: Case) -> Built:
    dt: Any = case.variant

    def ss_call(g: ss.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return g.standard_normal(n, dtype=dt, out=out)  # type: ignore[attr-defined]

    def np_call(rng: np.random.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return rng.standard_normal(n, dtype=dt, out=out)

    def torch_call(g: Any, n: int, out: Any, device: str) -> object:
        if out is not None:
            return env.torch.randn(n, dtype=_torch_dtype(env, dt), out=out, generator=g)
        return env.torch.randn(n, dtype=_torch_dtype(env, dt), device=device, generator=g)

    ss_cuda = None
    if env.sst is not None and hasattr(env.sst, "randn"):
        def ss_cuda(g: ss.Generator, n: int, out: Any) -> object:
            if out is not None:
                return env.sst.randn(n, generator=g, dtype=_torch_dtype(env, dt), out=out)
            return env.sst.randn(n, generator=g, dtype=_torch_dtype(env, dt), device="cuda")

    return _elementwise(env, case, ss_call, np_call, torch_call, ss_cuda, ("out=", "fresh"), ("out=", "fresh"))


# -- truncated normal -------------------------------------------------------------------
def _build_truncated_normal(env: Env, case: Case) -> Built:
    dt = case.variant

    def ss_call(g: ss.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return g.truncated_normal(size=n, dtype=dt, out=out, **TRUNC)  # type: ignore[attr-defined]

    def torch_call(g: Any, n: int, out: Any, device: str) -> object:
        # trunc_normal_ only fills a given tensor; it has no generator argument before torch
        # 2.5, so it draws from the default generator (the cost is the same).
        return env.torch.nn.init.trunc_normal_(out, mean=TRUNC["loc"], std=TRUNC["scale"],
                                               a=TRUNC["a"], b=TRUNC["b"])

    ss_cuda = None
    if env.sst is not None and hasattr(getattr(env.sst, "init", None), "trunc_normal_"):
        def ss_cuda(g: ss.Generator, n: int, out: Any) -> object:
            return env.sst.init.trunc_normal_(out, TRUNC["loc"], TRUNC["scale"], TRUNC["a"], TRUNC["b"],
                                              generator=g)

    return _elementwise(env, case, ss_call, None, torch_call, ss_cuda, ("out=",), ())


# -- integers ---------------------------------------------------------------------------
def _build_integers(env: Env, case: Case) -> Built:
    def ss_call(g: ss.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return g.integers(0, INT_HIGH, size=n, dtype=np.int64, out=out)

    def np_call(rng: np.random.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return rng.integers(0, INT_HIGH, size=n, dtype=np.int64)  # NumPy has no out= here

    def torch_call(g: Any, n: int, out: Any, device: str) -> object:
        if out is not None:
            return env.torch.randint(0, INT_HIGH, (n,), out=out, generator=g)
        return env.torch.randint(0, INT_HIGH, (n,), dtype=env.torch.int64, device=device, generator=g)

    def ss_cuda(g: ss.Generator, n: int, out: Any) -> object:
        if out is not None:
            return env.sst.randint(0, INT_HIGH, (n,), generator=g, out=out)
        return env.sst.randint(0, INT_HIGH, (n,), generator=g, device="cuda")

    return _elementwise(env, case, ss_call, np_call, torch_call, ss_cuda, ("out=", "fresh"), ("fresh",))


# -- bernoulli --------------------------------------------------------------------------
def _build_bernoulli(env: Env, case: Case) -> Built:
    def ss_call(g: ss.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return g.bernoulli(BERNOULLI_P, size=n, out=out)

    def np_call(rng: np.random.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return rng.random(n) < BERNOULLI_P  # NumPy's idiom; it makes a float64 temporary

    def torch_call(g: Any, n: int, out: Any, device: str) -> object:
        # Tensor.bernoulli_(p) writes a bool tensor in place, as seedstream does; fresh
        # outputs are an empty bool tensor filled the same way.
        if out is None:
            out = env.torch.empty(n, dtype=env.torch.bool, device=device)
        return out.bernoulli_(BERNOULLI_P, generator=g)

    def ss_cuda(g: ss.Generator, n: int, out: Any) -> object:
        if out is not None:
            return env.sst.bernoulli(BERNOULLI_P, n, generator=g, out=out)
        return env.sst.bernoulli(BERNOULLI_P, n, generator=g, device="cuda")

    return _elementwise(env, case, ss_call, np_call, torch_call, ss_cuda, ("out=", "fresh"), ("fresh",),
                        scratch_bytes=9 * case.size)  # NumPy: a float64 temporary, then the bools


# -- permutation ------------------------------------------------------------------------
def _build_permutation(env: Env, case: Case) -> Built:
    def ss_call(g: ss.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return g.permutation(n, out=out)

    def np_call(rng: np.random.Generator, n: int, out: Optional[np.ndarray]) -> object:
        return rng.permutation(n)  # NumPy has no out= here

    def torch_call(g: Any, n: int, out: Any, device: str) -> object:
        if out is not None:
            return env.torch.randperm(n, out=out, generator=g)
        return env.torch.randperm(n, device=device, generator=g)

    def ss_cuda(g: ss.Generator, n: int, out: Any) -> object:
        if out is not None:
            return env.sst.randperm(n, generator=g, out=out)
        return env.sst.randperm(n, generator=g, device="cuda")

    # Fresh outputs only: NumPy has no out= here, a shuffle's cost is its random memory
    # access rather than the allocation, and out= rows would double the longest case of the run.
    return _elementwise(env, case, ss_call, np_call, torch_call, ss_cuda, ("fresh",), ("fresh",))


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
    contenders.append(_fill_contender(nbytes, keep))
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
    contenders.append(_fill_contender(nbytes, keep))
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


def _needs_method(name: str) -> Callable[[Env], Optional[str]]:
    def check(env: Env) -> Optional[str]:
        if not hasattr(ss.Generator, name):
            return f"Generator.{name} is not available in this build"
        return None
    return check


def _needs_init_module(env: Env) -> Optional[str]:
    if env.sst is None:
        return "needs torch and seedstream.torch"
    if not hasattr(env.sst, "init_module"):
        return "seedstream.torch.init_module is not available in this build"
    return None


WORKLOADS = [
    Workload("random", "random", ["float32", "float64"], _build_random,
             lambda n, v: 4 * n * _itemsize(v), _always),
    Workload("normal", "standard_normal", ["float32", "float64"], _build_normal,
             lambda n, v: 4 * n * _itemsize(v), _needs_method("standard_normal")),
    Workload("truncated_normal", "truncated_normal [-2, 2]", ["float32"], _build_truncated_normal,
             lambda n, v: 3 * n * _itemsize(v), _needs_method("truncated_normal")),
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
             lambda n, v: 4 * n * 4, _needs_init_module, _init_sizes),
]
WORKLOAD_NAMES = [w.name for w in WORKLOADS]


# ---------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------
def fmt_size(n: int) -> str:
    k = round(math.log10(n)) if n > 0 else 0
    if n > 0 and 10**k == n:
        return f"1e{k}"
    return f"{n / 10**math.floor(math.log10(n)):.3g}e{math.floor(math.log10(n))}" if n >= 10_000 else str(n)


def fmt_ns(x: Optional[float]) -> str:
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_bytes(b: Optional[float]) -> str:
    if b is None:
        return "—"
    for unit in ("B", "kB", "MB", "GB"):
        if abs(b) < 1000 or unit == "GB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.3g} {unit}"
        b /= 1000
    return str(b)


def fmt_ratio(r: Optional[float]) -> str:
    """Other's time over seedstream's: above 1 seedstream is faster; below 1 it says so."""
    if r is None:
        return "—"
    return f"{r:.2f}x" if r >= 1 else f"{r:.2f}x slower"


def parse_sizes(values: Sequence[str]) -> List[int]:
    sizes = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                v = float(part)
            except ValueError:
                raise argparse.ArgumentTypeError(f"size {part!r} is not a number") from None
            if v < 1 or v != int(v):
                raise argparse.ArgumentTypeError(f"size {part!r} is not a positive integer")
            sizes.append(int(v))
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sorted(set(sizes))


def parse_list(text: str, valid: Sequence[str], what: str) -> List[str]:
    items = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in items if p not in valid]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown {what} {bad or text!r}; choose from {', '.join(valid)}")
    return items


def parse_threads(text: str) -> List[int]:
    try:
        threads = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}") from None
    if not threads or threads[0] < 1:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}")
    return threads


# ---------------------------------------------------------------------------------------
# Results: raw measurements to report rows
# ---------------------------------------------------------------------------------------
def case_record(case: Case, built: Built, repeats: int) -> Dict[str, Any]:
    fill = next((c for c in built.contenders if c.impl == "fill" and c.times), None)
    fill_cuda = next((c for c in built.contenders if c.impl == "fill-cuda" and c.times), None)
    return {
        "workload": case.workload.name,
        "label": case.workload.label,
        "dtype": case.variant,
        "size": case.size,
        "elements": built.elements,
        "out_bytes": built.out_bytes,
        "expected_bytes": built.expected,
        "repeats": repeats,
        "fill_GBps": built.out_bytes / fill.median / 1e9 if fill and built.fill else None,
        "fill_cuda_GBps": built.out_bytes / fill_cuda.median / 1e9 if fill_cuda else None,
        "measurements": [
            {
                "impl": c.impl,
                "key": c.key,
                "output": c.output,
                "threads": c.threads,
                "device": c.device,
                "loops_per_repeat": c.loops,
                "seconds_per_call": c.times,
                "median_s": c.median if c.times else None,
                "ns_per_element": c.median / built.elements * 1e9 if c.times else None,
                "GBps": built.out_bytes / c.median / 1e9 if c.times else None,
                "peak_bytes": c.peak_bytes,
                "error": c.error,
            }
            for c in built.contenders if c.impl not in ("fill", "fill-cuda")
        ],
    }


@dataclass
class Row:
    """One (case, output mode): medians by column key."""

    rec: Dict[str, Any]
    output: str
    ns: Dict[str, float]
    peak: Dict[str, Optional[int]]
    fill_ns: Optional[float]
    fill_cuda_ns: Optional[float]

    @property
    def expected(self) -> int:
        return self.rec["expected_bytes"].get(self.output, 0)

    def ratio(self, other: str, mine: str) -> Optional[float]:
        if other in self.ns and mine in self.ns:
            return self.ns[other] / self.ns[mine]
        return None

    def flagged(self, key: str) -> bool:
        peak = self.peak.get(key)
        if peak is None:
            return False
        if self.expected > 0:
            return peak > FRESH_LIMIT * self.expected + PAGE_SLACK
        return peak > IN_PLACE_LIMIT * self.rec["out_bytes"] + PAGE_SLACK


def rows_of(records: List[Dict[str, Any]]) -> List[Row]:
    rows = []
    for rec in records:
        if rec.get("skipped"):
            continue
        outputs: List[str] = []
        for m in rec["measurements"]:
            if m["output"] not in outputs:
                outputs.append(m["output"])
        for output in outputs:
            ms = [m for m in rec["measurements"] if m["output"] == output and m["ns_per_element"] is not None]
            el = rec["elements"]
            rows.append(Row(
                rec, output,
                {m["key"]: m["ns_per_element"] for m in ms},
                {m["key"]: m["peak_bytes"] for m in ms},
                rec["out_bytes"] / rec["fill_GBps"] / el if rec["fill_GBps"] else None,
                rec["out_bytes"] / rec["fill_cuda_GBps"] / el if rec["fill_cuda_GBps"] else None,
            ))
    return rows


def _case_name(r: Row) -> str:
    return r.rec["label"] + (f" {r.rec['dtype']}" if r.rec["dtype"] else "")


def main_table(rows: List[Row], meta: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
    """ns/element of every contender, seedstream's ratios at 1 thread, GB/s and % of fill."""
    t1, tn = "seedstream 1t", f"seedstream {meta['max_ss_threads']}t"
    ss_keys = [t1] + ([tn] if tn != t1 else [])
    torch_keys = [f"torch {t}t" for t in meta["torch_threads"]]

    def numpy_na(r: Row) -> bool:
        return not any(k.startswith("numpy-") for k in r.ns)

    def fill_pct(key: str) -> Callable[[Row], str]:
        return lambda r: f"{100 * r.fill_ns / r.ns[key]:.0f}%" if r.fill_ns and key in r.ns else "—"

    def gbps(r: Row) -> str:
        return f"{r.rec['out_bytes'] / (r.ns[t1] * r.rec['elements']):.2f}" if t1 in r.ns else "—"

    cols: List[Tuple[str, Callable[[Row], str]]] = [
        ("workload", _case_name), ("size", lambda r: fmt_size(r.rec["elements"])), ("output", lambda r: r.output)]
    def ns(key: str, numpy: bool = False) -> Callable[[Row], str]:
        return lambda r: "n/a" if numpy and numpy_na(r) else fmt_ns(r.ns.get(key))

    cols += [(f"{k} ns/el", ns(k)) for k in ss_keys]
    cols += [(f"NumPy {b} ns/el", ns(f"numpy-{b}", numpy=True)) for b in NUMPY_BITGENS]
    cols += [(f"{k} ns/el", ns(k)) for k in torch_keys]
    cols.append(("vs NumPy PCG64 (1t)", lambda r: "n/a" if numpy_na(r) else fmt_ratio(r.ratio("numpy-PCG64", t1))))
    if torch_keys:
        cols.append(("vs torch (1t)", lambda r: fmt_ratio(r.ratio("torch 1t", t1))))
    cols.append(("GB/s (1t)", gbps))
    cols += [(f"% of fill ({k.split()[1]})", fill_pct(k)) for k in ss_keys]
    return [h for h, _ in cols], [[f(r) for _, f in cols] for r in rows]


def scaling_table(rows: List[Row], meta: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
    """ns/element at each thread count, and the speed-up of the most threads over one."""
    groups = [("seedstream", meta["ss_threads"])]
    if meta["torch_threads"]:
        groups.append(("torch", meta["torch_threads"]))
    header = ["workload", "size", "output"]
    for impl, ts in groups:
        header += [f"{impl} {t}t" for t in ts] + [f"{impl} {ts[-1]}t / 1t"]
    body = []
    for r in rows:
        if r.rec["size"] < MEMORY_MIN_SIZE:
            continue
        cells = [_case_name(r), fmt_size(r.rec["elements"]), r.output]
        for impl, ts in groups:
            cells += [fmt_ns(r.ns.get(f"{impl} {t}t")) for t in ts]
            cells.append(_speedup(r.ns.get(f"{impl} 1t"), r.ns.get(f"{impl} {ts[-1]}t")))
        body.append(cells)
    return header, body


def _speedup(one: Optional[float], many: Optional[float]) -> str:
    return f"{one / many:.2f}x" if one is not None and many is not None else "—"


MEMORY_KEYS = ["seedstream 1t", "numpy-PCG64", "torch 1t", "seedstream-cuda", "torch-cuda"]


def memory_table(rows: List[Row]) -> Tuple[List[str], List[List[str]]]:
    keys = [k for k in MEMORY_KEYS if any(k in r.peak and r.peak[k] is not None for r in rows)]
    header = ["workload", "size", "output", "output bytes", "zero-copy allocation"] + [f"{k} peak" for k in keys]
    header.append("flagged")
    body = []
    for r in rows:
        if r.rec["size"] < MEMORY_MIN_SIZE:
            continue
        ref = r.expected or r.rec["out_bytes"]
        cells = [_case_name(r), fmt_size(r.rec["elements"]), r.output, fmt_bytes(r.rec["out_bytes"]),
                 fmt_bytes(r.expected) if r.expected else "0"]
        for k in keys:
            p = r.peak.get(k)
            cells.append("—" if p is None else f"{fmt_bytes(p)} ({p / ref:.2f}x){' !' if r.flagged(k) else ''}")
        cells.append(", ".join(k for k in r.peak if r.flagged(k)) or "—")
        body.append(cells)
    return header, body


def cuda_table(rows: List[Row]) -> Tuple[List[str], List[List[str]]]:
    header = ["workload", "size", "output", "torch-cuda ns/el", "seedstream-cuda ns/el", "vs torch-cuda",
              "% of fill_"]
    body = []
    for r in rows:
        if "torch-cuda" not in r.ns and "seedstream-cuda" not in r.ns:
            continue
        sc = r.ns.get("seedstream-cuda")
        body.append([_case_name(r), fmt_size(r.rec["elements"]), r.output, fmt_ns(r.ns.get("torch-cuda")),
                     fmt_ns(sc), fmt_ratio(r.ratio("torch-cuda", "seedstream-cuda")),
                     f"{100 * r.fill_cuda_ns / sc:.0f}%" if sc and r.fill_cuda_ns else "—"])
    return header, body


def fill_table(records: List[Dict[str, Any]]) -> Tuple[List[str], List[List[str]]]:
    seen: Dict[int, float] = {}
    for rec in records:
        if rec.get("fill_GBps") and rec["out_bytes"] not in seen:
            seen[rec["out_bytes"]] = rec["fill_GBps"]
    header = ["bytes", "fill GB/s (1 thread)"]
    return header, [[fmt_bytes(b), f"{g:.1f}"] for b, g in sorted(seen.items())]


def markdown_table(header: List[str], body: List[List[str]], empty: str = "(no rows)") -> str:
    if not body:
        return empty + "\n"
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def method_notes(meta: Dict[str, Any]) -> List[str]:
    return [
        f"Time: median over repeats of the per-call time (time.perf_counter, garbage collector off); "
        f"each contender gets one warm-up call and a loop of calls lasting about {meta['target_ms']:g} ms "
        "per repeat (one call where a call is longer), and the repeats go round-robin over all "
        "contenders of a case.",
        f"Threads: seedstream at {', '.join(map(str, meta['ss_threads']))} threads "
        f"(seedstream.set_num_threads); torch CPU at {', '.join(map(str, meta['torch_threads']))} "
        "threads (torch.set_num_threads); a contender at t threads sets both pools to t. NumPy's "
        "Generator and ndarray.fill are single-threaded.",
        "Output: `out=` writes into one preallocated, already touched array shared by every "
        "contender (torch sees it through torch.from_numpy); `fresh` allocates the output in each "
        "call with the library's own allocator (NumPy's asks for huge pages; first touch of new "
        "pages is part of the cost); `in-place` re-initialises existing parameters; `iterate` "
        "consumes a sampler's indices. NumPy has out= only for random and standard_normal.",
        "NumPy bernoulli is `rng.random(n) < p` (a float64 temporary); torch bernoulli is "
        "`Tensor.bernoulli_(p)` on a bool tensor; torch's sampler is "
        "torch.utils.data.RandomSampler (it iterates torch.randperm(n).tolist()); torch's "
        "init_module is every module's reset_parameters() (MultiheadAttention's "
        "_reset_parameters()); dropout is forward and backward with a gradient of ones, "
        "seedstream.torch.functional.dropout vs torch.nn.functional.dropout.",
        "Ratios (vs NumPy PCG64, vs torch): the other's time divided by seedstream's at 1 thread; "
        "above 1 seedstream is faster, below 1 it is slower and says so.",
        "% of fill: bytes per second of the output relative to `ndarray.fill` of a "
        "preallocated byte buffer of the same size in the same round-robin (one thread, so "
        "several seedstream threads can pass 100%). Below the last-level cache size it is a "
        "cache bandwidth, and at 1e3 mostly call overhead.",
        f"Peak memory: resident-set growth sampled from /proc/self/statm in a background thread "
        f"during one call (after gc and malloc_trim), its result kept alive; CUDA from "
        f"torch.cuda.max_memory_allocated. Reported from {fmt_size(MEMORY_MIN_SIZE)} elements: "
        "below that, allocator caches and page rounding swamp it. A fresh output should need "
        f"about its own bytes: flagged (!) above {FRESH_LIMIT:g}x; an out=/in-place/iterate call "
        f"is flagged above {IN_PLACE_LIMIT:g}x the output bytes. Both limits allow "
        f"{PAGE_SLACK >> 20} MiB for huge-page rounding at the ends of an allocation, so flags are "
        "reliable from 1e7 elements. Dropout's zero-copy allocation is its output plus the "
        "input gradient.",
    ]


# ---------------------------------------------------------------------------------------
# Output files
# ---------------------------------------------------------------------------------------
def write_markdown(path: str, result: Dict[str, Any], rows: List[Row]) -> None:
    meta = result["meta"]
    lines = [f"# seedstream benchmark: {meta['host']}, {meta['date']}", ""]
    lines += [f"- {k}: {v}" for k, v in meta_lines(meta)]
    lines += ["", "## Method", ""] + [f"- {n}" for n in method_notes(meta)]
    sections = [
        ("Throughput (ns per element, lower is better)", main_table(rows, meta)),
        ("Thread scaling (ns per element)", scaling_table(rows, meta)),
        ("Peak memory", memory_table(rows)),
        ("Memory-fill bandwidth of this machine", fill_table(result["cases"])),
    ]
    if meta["cuda_device"]:
        sections.append(("CUDA", cuda_table(rows)))
    large_only = f"(none: measured from {fmt_size(MEMORY_MIN_SIZE)} elements)"
    for title, (header, body) in sections:
        lines += ["", f"## {title}", "", markdown_table(header, body, large_only).rstrip("\n")]
    if result["notes"]:
        lines += ["", "## Skipped and not measured", ""] + [f"- {n}" for n in result["notes"]]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def meta_lines(meta: Dict[str, Any]) -> List[Tuple[str, str]]:
    versions = f"Python {meta['python']}, NumPy {meta['numpy']}, seedstream {meta['seedstream']} " \
               f"(SIMD {meta['simd_level']})"
    if meta["torch"]:
        versions += f", torch {meta['torch']}"
    mem = meta["mem_available_bytes"]
    return [
        ("command", f"`{meta['command']}`"),
        ("date", meta["datetime"]),
        ("CPU", f"{meta['cpu']} ({meta['cores']} logical CPUs), {meta['platform']}"),
        ("GPU", meta["cuda_device"] or "none"),
        ("versions", versions),
        ("memory available at start", fmt_bytes(mem) if mem else "unknown"),
        ("run time", f"{meta['elapsed_s']:.0f} s"),
    ]


PLOT_STYLE = {
    "numpy-PCG64": ("tab:orange", "--"),
    "numpy-Philox": ("tab:brown", "--"),
    "numpy-MT19937": ("tab:pink", "--"),
    "torch-cuda": ("tab:purple", ":"),
    "seedstream-cuda": ("tab:cyan", ":"),
}


def _plot_style(key: str, meta: Dict[str, Any]) -> Tuple[str, str]:
    if key in PLOT_STYLE:
        return PLOT_STYLE[key]
    if key.startswith("seedstream"):
        return ("tab:blue" if key == "seedstream 1t" else "navy"), "-"
    return ("tab:red" if key == "torch 1t" else "darkred"), "-."


def write_plot(path: str, result: Dict[str, Any], rows: List[Row]) -> Optional[str]:
    """Throughput against size, one panel per workload and output mode. Returns why no plot
    was written, or None."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return "matplotlib is not installed: no plot (pip install 'seedstream[bench]')"
    meta = result["meta"]
    panels: Dict[Tuple[str, str], List[Row]] = {}
    for r in rows:
        panels.setdefault((_case_name(r), r.output), []).append(r)
    if not panels:
        return "nothing was measured: no plot"
    ss_keys = {"seedstream 1t", f"seedstream {meta['max_ss_threads']}t"}
    cols = min(4, len(panels))
    nrows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.3 * nrows + 0.9))
    FigureCanvasAgg(fig)
    handles: Dict[str, Any] = {}
    for i, ((name, output), prs) in enumerate(panels.items()):
        ax = fig.add_subplot(nrows, cols, i + 1)
        prs = sorted(prs, key=lambda r: r.rec["size"])
        keys: List[str] = []
        for r in prs:
            keys += [k for k in r.ns if k not in keys]
        for key in keys:
            if key.startswith("seedstream ") and key not in ss_keys:
                continue  # the intermediate thread counts are in the scaling table
            pts = [(r.rec["elements"], 1e3 / r.ns[key]) for r in prs if key in r.ns]
            color, style = _plot_style(key, meta)
            (line,) = ax.plot(*zip(*pts), style, color=color, marker="o", ms=3, label=key)
            handles.setdefault(key, line)
        fill = [(r.rec["elements"], 1e3 / r.fill_ns) for r in prs if r.fill_ns]
        if fill:
            (line,) = ax.plot(*zip(*fill), ":", color="grey", label="memory fill (1t)")
            handles.setdefault("memory fill (1t)", line)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{name}, {output}", fontsize=9)
        ax.set_xlabel("elements" if "init_module" not in name else "parameters", fontsize=8)
        ax.set_ylabel("M elements / s", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="major", alpha=0.3)
    fig.legend(list(handles.values()), list(handles.keys()), loc="lower center",
               ncol=min(6, len(handles)), fontsize=8, frameon=False)
    fig.suptitle(f"seedstream {meta['seedstream']} vs NumPy {meta['numpy']}"
                 + (f" and torch {meta['torch']}" if meta["torch"] else "")
                 + f" — {meta['cpu']}, {meta['cores']} CPUs, {meta['date']} (higher is better)", fontsize=10)
    fig.tight_layout(rect=(0, 0.07 if nrows > 1 else 0.12, 1, 0.96))
    fig.savefig(path, dpi=110)
    return None


# ---------------------------------------------------------------------------------------
# Progress and console output (rich when installed, plain lines otherwise)
# ---------------------------------------------------------------------------------------
class Progress:
    """A rich progress bar on a terminal; plain lines on stderr without rich or a terminal
    (rich draws nothing live into a file or pipe)."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.t0 = total, 0, time.perf_counter()
        self.rich: Any = None
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress
            from rich.progress import TextColumn, TimeElapsedColumn
        except ImportError:
            return
        console = Console(stderr=True)
        if not console.is_terminal:
            return
        self.rich = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=False)
        self.task = self.rich.add_task("bench", total=total)

    def __enter__(self) -> "Progress":
        if self.rich is not None:
            self.rich.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.rich is not None:
            self.rich.__exit__(*exc)

    def start(self, desc: str) -> None:
        if self.rich is not None:
            self.rich.update(self.task, description=desc)
        else:
            print(f"[{self.done + 1}/{self.total}, {time.perf_counter() - self.t0:.0f} s] {desc}",
                  file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        if self.rich is not None:
            self.rich.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def advance(self) -> None:
        self.done += 1
        if self.rich is not None:
            self.rich.advance(self.task)


def print_table(title: str, header: List[str], body: List[List[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(f"\n## {title}\n\n" + markdown_table(header, body), flush=True)
        return
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i < 3 else "right", overflow="fold")
    for row in body:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(160, 14 * len(header)))  # a file or pipe: do not wrap at 80
    console.print(table)


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m seedstream bench",
        description="Benchmark seedstream against NumPy's and PyTorch's generators in one process; "
                    "writes JSON, Markdown and a PNG plot. Measures only: never passes or fails.")
    ap.add_argument("--quick", action="store_true",
                    help="sizes 1e3 and 1e6 (unless --sizes), 3 short repeats: under a minute")
    ap.add_argument("--sizes", nargs="+", metavar="N",
                    help="element counts, e.g. 1e3 1e6 or 1e3,1e6 (default 1e3 ... 1e8)")
    ap.add_argument("--only", type=lambda s: parse_list(s, WORKLOAD_NAMES, "workload"), default=None,
                    metavar="W[,W...]", help=f"workloads to run: {', '.join(WORKLOAD_NAMES)}")
    ap.add_argument("--threads", type=parse_threads, default=None, metavar="T[,T...]",
                    help="seedstream thread counts (default 1, 2, 4, ... up to the core count)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed repeats per contender (default 7 up to 1e5, 5 up to 1e7, 3 above; 3 with --quick)")
    ap.add_argument("--target-ms", type=float, default=None,
                    help="length of one repeat in ms (default 20, 5 with --quick)")
    ap.add_argument("--out", default=os.path.join("benches", "results"), metavar="DIR",
                    help="directory for <host>-<date>.json/.md/.png (default benches/results)")
    return ap


def repeats_for(n: int, quick: bool, override: Optional[int]) -> int:
    if override is not None:
        return max(1, override)
    if quick:
        return 3
    return 7 if n <= 100_000 else 5 if n <= 10_000_000 else 3


def plan(env: Env, only: Optional[List[str]], sizes: List[int], quick: bool,
         notes: List[str]) -> List[Case]:
    cases = []
    for w in WORKLOADS:
        if only is not None and w.name not in only:
            continue
        why = w.available(env)
        if why is not None:
            notes.append(f"{w.name}: skipped, {why}")
            continue
        ws, note = w.sizes(sizes, quick)
        if note:
            notes.append(note)
        for n in ws:
            for v in w.variants:
                cases.append(Case(w, v, n))
    return cases


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes) if args.sizes else (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    except argparse.ArgumentTypeError as exc:
        build_parser().error(str(exc))
    target_s = (args.target_ms if args.target_ms is not None else (5.0 if args.quick else 20.0)) / 1e3
    started = time.perf_counter()
    now = datetime.datetime.now()
    env = make_env(args.threads)
    notes = list(env.notes)
    cases = plan(env, args.only, sizes, args.quick, notes)
    timer = Timer(env)
    records: List[Dict[str, Any]] = []
    try:
        with Progress(len(cases)) as progress:
            for case in cases:
                desc = f"{case.label} n={fmt_size(case.size)}"
                progress.start(desc)
                need = case.workload.need_bytes(case.size, case.variant)
                avail = mem_available()
                if avail is not None and HEADROOM * need > avail:
                    msg = (f"{desc}: skipped, needs about {fmt_bytes(need)} (x{HEADROOM:g} headroom), "
                           f"MemAvailable {fmt_bytes(avail)}")
                    notes.append(msg)
                    progress.note(msg)
                    records.append({"workload": case.workload.name, "dtype": case.variant,
                                    "size": case.size, "skipped": msg})
                    progress.advance()
                    continue
                built = case.workload.build(env, case)
                reps = repeats_for(case.size, args.quick, args.repeats)
                if built.scratch_bytes >= RECYCLE_MIN_BYTES:
                    for c in built.contenders:
                        if c.output == "fresh":
                            c.scratch_bytes = built.scratch_bytes
                case_key = (case.workload.name, case.variant)
                run_round_robin(timer, built.contenders, reps, target_s, case_key, built.elements)
                for c in built.contenders:
                    if c.times:
                        timer.seconds_per_element[(*case_key, c.output, c.key)] = c.median / built.elements
                if case.size >= MEMORY_MIN_SIZE:
                    for c in built.contenders:
                        # Memory does not depend on the thread count: one call at 1 thread
                        # (and each CUDA contender) is enough.
                        if c.error is None and c.impl not in ("fill", "fill-cuda") and (
                                c.threads == 1 or c.device == "cuda"):
                            c.peak_bytes = measure_peak(timer, c)
                for c in built.contenders:
                    if c.error is not None:
                        msg = f"{desc}: {c.key} ({c.output}) failed: {c.error}"
                        notes.append(msg)
                        progress.note(msg)
                records.append(case_record(case, built, reps))
                del built  # frees the case's buffers and models before the next one
                gc.collect()
                progress.advance()
    except KeyboardInterrupt:
        # Keep what was measured: the files say the run is incomplete.
        notes.append(f"interrupted: {len(records)} of {len(cases)} cases measured")
    finally:
        timer.restore()

    elapsed = time.perf_counter() - started
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname().split(".")[0]) or "host"
    torch = env.torch
    meta = {
        "host": host,
        "date": now.date().isoformat(),
        "datetime": now.isoformat(timespec="seconds"),
        "command": " ".join(["python -m seedstream bench"] + [shlex.quote(a) for a in argv]),
        "cpu": cpu_model(),
        "cores": env.cores,
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "cuda_device": torch.cuda.get_device_name() if env.cuda else None,
        "seedstream": ss.__version__,
        "simd_level": ss.simd_level(),
        "ss_threads": env.ss_threads,
        "torch_threads": env.torch_threads if torch is not None else [],
        "max_ss_threads": env.max_ss,
        "max_torch_threads": env.max_torch,
        "mem_available_bytes": mem_available(),
        "sizes": sizes,
        "quick": args.quick,
        "target_ms": target_s * 1e3,
        "headroom": HEADROOM,
        "seed": SEED,
        "elapsed_s": elapsed,
    }
    result = {"meta": meta, "notes": notes, "cases": records}
    rows = rows_of(records)

    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{host}-{meta['date']}")
    plot_note = write_plot(stem + ".png", result, rows)
    if plot_note:
        notes.append(plot_note)
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=1)
    write_markdown(stem + ".md", result, rows)

    print_table("Throughput (ns per element, lower is better; ratios above 1: seedstream faster)",
                *main_table(rows, meta))
    for n in notes:
        print(f"- {n}")
    written = [stem + ".json", stem + ".md"] + ([] if plot_note else [stem + ".png"])
    print(f"Wrote {', '.join(written)} in {elapsed:.0f} s (tables for thread scaling and peak memory "
          "are in the Markdown file).")
    return 0
