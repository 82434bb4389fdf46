"""The one timer of every benchmark: `python -m seedstream bench`, the scripts in benches/
and the self-check's short table.

A contender is warmed up, repeats go round-robin over all contenders (the start rotating
one further each round, so a change in machine load hits all of them alike and none always
follows the same neighbour), the garbage collector is off while they run, and the clock is
``time.perf_counter``. Callers report the median of the per-call times.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import sys
import time
from typing import Callable, Dict, Hashable, Iterator, List, Mapping, Optional, Sequence, TypeVar

Call = Callable[[], object]
K = TypeVar("K", bound=Hashable)


def per_call(fn: Call, loops: int = 1, sync: Optional[Call] = None) -> float:
    """Seconds per call over `loops` calls of `fn`. `sync` waits for asynchronous (CUDA) work
    before the clock stops. Results are dropped at once, so at most one fresh output is alive."""
    t0 = time.perf_counter()
    for _ in range(loops):
        fn()
    if sync is not None:
        sync()
    return (time.perf_counter() - t0) / loops


def calibrate(loop: Callable[[int], float], target_s: float) -> int:
    """Calls per repeat so that one repeat lasts about `target_s`; `loop(k)` times k calls
    and returns seconds per call. The first call is a warm-up: it pays one-off costs (lazy
    initialisation, thread-pool start-up, first touch of buffers) and says nothing about
    the steady per-call time."""
    loop(1)
    k = 1
    while True:
        t = loop(k)
        if t * k >= target_s / 10 or k >= 100_000:
            break
        k *= 10
    return max(1, min(1_000_000, math.ceil(target_s / max(t, 1e-9))))


@contextlib.contextmanager
def gc_off() -> Iterator[None]:
    """Collects once, then keeps the garbage collector off: a collection inside a timed loop
    would be charged to whichever contender happened to trigger it."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def round_robin(repeat: Sequence[Callable[[], float]], repeats: int) -> List[List[float]]:
    """`repeats` rounds over the contenders, each `repeat[i]()` timing one repeat of
    contender i and returning its seconds per call; the start rotates one further each round."""
    times: List[List[float]] = [[] for _ in repeat]
    for r in range(repeats):
        k = r % len(repeat) if repeat else 0
        for i in list(range(k, len(repeat))) + list(range(k)):
            times[i].append(repeat[i]())
    return times


def time_calls(calls: Mapping[K, Call], repeats: int) -> Dict[K, List[float]]:
    """The whole method for contenders of one call per repeat: a warm-up call each, then
    `repeats` rounds with the garbage collector off. Returns every repeat's seconds per call,
    by key. A contender whose warm-up raises TypeError (an argument this version of its
    library lacks) is left out, with a line on stderr."""
    live: Dict[K, Call] = {}
    for k, c in calls.items():
        try:
            c()
        except TypeError as e:
            print(f"  skipping {k}: {e}", file=sys.stderr)
        else:
            live[k] = c
    with gc_off():
        times = round_robin([functools.partial(per_call, c) for c in live.values()], repeats)
    return dict(zip(live, times))
