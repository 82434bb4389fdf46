"""Argument checks shared by the Generator methods. Each error names the argument."""

from __future__ import annotations

import operator
import sys
from typing import Any, Optional, Tuple

import numpy as np

_INT_NAMES = "str, int or bytes"
# Stored algorithm names by every accepted name. "philox" is Philox4x32-10 (not NumPy's
# Philox4x64-10, seedstream.Philox) and "pcg64" a stream of blocks from PCG64 outputs (not
# seedstream.PCG64(seed)); states keep the short names, so older readers load them.
ALGORITHMS = {"philox": "philox", "pcg64": "pcg64", "philox4x32": "philox", "pcg64-stream": "pcg64"}


def algorithm(value: Any, arg: str, entry: str = "") -> str:
    """The stored name of an algorithm given by its short or unambiguous name."""
    if isinstance(value, str) and value in ALGORITHMS:
        return ALGORITHMS[value]
    raise ValueError(
        f"{arg}: {entry}expected 'philox4x32' (or 'philox') or 'pcg64-stream' (or 'pcg64'), got {value!r}"
    )


def seed_value(seed: Any, hint: str = "pass an int or str seed, or a seedstream.Generator where one is accepted") -> "int | str":
    """A seed as the core accepts it: a str, or an int in [0, 2**64)."""
    if isinstance(seed, str):
        return utf8(seed, "seed")
    module = type(seed).__module__.split(".")[0]
    if module in ("torch", "numpy") and not hasattr(type(seed), "__index__"):
        # e.g. a torch.Generator: its state cannot seed a portable stream.
        raise TypeError(f"seed: expected an int or str, got {module}.{type(seed).__qualname__}; {hint}")
    return u64(seed, "seed", "int or str")


def name_value(name: Any) -> "int | str | bytes":
    """A child name: str, bytes, or an int in [0, 2**64)."""
    if isinstance(name, str):
        return utf8(name, "names")
    if isinstance(name, bytes):
        return name
    if isinstance(name, (bytearray, memoryview)):
        return bytes(name)
    return u64(name, "names", _INT_NAMES)


def utf8(s: str, arg: str) -> str:
    """`s` unchanged if it has a UTF-8 encoding (no lone surrogates); seeds and names are
    hashed as UTF-8."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{arg}: expected a str encodable as UTF-8, got {s[:40]!r} (lone surrogate at index {exc.start})"
        ) from None
    return s


def index(value: Any, arg: str, expected: str) -> int:
    """`value` as a Python int: an int, a NumPy integer or a 0-d integer array (not bool)."""
    i = index_or_none(value)
    if i is None:
        raise TypeError(f"{arg}: expected {expected}, got {_kind(value)}")
    return i


def index_or_none(value: Any) -> Optional[int]:
    """`value` as an int, or None when it is not one (a bool, float, array, ...)."""
    if isinstance(value, (bool, np.bool_)) or not hasattr(type(value), "__index__"):
        return None
    try:
        return operator.index(value)
    except TypeError:  # e.g. an ndarray of more than one element
        return None


def saved_int(value: Any) -> Optional[int]:
    """An int read back from a state (NumPy integers too, e.g. after a round trip through an
    array), or None when `value` is not one."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        return None
    return int(value)


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-d ndarray of {value.dtype}"
    return type(value).__name__


def u64(value: Any, arg: str, expected: str = "an int") -> int:
    """An int in [0, 2**64) (a seed, a child name, an epoch)."""
    v = index(value, arg, expected)
    if not 0 <= v < 2**64:
        raise ValueError(f"{arg}: expected an int in [0, 2**64), got {v}")
    return v


def count(value: Any, arg: str) -> int:
    """A non-negative int (a size or a number of items)."""
    v = index(value, arg, "a non-negative int")
    if v < 0:
        raise ValueError(f"{arg}: expected a non-negative int, got {v}")
    return v


def spawn_count(value: Any, arg: str) -> int:
    """A number of children to spawn; OverflowError when negative, as NumPy's ``spawn``."""
    v = index(value, arg, "a non-negative int")
    if v < 0:
        raise OverflowError(f"{arg}: expected a non-negative int, got {v}")
    return v


def children(n: int, first: int, arg: str) -> int:
    """`n` children named ``first`` to ``first + n - 1``: names must stay below 2**64, and a
    list longer than the platform allows fails at once instead of after filling memory."""
    if first + n > 2**64:
        raise ValueError(f"{arg}: children {first} to {first + n - 1} pass the last name 2**64 - 1")
    if n > sys.maxsize // 8:
        raise MemoryError(f"{arg}: a list of {n} generators cannot be built")
    return n


def shape(size: Any) -> Optional[Tuple[int, ...]]:
    """`size` as a shape tuple; None stays None (a scalar draw)."""
    if size is None:
        return None
    if isinstance(size, np.ndarray) and size.ndim == 1:
        size = list(size)  # NumPy takes a 1-d array of ints as a shape
    if hasattr(type(size), "__index__") and not isinstance(size, (bool, np.bool_, np.ndarray)):
        return (count(size, "size"),)
    if isinstance(size, np.ndarray) and size.ndim == 0:
        return (count(size, "size"),)
    if isinstance(size, (tuple, list)):
        return dims(size, "size")
    raise TypeError(f"size: expected an int or a tuple of ints, got {_kind(size)}")


