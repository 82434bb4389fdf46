"""The machine: optional libraries, thread counts, CPU model, free memory and the
resident-set sampler behind the peak-memory columns."""

from __future__ import annotations

import ctypes
import os
import platform
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np


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
    """The model name, with the x86 family and model numbers where /proc/cpuinfo has them:
    a virtual machine often reports only a brand ("AMD EPYC"), and the numbers tell its
    generation (family 25: Zen 3 and 4, family 26: Zen 5)."""
    fields: Dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in fields:
                    fields[key] = value.strip()
                if not line.strip() and fields:
                    break  # the first processor's block is enough
    except OSError:
        pass
    name = fields.get("model name")
    if name is None:
        return platform.processor() or platform.machine() or "unknown"
    if "cpu family" in fields and "model" in fields:
        return f"{name} (family {fields['cpu family']}, model {fields['model']})"
    return name


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


def recycle(nbytes: int) -> None:
    """Allocates, writes and frees `nbytes`. In a virtual machine the first touch of memory
    the guest has not used lately costs far more than recycling pages just freed; without
    this, whichever fresh contender ran first after others had released memory would pay
    for it. A program that allocates in a loop recycles, so each timed loop starts so."""
    buf = np.empty(nbytes, np.uint8)
    buf.fill(0)
    del buf


def malloc_trim() -> None:
    """Returns freed heap memory to the kernel (glibc), so that a later allocation that
    reuses it shows up in RSS again instead of hiding in malloc's free lists."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


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
