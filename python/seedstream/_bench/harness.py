"""What a case is, how its contenders run (thread settings, calibration, round-robin,
peak memory) and the record it leaves in the JSON file."""

from __future__ import annotations

import functools
import gc
import os
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import seedstream as ss

from seedstream._bench import timer
from seedstream._bench.machine import Env, RssSampler, malloc_trim, mem_available, recycle
from seedstream._bench.units import fmt_bytes, fmt_size

NUMPY_BITGENS = ("PCG64", "Philox", "MT19937")
HEADROOM = 2.0  # a case runs only if HEADROOM x its estimated bytes fit in MemAvailable
MEMORY_MIN_SIZE = 1_000_000  # below this, allocator caches and page rounding swamp the signal
# glibc serves allocations above 32 MiB (its largest mmap threshold) with new mappings, so
# from there on every fresh output is new pages; below, freed memory is reused anyway.
RECYCLE_MIN_BYTES = 32 << 20


@dataclass
class Contender:
    impl: str  # "seedstream", "numpy-PCG64", "torch", "torch-cuda", "seedstream-cuda", "fill"
    output: str  # "out=", "fresh", "in-place" or "iterate"
    fn: Callable[[], object]
    threads: int = 1  # applied to both seedstream's and torch's pools before each repeat
    device: str = "cpu"
    reset: Optional[Callable[[], None]] = None  # drops state a previous call left alive
    scratch_bytes: int = 0  # memory to recycle before each timed loop (see Runner.loop)
    loops: int = 1
    times: List[float] = field(default_factory=list)
    peak_bytes: Optional[int] = None
    error: Optional[str] = None

    @property
    def key(self) -> str:
        """The column name: the implementation, plus the thread count where it is a knob."""
        if self.impl in ("seedstream", "torch") or (self.impl == "fill" and self.threads > 1):
            return f"{self.impl} {self.threads}t"
        return self.impl

    @property
    def median(self) -> float:
        return statistics.median(self.times)


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


class Runner:
    """Runs contenders with the thread settings they ask for; restores them at the end."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.saved_ss = ss.get_num_threads()
        self.saved_torch = env.torch.get_num_threads() if env.torch is not None else None
        # Per case, output mode and column: the last size's time per element, which predicts
        # the next size's and so spares the warm-up of a call that fills a repeat alone.
        self.seconds_per_element: Dict[Tuple[Any, ...], float] = {}

    def prepare(self, c: Contender) -> None:
        ss.set_num_threads(c.threads)
        if self.env.torch is not None:
            self.env.torch.set_num_threads(c.threads)

    def restore(self) -> None:
        ss.set_num_threads(self.saved_ss)
        if self.env.torch is not None:
            self.env.torch.set_num_threads(self.saved_torch)

    def loop(self, c: Contender, loops: int) -> float:
        """Seconds per call over `loops` calls."""
        self.prepare(c)
        if c.scratch_bytes:
            recycle(c.scratch_bytes)
        # CUDA work is asynchronous: a loop is only over once the device is idle.
        return timer.per_call(c.fn, loops, self.env.torch.cuda.synchronize if c.device == "cuda" else None)

    def round_robin(self, contenders: List[Contender], repeats: int, target_s: float,
                    case_key: Tuple[Any, ...], elements: int) -> None:
        """Calibrates, then times repeat by repeat over all contenders."""
        with timer.gc_off():
            for c in contenders:
                per_element = self.seconds_per_element.get((*case_key, c.output, c.key))
                try:
                    if per_element is not None and per_element * elements >= 2 * target_s:
                        # A smaller size of this case has paid the one-off costs, and one call
                        # fills a repeat: no warm-up call, which at 1e8 would be the costliest
                        # part of the run.
                        c.loops = 1
                    else:
                        c.loops = timer.calibrate(functools.partial(self.loop, c), target_s)
                except Exception as exc:  # a missing or changed API drops one column, not the run
                    c.error = f"{type(exc).__name__}: {exc}"
            live = [c for c in contenders if c.error is None]
            times = timer.round_robin([functools.partial(self.loop, c, c.loops) for c in live], repeats)
        for c, t in zip(live, times):
            c.times = t
            self.seconds_per_element[(*case_key, c.output, c.key)] = c.median / elements

    def measure_peak(self, c: Contender) -> Optional[int]:
        """Bytes above the baseline at the peak of one call, its result still alive."""
        if c.reset is not None:
            c.reset()
        self.prepare(c)
        if c.device == "cuda":
            cuda = self.env.torch.cuda
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
        malloc_trim()
        with RssSampler() as s:
            base = s.rss()
            result = c.fn()
            after = s.rss()
        del result
        return max(s.peak, after) - base

    def run_case(self, case: Case, repeats: int, target_s: float,
                 note: Callable[[str], None]) -> Dict[str, Any]:
        """Measures one case and returns its record; `note` receives what was skipped or failed."""
        desc = f"{case.label} n={fmt_size(case.size)}"
        need = case.workload.need_bytes(case.size, case.variant)
        avail = mem_available()
        if avail is not None and HEADROOM * need > avail:
            msg = (f"{desc}: skipped, needs about {fmt_bytes(need)} (x{HEADROOM:g} headroom), "
                   f"MemAvailable {fmt_bytes(avail)}")
            note(msg)
            return {"workload": case.workload.name, "dtype": case.variant, "size": case.size, "skipped": msg}
        built = case.workload.build(self.env, case)
        if built.scratch_bytes >= RECYCLE_MIN_BYTES:
            for c in built.contenders:
                if c.output == "fresh":
                    c.scratch_bytes = built.scratch_bytes
        self.round_robin(built.contenders, repeats, target_s, (case.workload.name, case.variant), built.elements)
        for c in built.contenders:
            # Memory does not depend on the thread count: one call at 1 thread (and each
            # CUDA contender) is enough.
            if (case.size >= MEMORY_MIN_SIZE and c.error is None and c.impl not in ("fill", "fill-cuda")
                    and (c.threads == 1 or c.device == "cuda")):
                c.peak_bytes = self.measure_peak(c)
        for c in built.contenders:
            if c.error is not None:
                note(f"{desc}: {c.key} ({c.output}) failed: {c.error}")
        return case_record(case, built, repeats)


def case_record(case: Case, built: Built, repeats: int) -> Dict[str, Any]:
    fills = {c.threads: c for c in built.contenders if c.impl == "fill" and c.times}
    fill = fills.get(1)
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
        # By thread count (JSON keys are strings), 1 included.
        "fill_GBps_threads": {str(t): built.out_bytes / c.median / 1e9 for t, c in sorted(fills.items())}
        if built.fill else {},
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