def dims(values: Any, arg: str) -> Tuple[int, ...]:
    """A sequence of non-negative ints (the dimensions of a shape)."""
    out = []
    for d in values:
        v = index(d, arg, "non-negative ints")
        if v < 0:
            raise ValueError(f"{arg}: expected non-negative ints, got {v}")
        out.append(v)
    return tuple(out)


def dtype(value: Any, allowed: Tuple[np.dtype, ...], arg: str = "dtype") -> np.dtype:
    """`value` as one of the `allowed` dtypes."""
    try:
        dt = np.dtype(value)
    except TypeError:
        raise TypeError(f"{arg}: not a NumPy dtype: {value!r}") from None
    if dt not in allowed:  # TypeError, as NumPy's "Unsupported dtype"
        names = ", ".join(str(a) for a in allowed)
        raise TypeError(f"{arg}: expected one of {names}, got {dt}")
    return dt


def allocate(shp: Optional[Tuple[int, ...]], dt: np.dtype, arg: str = "size") -> np.ndarray:
    """An uninitialised C-contiguous array; MemoryError naming `arg` if it cannot exist."""
    dims = () if shp is None else shp
    for d in dims:
        if d > sys.maxsize:
            # NumPy's own limit on one dimension, even when another one is 0.
            raise ValueError(f"{arg}: dimension {d} exceeds the largest array dimension {sys.maxsize}")
    n = 1
    for d in dims:
        n *= d
    nbytes = n * dt.itemsize
    if nbytes > sys.maxsize:
        raise MemoryError(f"{arg}: {dims} of {dt} needs {nbytes} bytes, more than this platform can address")
    try:
        return np.empty(dims, dtype=dt)
    except (MemoryError, ValueError):
        raise MemoryError(f"{arg}: cannot allocate {nbytes} bytes for {dims} of {dt}") from None


def output(out: Any, shp: Optional[Tuple[int, ...]], dt: np.dtype) -> np.ndarray:
    """Checks a caller's `out` array: exact dtype, C-contiguous, writable, shape == size."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out: expected a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dt:
        raise ValueError(f"out: dtype {out.dtype} does not match dtype={dt}")
    if not out.flags.aligned:
        raise ValueError(f"out: must be aligned to its {out.dtype} items (a copy would not be filled in place)")
    if not out.flags.c_contiguous:
        raise ValueError("out: must be C-contiguous (a copy would not be filled in place)")
    if not out.flags.writeable:
        raise ValueError("out: array is read-only")
    if shp is not None and tuple(out.shape) != shp:
        raise ValueError(f"out: shape {out.shape} does not match size={shp}")
    return out


def probability(p: Any) -> float:
    """A probability in [0, 1] as a float."""
    if isinstance(p, np.ndarray) and p.ndim == 0:
        p = p[()]
    if isinstance(p, (np.ndarray, list, tuple, np.complexfloating)) or not isinstance(
        p, (int, float, np.number)
    ):
        raise TypeError(f"p: expected a float or a NumPy array of floats, got {type(p).__name__}")
    v = _float(p, "p", "a probability in [0, 1]")
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"p: expected a probability in [0, 1], got {v!r}")
    return v


def integer(value: Any, arg: str) -> int:
    """An int bound (low or high)."""
    return index(value, arg, "an int")


def real(value: Any, arg: str) -> float:
    """A finite real number (int or float, not bool) as a float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{arg}: expected a float, got {type(value).__name__}")
    v = _float(value, arg, "a finite float")
    if not np.isfinite(v):
        raise ValueError(f"{arg}: expected a finite float, got {v!r}")
    return v


def generator(obj: Any, arg: str = "generator") -> Any:
    """A seedstream.Generator; other libraries' generators get a message saying what to pass."""
    from seedstream._generator import Generator

    if isinstance(obj, Generator):
        return obj
    t = type(obj)
    module = t.__module__.split(".")[0]
    got = f"{module}.{t.__qualname__}" if module in ("torch", "numpy") else t.__qualname__
    hint = ""
    if module in ("torch", "numpy"):
        # Their streams depend on device, call order and library version, not on a name.
        hint = "; pass seedstream.Generator(seed) (or seed=) instead, e.g. seedstream.Generator(42)"
    raise TypeError(f"{arg}: expected a seedstream.Generator, got {got}{hint}")


def seed_or_generator(seed: Any, gen: Any) -> Any:
    """The root generator of a ``seed=`` or ``generator=`` argument pair (exactly one given)."""
    from seedstream._generator import Generator

    if gen is not None:
        if seed is not None:
            raise TypeError("seed: pass seed or generator, not both")
        return generator(gen)
    if seed is None:
        raise TypeError("seed: expected an int or str (or pass generator=seedstream.Generator(seed))")
    if isinstance(seed, Generator):
        raise TypeError("seed: expected an int or str; pass a seedstream.Generator as generator=")
    return Generator(seed_value(seed, "pass seed=42 or generator=seedstream.Generator(42)"))


def _float(value: Any, arg: str, expected: str) -> float:
    """`float(value)`; an int too large for binary64 is a ValueError naming `arg`."""
    try:
        return float(value)
    except OverflowError:
        bits = int(value).bit_length()
        raise ValueError(f"{arg}: expected {expected}, got an int too large for a float ({bits} bits)") from None
