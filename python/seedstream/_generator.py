"""seedstream.Generator: a named, random-access stream with NumPy-like methods."""

from __future__ import annotations

import logging
import secrets
from collections.abc import MutableSequence
from typing import Any, Dict, List, Optional

import ml_dtypes
import numpy as np

from seedstream import _validate as v
from seedstream._bitgen import StreamBitGenerator
from seedstream._core import Stream

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
# Output formats of the continuous distributions; float16 and bfloat16 are the float32
# value rounded to nearest even (docs/spec.md#float-formats).
_CONTINUOUS = (
    np.dtype(np.float64),
    np.dtype(np.float32),
    np.dtype(np.float16),
    np.dtype(ml_dtypes.bfloat16),
)
_U16 = np.dtype(np.uint16)
_BITS = (np.dtype(np.uint32), np.dtype(np.uint64))
_INTS = tuple(
    np.dtype(t)
    for t in (np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8)
)
_BOOL = np.dtype(np.bool_)
# ndarray subclasses whose elements are all their data, so their rows can be moved as bytes.
_DATA_ONLY_ARRAYS = (np.ndarray, np.matrix, np.memmap, np.recarray)
_INT64 = np.dtype(np.int64)
_STATE_VERSION = 1
_log = logging.getLogger("seedstream")


class _FromOs:
    """Default of ``seed``: draw one from the OS (an explicit None stays an error)."""

    def __repr__(self) -> str:
        return "<128 bits from the OS>"


_FROM_OS: Any = _FromOs()


def os_seed() -> str:
    """A seed drawn from the OS: 128 bits as a str of 32 lowercase hex digits, logged once.

    A str, so its key follows the ordinary seed rules (docs/spec.md#keys) and no
    existing key changes; ``Generator(seed)`` with it reproduces the run.
    """
    seed = f"{secrets.randbits(128):032x}"
    _log.info("seed %r drawn from the OS; pass seed=%r to reproduce this run", seed, seed)
    return seed


def _state_int(value: Any, entry: str) -> int:
    i = v.saved_int(value)
    if i is None:
        raise TypeError(f"state: {entry} must be an int, got {type(value).__name__}")
    return i


