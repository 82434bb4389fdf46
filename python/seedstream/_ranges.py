"""Random access to part of a draw: the elements of a range, or of a box of a C-order array,
that a draw of the full size would give, computed without drawing the rest.

Element ``i`` of a draw at position ``P`` with ``w`` words per element reads only block
``P + floor(i * w / 4)`` (a Box-Muller pair too: it never straddles a block), so elements
``[s, s + n)`` are elements ``[lead, lead + n)`` of a draw at ``P + floor(s * w / 4)`` with
``lead = s mod (4 / w)`` (docs/spec.md#element-ranges). Every draw here is a Generator
draw: this module only chooses positions and slices.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Sequence, Tuple

import numpy as np

from seedstream import _core
from seedstream import _validate as v
from seedstream._generator import Generator

# Words per element by method; float64 and 64-bit words take 2, 32-bit and 16-bit floats 1.
_WIDE = {"bits": "uint64", "random": "float64", "standard_normal": "float64", "normal": "float64",
         "uniform": "float64", "truncated_normal": "float64"}
METHODS = tuple(sorted([*_WIDE, "integers", "bernoulli"]))


def words_per_element(method: str, dtype: Any) -> int:
    """Words of the word stream one element of ``method`` in ``dtype`` reads (docs/spec.md#positions)."""
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    if method == "integers":
        return 2
    if method == "bernoulli":
        return 1
    return 2 if np.dtype(dtype).name == _WIDE[method] else 1


def _at(generator: Generator, blocks: int) -> Generator:
    g = copy.copy(generator)
    g.advance(blocks)
    return g


def _draw(generator: Generator, method: str, out: np.ndarray, args: Tuple[Any, ...], kwargs: Any) -> None:
    fn = getattr(generator, method)
    if method == "bernoulli":
        fn(*args, out=out, **kwargs)
    else:
        fn(*args, dtype=out.dtype, out=out, **kwargs)


def _fill_run(generator: Generator, method: str, w: int, start: int, out: np.ndarray,
              args: Tuple[Any, ...], kwargs: Any) -> None:
    per_block = 4 // w
    block, lead = divmod(start, per_block)
    n = out.shape[0]
    if lead:
        # The first block's elements: at most 3 drawn and not kept.
        k = min(per_block - lead, n)
        head = np.empty(per_block, dtype=out.dtype)
        _draw(_at(generator, block), method, head, args, kwargs)
        out[:k] = head[lead:lead + k]
        block, out = block + 1, out[k:]
    if out.shape[0]:
        _draw(_at(generator, block), method, out, args, kwargs)


def _check(generator: Any, method: str, out: Any) -> None:
    v.generator(generator)
    words_per_element(method, np.dtype(bool))  # validates the name
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out: expected a numpy.ndarray, got {type(out).__name__}")
    if not out.flags.writeable:
        raise ValueError("out: expected a writeable array")


def fill_range(generator: Generator, method: str, start: int, out: np.ndarray,
               *args: Any, **kwargs: Any) -> np.ndarray:
    """Fills ``out`` (1-D) with elements ``[start, start + len(out))`` of the draw
    ``generator.<method>(*args, size=n, dtype=out.dtype, **kwargs)`` at the generator's
    position, for any ``n >= start + len(out)``: bit for bit ``full[start:start + len(out)]``.

    ``method`` is one of ``bits``, ``random``, ``uniform``, ``standard_normal``, ``normal``,
    ``truncated_normal``, ``integers``, ``bernoulli`` (scalar ``p``); ``args``/``kwargs`` are
    the method's own (``loc, scale``, ``low, high, endpoint=...``). Only the blocks holding
    the range are computed; the generator's position does not change. Returns ``out``.
    """
    _check(generator, method, out)
    s = v.integer(start, "start")
    if s < 0:
        raise ValueError(f"start: expected an int >= 0, got {s}")
    if out.ndim != 1:
        raise ValueError(f"out: expected a 1-D array, got {out.ndim} dimensions")
    if method == "bernoulli" and args and isinstance(args[0], np.ndarray) and args[0].ndim > 0:
        raise ValueError("p: expected a float (a per-element p has its own shape; slice it)")
    _fill_run(generator, method, words_per_element(method, out.dtype), s, out, args, kwargs)
    return out


class _Runs:
    """A stream whose fills write the given runs of a draw at its position (one call into
    the core for all of them) instead of drawing; see ``_core.Stream.fill_*(runs=...)``."""

    def __init__(self, stream: Any, runs: np.ndarray) -> None:
        self._base, self._runs = stream, runs

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._base, name)
        return functools.partial(attr, runs=self._runs) if name.startswith("fill_") else attr


def run_table(shape: Sequence[int], offset: Sequence[int], local: Sequence[int]) -> np.ndarray:
    """The contiguous runs of the box ``offset + [0, local)`` of a C-order array of ``shape``,
    as uint64 rows (first element in the array, first element in the box, elements): one run
    per index of the leading dimensions the box cuts."""
    return _core.box_runs(shape, offset, local)


def fill_box(generator: Generator, method: str, shape: Sequence[int], offset: Sequence[int],
             out: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
    """Fills ``out`` with the box ``full[offset[0]:offset[0] + out.shape[0], ...]`` of the
    draw ``full = generator.<method>(*args, size=shape, dtype=out.dtype, **kwargs)``: the
    local shard of a tensor split along any dimensions (a ``Shard(1)`` slice of a matrix is
    one row segment per row). Methods and arguments as :func:`fill_range`; ``out`` is
    C-contiguous with ``out.ndim == len(shape)``. Returns ``out``.
    """
    _check(generator, method, out)
    shp = tuple(v.integer(n, "shape") for n in shape)
    off = tuple(v.integer(n, "offset") for n in offset)
    if len(off) != len(shp) or out.ndim != len(shp):
        raise ValueError(f"offset: expected {out.ndim} entries matching out and shape, got {len(off)} and {len(shp)}")
    if any(o < 0 or o + n > s for o, n, s in zip(off, out.shape, shp)):
        raise ValueError(f"offset: the box at {off} of size {out.shape} leaves shape {shp}")
    if not out.flags.c_contiguous:
        raise ValueError("out: expected a C-contiguous array")
    if out.size == 0:
        return out
    w = words_per_element(method, out.dtype)
    flat = out.reshape(-1)
    table = run_table(shp, off, out.shape)
    # A run not starting a block is drawn from its block's first element, which lands in
    # the places before it (those of earlier runs, filled after it). Runs with too few
    # places before them (the first ones) are drawn here afterwards, the rest in one call.
    alone = ~_core.runs_in_place(table, w)
    together = np.ascontiguousarray(table[~alone])
    if together.shape[0]:
        # A copy of the stream: the runs draw at the position without moving `generator`.
        g = Generator.from_stream(_Runs(copy.copy(generator).stream, together))  # type: ignore[arg-type]
        _draw(g, method, flat, args, kwargs)
    for src, dst, n in table[alone].tolist():
        _fill_run(generator, method, w, src, flat[dst:dst + n], args, kwargs)
    return out
