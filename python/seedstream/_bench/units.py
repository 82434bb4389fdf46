"""How sizes, times, byte counts and ratios are written in tables, notes and progress lines."""

from __future__ import annotations

import math
from typing import Optional


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