class Generator:
    """A deterministic random stream: a 256-bit key plus a block position.

    ``Generator(seed)`` takes an int in [0, 2**64) or a str; ``Generator()`` draws a str
    seed of 128 bits from the OS, logs it once (logger ``"seedstream"``, level INFO) and
    keeps it in :attr:`seed`, :attr:`state` and ``repr``. The same seed, algorithm and
    child names give the same bits on every platform, thread count and release
    (docs/spec.md). Element ``i`` of a draw depends only on (key, position, i), so a draw
    of ``k`` values is a prefix of a draw of ``n > k`` at the same position.

    Every draw starts at a block boundary and advances ``position`` by the blocks it used
    (docs/spec.md#positions). Draws from several threads are atomic.

    Ctrl-C interrupts a large draw within a fraction of a second. The position is then
    where the completed draw would have left it; the output's contents are unspecified (an
    ``out=`` array holds a prefix of the draw, a shuffled array its own rows in some order)
    (docs/spec.md#interrupted-draws).
    """

    __slots__ = ("_stream", "_seed", "_os_seed", "_spawned")

    def __init__(self, seed: "int | str" = _FROM_OS, *, algorithm: str = "philox4x32") -> None:
        algorithm = v.algorithm(algorithm, "algorithm")
        self._spawned = 0
        self._os_seed = seed is _FROM_OS
        self._seed: "int | str | None" = os_seed() if self._os_seed else v.seed_value(seed)
        self._stream = Stream.from_seed(self._seed, algorithm)

    @classmethod
    def from_stream(cls, stream: Stream) -> "Generator":
        """A generator drawing from ``stream`` (a ``seedstream._core.Stream``), without a seed.

        The stream is shared, not copied: draws from either move both."""
        g = cls.__new__(cls)
        g._stream = stream
        g._seed = None
        g._os_seed = False
        g._spawned = 0
        return g

    @property
    def seed(self) -> "int | str | None":
        """The seed this generator was made from; ``Generator(g.seed, algorithm=g.algorithm)``
        is ``g`` at position 0. None for children and for generators restored from a state
        without a seed."""
        return self._seed

    @property
    def stream(self) -> Stream:
        """The extension's stream object this generator draws from (shared, not a copy): the
        one handle that code outside this class (torch, bit generators) uses."""
        return self._stream

    # -- identity and position -------------------------------------------------------
    @property
    def algorithm(self) -> str:
        """The generator algorithm by its stored name: "philox" (Philox4x32-10, also named
        "philox4x32") or "pcg64" (blocks of PCG64 outputs, also named "pcg64-stream")."""
        return self._stream.algorithm

    @property
    def key(self) -> int:
        """The 256-bit stream key as an int (little-endian bytes of the SHA-256 digest)."""
        return int.from_bytes(self._stream.key, "little")

    @property
    def position(self) -> int:
        """The next unused block: a block counter in [0, 2**64 - 1]."""
        return self._stream.position

    def child(self, *names: "str | int | bytes") -> "Generator":
        """The child stream reached through ``names`` (str, int >= 0 or bytes), at position 0.

        It depends on this key and the names only: not on this generator's position and
        not on which other children exist. ``child("a", "b") == child("a").child("b")``.
        """
        if not names:
            raise TypeError("names: child() needs at least one name")
        return Generator.from_stream(self._stream.child([v.name_value(n) for n in names]))

    def spawn(self, n: int) -> List["Generator"]:
        """``n`` new children, as NumPy's ``spawn``: ``[child(k), ..., child(k + n - 1)]``
        where ``k`` counts the children spawned before (0 at first), so successive calls
        never repeat a child. The count is part of :attr:`state` and pickles. For fixed
        children by name use :meth:`child` (``child(i)`` is the ``i``-th spawned child)."""
        n = v.children(v.count(n, "n"), self._spawned, "n")
        first = self._spawned
        kids = [Generator.from_stream(self._stream.child([i])) for i in range(first, first + n)]
        self._spawned = first + n
        return kids

    @property
    def n_children_spawned(self) -> int:
        """How many children :meth:`spawn` has returned (as NumPy's SeedSequence)."""
        return self._spawned

    def advance(self, n: int) -> "Generator":
        """Skips ``n`` blocks; returns self. ValueError if the position would pass 2**64 - 1."""
        n = v.count(n, "n")
        if n >= 2**64:
            raise ValueError(f"n: advance of {n} blocks passes position 2**64 - 1")
        self._stream.advance(n)
        return self

    def bit_generator(self) -> "StreamBitGenerator":
        """A NumPy bit generator reading this stream from the current position.

        ``numpy.random.Generator(g.bit_generator())`` draws NumPy distributions from the
        stream: raw output ``j`` is ``u64(j)`` of the word stream at this position, so
        ``bit_generator().random_raw(n)`` equals ``bits(n, dtype=uint64)``
        (docs/spec.md#stream-bit-generator). It reads a copy of the stream and never moves
        this generator; give it a child stream of its own, e.g. ``g.child("numpy")``.
        """
        return StreamBitGenerator(self)

    @property
    def state(self) -> Dict[str, Any]:
        """A plain dict that :meth:`from_state` turns back into an identical generator.

        A generator seeded from the OS also records ``"seed"``: the one seed its caller
        never chose, so a checkpoint always says how to rerun the run. One that has spawned
        children records their count as ``"n_children_spawned"``.
        """
        state: Dict[str, Any] = {
            "version": _STATE_VERSION,
            "algorithm": self.algorithm,
            "key": self.key,
            "position": self.position,
        }
        if self._os_seed:
            state["seed"] = self._seed
        if self._spawned:
            state["n_children_spawned"] = self._spawned
        return state

    @classmethod
    def from_state(cls, state: Dict[str, Any]) -> "Generator":
        """Restores a generator from :attr:`state`; it continues bit for bit."""
        if not isinstance(state, dict):
            raise TypeError(f"state: expected a dict, got {type(state).__name__}")
        missing = {"version", "algorithm", "key", "position"} - state.keys()
        if missing:
            raise ValueError(f"state: missing keys {sorted(missing)}")
        version = state["version"]
        if v.saved_int(version) != _STATE_VERSION:
            raise ValueError(f"state: unsupported version {version!r}")
        algorithm = v.ALGORITHMS.get(state["algorithm"]) if isinstance(state["algorithm"], str) else None
        if algorithm is None:
            raise ValueError(f"state: unknown algorithm {state['algorithm']!r}")
        key = _state_int(state["key"], "key")
        if not 0 <= key < 2**256:
            raise ValueError("state: key must be an int in [0, 2**256)")
        position = _state_int(state["position"], "position")
        if not 0 <= position < 2**64:
            raise ValueError("state: position must be an int in [0, 2**64)")
        g = cls.from_stream(Stream.from_key(algorithm, key.to_bytes(32, "little"), position))
        if "seed" in state:
            seed = state["seed"]
            if isinstance(seed, bool) or not isinstance(seed, (int, str)):
                raise TypeError("state: seed must be an int in [0, 2**64) or a str")
            if isinstance(seed, int) and not 0 <= seed < 2**64:
                raise ValueError("state: seed must be an int in [0, 2**64) or a str")
            if Stream.from_seed(seed, algorithm).key != g._stream.key:
                raise ValueError("state: seed does not give the state's key")
            g._seed, g._os_seed = seed, True
        if "n_children_spawned" in state:
            spawned = _state_int(state["n_children_spawned"], "n_children_spawned")
            if not 0 <= spawned <= 2**64:
                raise ValueError("state: n_children_spawned must be an int in [0, 2**64]")
            g._spawned = spawned
        return g

    def __copy__(self) -> "Generator":
        g = Generator.from_state(self.state)
        g._seed = self._seed
        return g

    def __deepcopy__(self, memo: Any) -> "Generator":
        return self.__copy__()

    def __reduce__(self) -> Any:
        return (Generator.from_state, (self.state,), (None, {"_seed": self._seed}))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Generator):
            return NotImplemented
        return (self.algorithm, self.key, self.position) == (other.algorithm, other.key, other.position)

    __hash__ = None  # type: ignore[assignment]  # mutable: the position changes

    def __repr__(self) -> str:
        return (
            f"Generator(algorithm={self.algorithm!r}, key=0x{self.key:064x}, "
            f"position={self.position}"
            + ("" if self._seed is None else f", seed={self._seed!r}")
            + ")"
        )

    # -- draws -----------------------------------------------------------------------
    def _target(self, size: Any, dt: np.dtype, out: Any) -> np.ndarray:
        shp = v.shape(size)
        if out is None:
            return v.allocate(shp, dt)
        return v.output(out, shp, dt)

    @staticmethod
    def _result(arr: np.ndarray, size: Any, out: Any) -> Any:
        return arr[()] if size is None and out is None else arr

    def bits(self, size: Any = None, dtype: Any = np.uint32, out: Optional[np.ndarray] = None) -> Any:
        """Raw random bits as uint32 (one word each) or uint64 (two words each)."""
        dt = v.dtype(dtype, _BITS)
        arr = self._target(size, dt, out)
        if dt == _BITS[0]:
            self._stream.fill_bits_u32(arr)
        else:
            self._stream.fill_bits_u64(arr)
        return self._result(arr, size, out)

    def random(self, size: Any = None, dtype: Any = np.float64, out: Optional[np.ndarray] = None) -> Any:
        """Uniform floats in [0, 1): multiples of 2**-53 (float64) or 2**-24 (float32)."""
        dt = v.dtype(dtype, _FLOATS)
        arr = self._target(size, dt, out)
        if dt == _FLOATS[0]:
            self._stream.fill_random_f64(arr)
        else:
            self._stream.fill_random_f32(arr)
        return self._result(arr, size, out)

    def _fill_continuous(self, method: str, args: Any, size: Any, dtype: Any, out: Any) -> Any:
        dt = v.dtype(dtype, _CONTINUOUS)
        arr = self._target(size, dt, out)
        # 16-bit formats travel as uint16 views of the same memory.
        buf = arr.view(_U16) if dt.itemsize == 2 else arr
        getattr(self._stream, method)(buf, dt.name, *args)
        return self._result(arr, size, out)

    def standard_normal(self, size: Any = None, dtype: Any = np.float64, out: Optional[np.ndarray] = None) -> Any:
        """Standard normal samples; the same bits as ``normal(0.0, 1.0, ...)``.

        dtype: float64, float32, float16 or bfloat16 (``ml_dtypes.bfloat16``); the 16-bit
        formats are the float32 sample rounded to nearest even. Box-Muller with the
        library's own logarithm and cosine/sine (docs/spec.md#normal-v1): 2 words per
        element for float64, 1 otherwise.
        """
        return self._fill_continuous("fill_normal", (0.0, 1.0), size, dtype, out)

    def normal(
        self,
        loc: float = 0.0,
        scale: float = 1.0,
        size: Any = None,
        dtype: Any = np.float64,
        out: Optional[np.ndarray] = None,
    ) -> Any:
        """Normal samples ``loc + scale * z`` (computed in float64, then rounded to dtype).

        ``loc`` and ``scale`` are finite floats, ``scale >= 0``. dtype as for
        :meth:`standard_normal`. Samples are never infinite: ValueError naming ``loc`` or
        ``scale`` when one could overflow the dtype, i.e. ``loc +- scale * 9.49`` (float64)
        or ``loc +- scale * 6.76`` (other dtypes) does (docs/spec.md#normal-v1).
        """
        loc_f = v.real(loc, "loc")
        scale_f = v.real(scale, "scale")
        if scale_f < 0:
            raise ValueError(f"scale: expected a finite float >= 0, got {scale_f}")
        return self._fill_continuous("fill_normal", (loc_f, scale_f), size, dtype, out)

    def uniform(
        self,
        low: float = 0.0,
        high: float = 1.0,
        size: Any = None,
        dtype: Any = np.float64,
        out: Optional[np.ndarray] = None,
    ) -> Any:
        """Uniform samples ``low + (high - low) * U`` with ``U`` from :meth:`random`.

        Computed in float64, clamped to the dtype's values inside [low, high] and rounded:
        samples never leave [low, high] (they can equal ``high`` only through rounding).
        ``uniform(0, 1)`` equals ``random()``. Requires finite ``low <= high``, and for
        float16/bfloat16 bounds whose values stay finite in the dtype (ValueError naming
        ``low`` or ``high`` otherwise: no sample is ever infinite).
        """
        lo = v.real(low, "low")
        hi = v.real(high, "high")
        if lo > hi:
            raise ValueError(f"high: expected low <= high, got low={lo}, high={hi}")
        return self._fill_continuous("fill_uniform", (lo, hi), size, dtype, out)

    def truncated_normal(
        self,
        loc: float = 0.0,
        scale: float = 1.0,
        a: float = -2.0,
        b: float = 2.0,
        size: Any = None,
        dtype: Any = np.float64,
        out: Optional[np.ndarray] = None,
    ) -> Any:
        """Normal(loc, scale) samples truncated to [a, b].

        ``a`` and ``b`` are absolute bounds, as in ``torch.nn.init.trunc_normal_`` (so the
        defaults with ``scale=0.02`` are +-100 standard deviations). Exact inverse-CDF
        sampling, one uniform per element, accurate however far in the tail the interval
        lies; samples never leave [a, b], also after rounding to dtype
        (docs/spec.md#truncated-normal-v1). Requires finite ``a < b`` and ``scale > 0``.
        """
        loc_f = v.real(loc, "loc")
        scale_f = v.real(scale, "scale")
        if scale_f <= 0:
            raise ValueError(f"scale: expected a finite float > 0, got {scale_f}")
        a_f = v.real(a, "a")
        b_f = v.real(b, "b")
        if a_f >= b_f:
            raise ValueError(f"b: expected a < b, got a={a_f}, b={b_f}")
        return self._fill_continuous("fill_truncated_normal", (loc_f, scale_f, a_f, b_f), size, dtype, out)

    def integers(
        self,
        low: int,
        high: Optional[int] = None,
        size: Any = None,
        dtype: Any = np.int64,
        endpoint: bool = False,
        out: Optional[np.ndarray] = None,
    ) -> Any:
        """Uniform integers in [low, high) (or [low, high] with ``endpoint=True``).

        ``integers(n)`` draws from [0, n). Bias is below 2**-64: element ``i`` is
        ``low + floor(range * Z / 2**128)`` with ``Z = X * 2**64 + Y``, ``X`` the two words
        of element ``i`` (two elements per block) and ``Y`` the same words of the extension
        stream, read only when it can change the result (docs/spec.md#integers-v1).
        """
        dt = v.dtype(dtype, _INTS)
        lo = v.integer(low, "low")
        if high is None:
            lo, hi = 0, lo
        else:
            hi = v.integer(high, "high")
        last = hi if endpoint else hi - 1
        if last < lo and high is None:
            rel = ">=" if endpoint else ">"
            raise ValueError(f"low: expected low {rel} 0 when high is None (draws from [0, low)), got {hi}")
        if last < lo:
            rel = "<" if endpoint else "<="
            raise ValueError(f"high: expected low {rel} high, got low={lo}, high={hi}")
        info = np.iinfo(dt)
        if lo < info.min:
            raise ValueError(f"low: {lo} is out of bounds for {dt}")
        if last > info.max:
            raise ValueError(f"high: {hi} is out of bounds for {dt} (endpoint={bool(endpoint)})")
        arr = self._target(size, dt, out)
        self._stream.fill_integers(arr, lo, last - lo + 1)
        return self._result(arr, size, out)

    def bernoulli(self, p: Any, size: Any = None, out: Optional[np.ndarray] = None) -> Any:
        """Bool draws that are True with probability ``round(p * 2**32) / 2**32``.

        ``p`` is a float, or a NumPy array of probabilities giving element ``i`` its own
        ``p[i]`` (the result then has ``p``'s shape; ``size``, if given, must equal it).
        """
        if isinstance(p, np.ndarray) and p.ndim > 0:
            probs = np.ascontiguousarray(p, dtype=np.float64)
            if out is not None and isinstance(out, np.ndarray) and np.may_share_memory(probs, out):
                raise ValueError("out: must not share memory with p (each p[i] is read while out is written)")
            shp = v.shape(size)
            if shp is not None and shp != probs.shape:
                raise ValueError(f"size: {shp} does not match the shape of p {probs.shape}")
            arr = self._target(probs.shape, _BOOL, out)
            self._stream.fill_bernoulli_per_element(arr, probs)
            return arr
        prob = v.probability(p)
        arr = self._target(size, _BOOL, out)
        self._stream.fill_bernoulli(arr, prob)
        return self._result(arr, size, out)

    def permutation(self, x: Any, *, out: Optional[np.ndarray] = None) -> np.ndarray:
        """A shuffled ``arange(x)`` for an int, else a shuffled copy of ``x`` along axis 0.

        For an int, ``out`` may be a C-contiguous int64 array of length ``x`` to fill.
        """
        if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
            n = v.count(x, "x")
            arr = v.allocate((n,), _INT64, "x") if out is None else v.output(out, (n,), _INT64)
            self._stream.fill_permutation(arr)
            return arr
        if out is not None:
            raise TypeError("out: only supported when x is an int")
        a = np.asarray(x)
        if a.ndim == 0:
            raise ValueError("x: expected an int or an array with at least one dimension")
        return a[self.permutation(len(a))]

    def shuffle(self, x: Any) -> None:
        """Shuffles ``x`` (an ndarray or mutable sequence) in place along axis 0.

        Any ndarray subclass or view is shuffled in place (``np.matrix``, memmaps, unaligned
        views; a masked array's mask moves with its data).

        Same order as ``permutation(len(x))``: afterwards ``x[k]`` is old ``x[perm[k]]``.
        If interrupted (Ctrl-C), ``x`` holds its own rows in an unspecified order.
        """
        if isinstance(x, np.ndarray):
            if not x.flags.writeable:
                raise ValueError("x: array is read-only")
            if x.ndim == 0:
                raise ValueError("x: expected an array with at least one dimension")
            n = len(x)
            if isinstance(x, np.ma.MaskedArray):  # data and mask move together
                x[...] = x[self.permutation(n)]
                return
            row_bytes = x.itemsize * (x.size // n if n else 0)
            # The fast path moves raw rows of a plain view of x's memory (a matrix stays 2-D
            # under reshape, so it cannot be used itself). Other subclasses (a masked array's
            # mask must move too) and unaligned arrays use x's own indexing below.
            base = x.view(np.ndarray) if type(x) in _DATA_ONLY_ARRAYS else None
            if (
                base is not None
                and base.flags.c_contiguous
                and base.flags.aligned
                and not x.dtype.hasobject
                and row_bytes > 0
            ):
                rows = base.reshape(n, -1).view(np.uint8)
                if row_bytes in (1, 2, 4, 8):
                    self._stream.shuffle_rows(rows.view(f"u{row_bytes}").reshape(n))
                else:
                    self._stream.shuffle_rows(rows)
                return
            x[...] = x[self.permutation(n)]
            return
        if isinstance(x, MutableSequence):
            perm = self.permutation(len(x))
            x[:] = [x[i] for i in perm]
            return
        raise TypeError(f"x: expected a numpy.ndarray or mutable sequence, got {type(x).__name__}")
