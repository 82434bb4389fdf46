"""A pure-Python/NumPy reference implementation of seedstream, written from docs/spec.md only.

Nothing here is derived from the Rust sources: every function follows one section of the
specification, and the section is named in its docstring. Arithmetic uses only Python ints
(for 128-bit and wider math), ``hashlib.sha256`` and NumPy integer/bit operations on uint64
arrays with explicit masking for 32-bit words. No floating-point transcendental functions
are used in this file; the only float operations here are exact conversions and
multiplications by powers of two. The continuous distributions use ``detmath_ref``, which
follows the spec's IEEE operation sequences with NumPy's basic arithmetic.
"""

from __future__ import annotations

import hashlib
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import detmath_ref as dm

__all__ = [
    "MASK32",
    "MASK64",
    "MASK128",
    "philox4x32_10",
    "philox4x32_10_vec",
    "PCG_MULT",
    "DXSM_MULT",
    "pcg_seed",
    "lcg_advance",
    "pcg64_xslrr_outputs",
    "pcg64_dxsm_outputs",
    "encode",
    "root_key",
    "child_key",
    "extension_key",
    "key_to_int",
    "philox_blocks",
    "pcg64_blocks",
    "blocks",
    "word_stream",
    "RefGenerator",
]

MASK32 = (1 << 32) - 1
MASK64 = (1 << 64) - 1
MASK128 = (1 << 128) - 1
MAX_POSITION = (1 << 64) - 1

_U32 = np.uint64(MASK32)
_SH32 = np.uint64(32)

# --------------------------------------------------------------------------------------
# Philox4x32-10 (spec: "Philox4x32-10")
# --------------------------------------------------------------------------------------
PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85


def philox4x32_10_vec(c0, c1, c2, c3, k0: int, k1: int) -> Tuple[np.ndarray, ...]:
    """Philox4x32-10 over many counters at once.

    ``c0..c3`` are uint64 arrays (or anything broadcastable to them) holding 32-bit words;
    ``k0``, ``k1`` are Python ints (one key for all counters). Returns the four output words
    as uint64 arrays with values in [0, 2**32).
    """
    c0 = np.asarray(c0, dtype=np.uint64) & _U32
    c1 = np.asarray(c1, dtype=np.uint64) & _U32
    c2 = np.asarray(c2, dtype=np.uint64) & _U32
    c3 = np.asarray(c3, dtype=np.uint64) & _U32
    c0, c1, c2, c3 = np.broadcast_arrays(c0, c1, c2, c3)
    m0 = np.uint64(PHILOX_M0)
    m1 = np.uint64(PHILOX_M1)
    k0 &= MASK32
    k1 &= MASK32
    for rnd in range(10):
        if rnd > 0:  # key bump before rounds 2..10
            k0 = (k0 + PHILOX_W0) & MASK32
            k1 = (k1 + PHILOX_W1) & MASK32
        # 32x32 -> 64-bit products: exact in uint64 (both factors < 2**32).
        p0 = c0 * m0
        p1 = c2 * m1
        c0, c1, c2, c3 = (
            (p1 >> _SH32) ^ c1 ^ np.uint64(k0),
            p1 & _U32,
            (p0 >> _SH32) ^ c3 ^ np.uint64(k1),
            p0 & _U32,
        )
    return c0, c1, c2, c3


def philox4x32_10(counter: Sequence[int], key: Sequence[int]) -> Tuple[int, int, int, int]:
    """Philox4x32-10 of one counter (4 words, c0 least significant) and key (2 words)."""
    if len(counter) != 4 or len(key) != 2:
        raise ValueError("philox4x32_10: expected 4 counter words and 2 key words")
    out = philox4x32_10_vec(*(np.uint64(int(c) & MASK32) for c in counter), int(key[0]), int(key[1]))
    return tuple(int(w) for w in out)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------
# PCG64 (spec: "PCG64")
# --------------------------------------------------------------------------------------
PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645
DXSM_MULT = 0xDA942042E4DD58B5


def pcg_seed(initstate: int, initseq: int) -> Tuple[int, int]:
    """NumPy's ``pcg_setseq_128_srandom_r``: returns ``(state, inc)``."""
    inc = ((initseq << 1) | 1) & MASK128
    s = (inc + initstate) & MASK128
    s = (s * PCG_MULT + inc) & MASK128
    return s, inc


def lcg_advance(state: int, delta: int, inc: int, mult: int = PCG_MULT) -> int:
    """The LCG ``s' = s * mult + inc`` applied ``delta`` (mod 2**128) times, in O(log delta)
    by composing the affine map with itself (Brown 1994)."""
    delta &= MASK128
    acc_mult, acc_plus = 1, 0
    cur_mult, cur_plus = mult & MASK128, inc & MASK128
    while delta:
        if delta & 1:
            acc_mult = (acc_mult * cur_mult) & MASK128
            acc_plus = (acc_plus * cur_mult + cur_plus) & MASK128
        cur_plus = ((cur_mult + 1) * cur_plus) & MASK128
        cur_mult = (cur_mult * cur_mult) & MASK128
        delta >>= 1
    return (acc_mult * state + acc_plus) & MASK128


def _rotr64(x: int, r: int) -> int:
    r &= 63
    return ((x >> r) | (x << ((64 - r) & 63))) & MASK64


def pcg64_xslrr_outputs(state: int, inc: int, n: int) -> Tuple[List[int], int]:
    """``n`` PCG64 (XSL-RR) outputs from ``state``; returns ``(outputs, new_state)``."""
    out = []
    s = state
    for _ in range(n):
        s = (s * PCG_MULT + inc) & MASK128
        hi = s >> 64
        out.append(_rotr64(hi ^ (s & MASK64), hi >> 58))
    return out, s


def pcg64_dxsm_outputs(state: int, inc: int, n: int) -> Tuple[List[int], int]:
    """``n`` PCG64-DXSM outputs from ``state``; returns ``(outputs, new_state)``.

    Per the spec the output is computed from the state *before* the step, and the step
    uses the 64-bit multiplier ``0xDA942042E4DD58B5``."""
    out = []
    s = state
    for _ in range(n):
        h = s >> 64
        lo = (s & MASK64) | 1
        h ^= h >> 32
        h = (h * DXSM_MULT) & MASK64
        h ^= h >> 48
        h = (h * lo) & MASK64
        s = (s * DXSM_MULT + inc) & MASK128
        out.append(h)
    return out, s


# --------------------------------------------------------------------------------------
# Keys (spec: "Keys")
# --------------------------------------------------------------------------------------
_ROOT_PREFIX = b"seedstream/root/v1\x00"
_CHILD_PREFIX = b"seedstream/child/v1\x00"
_EXTENSION_PREFIX = b"seedstream/extension/v1\x00"

Name = Union[str, int, bytes]


def encode(value: Name) -> bytes:
    """Tag byte, payload length as u64 LE, payload."""
    if isinstance(value, str):
        tag, payload = 0x01, value.encode("utf-8")
    elif isinstance(value, bool):
        raise TypeError("bool is not accepted as an int")
    elif isinstance(value, int):
        if not 0 <= value < 1 << 64:
            raise ValueError("int seeds/names must be in [0, 2**64)")
        tag, payload = 0x02, value.to_bytes(8, "little")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        tag, payload = 0x03, bytes(value)
    else:
        raise TypeError(f"cannot encode {type(value).__name__}")
    return bytes([tag]) + len(payload).to_bytes(8, "little") + payload


def root_key(seed: Name) -> bytes:
    return hashlib.sha256(_ROOT_PREFIX + encode(seed)).digest()


def child_key(parent: bytes, name: Name) -> bytes:
    if len(parent) != 32:
        raise ValueError("parent key must be 32 bytes")
    return hashlib.sha256(_CHILD_PREFIX + parent + encode(name)).digest()


def extension_key(key: bytes) -> bytes:
    """The key E of a stream's extension stream (spec: integers-v1, "Extension stream")."""
    if len(key) != 32:
        raise ValueError("key must be 32 bytes")
    return hashlib.sha256(_EXTENSION_PREFIX + key).digest()


def key_to_int(key: bytes) -> int:
    return int.from_bytes(key, "little")


# --------------------------------------------------------------------------------------
# Blocks and the word stream (spec: "Blocks")
# --------------------------------------------------------------------------------------
def _key_words(key: bytes) -> List[int]:
    return [int.from_bytes(key[4 * i : 4 * i + 4], "little") for i in range(8)]


def philox_blocks(key: bytes, start: int, count: int) -> np.ndarray:
    """Blocks ``start .. start+count-1`` of a philox stream as a (count, 4) uint32 array."""
    if count == 0:
        return np.zeros((0, 4), dtype=np.uint32)
    if not (0 <= start and start + count <= 1 << 64):
        raise ValueError("block counter out of range")
    kw = _key_words(key)
    n = np.uint64(start) + np.arange(count, dtype=np.uint64)  # never wraps (checked above)
    w = philox4x32_10_vec(n & _U32, n >> _SH32, np.uint64(kw[2]), np.uint64(kw[3]), kw[0], kw[1])
    return np.stack(w, axis=1).astype(np.uint32)


def pcg64_blocks(key: bytes, start: int, count: int) -> np.ndarray:
    """Blocks ``start .. start+count-1`` of a pcg64 stream as a (count, 4) uint32 array."""
    if count == 0:
        return np.zeros((0, 4), dtype=np.uint32)
    initstate = int.from_bytes(key[0:16], "little")
    initseq = int.from_bytes(key[16:32], "little")
    s, inc = pcg_seed(initstate, initseq)
    s = lcg_advance(s, 2 * start, inc)
    xs, _ = pcg64_xslrr_outputs(s, inc, 2 * count)
    words = []
    for x in xs:
        words.append(x & MASK32)
        words.append(x >> 32)
    return np.array(words, dtype=np.uint64).astype(np.uint32).reshape(count, 4)


def blocks(algorithm: str, key: bytes, start: int, count: int) -> np.ndarray:
    if algorithm == "philox":
        return philox_blocks(key, start, count)
    if algorithm == "pcg64":
        return pcg64_blocks(key, start, count)
    raise ValueError(f"unknown algorithm {algorithm!r}")


def word_stream(algorithm: str, key: bytes, position: int, nwords: int) -> np.ndarray:
    """Words ``0 .. nwords-1`` of the word stream at block ``position`` (uint32 array)."""
    nblocks = -(-nwords // 4)
    return blocks(algorithm, key, position, nblocks).reshape(-1)[:nwords]


# --------------------------------------------------------------------------------------
# Generator (spec: "Positions", "Methods")
# --------------------------------------------------------------------------------------
_INT_DTYPES = tuple(
    np.dtype(t)
    for t in (np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8)
)


def _shape(size: Any) -> Optional[Tuple[int, ...]]:
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    return tuple(int(d) for d in size)


def _count(shape: Optional[Tuple[int, ...]]) -> int:
    n = 1
    for d in shape or ():
        n *= d
    return n


def _finish(flat: np.ndarray, shape: Optional[Tuple[int, ...]]) -> Any:
    if shape is None:
        return flat.reshape(())[()]
    return flat.reshape(shape)


class RefGenerator:
    """Reference of ``seedstream.Generator``: ``(algorithm, K, position)``."""

    def __init__(self, seed: Name, algorithm: str = "philox", *, _key: Optional[bytes] = None,
                 _position: int = 0) -> None:
        if algorithm not in ("philox", "pcg64"):
            raise ValueError(f"unknown algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._key = root_key(seed) if _key is None else bytes(_key)
        self._position = _position
        self._spawned = 0

    @classmethod
    def from_key(cls, algorithm: str, key: bytes, position: int = 0) -> "RefGenerator":
        return cls(None, algorithm, _key=key, _position=position)  # type: ignore[arg-type]

    # -- identity ----------------------------------------------------------------------
    @property
    def key(self) -> int:
        return key_to_int(self._key)

    @property
    def key_bytes(self) -> bytes:
        return self._key

    @property
    def position(self) -> int:
        return self._position

    def child(self, *names: Name) -> "RefGenerator":
        k = self._key
        for n in names:
            k = child_key(k, n)
        return RefGenerator.from_key(self.algorithm, k, 0)

    def spawn(self, n: int) -> List["RefGenerator"]:
        first, self._spawned = self._spawned, self._spawned + n
        return [self.child(i) for i in range(first, first + n)]

    # -- positions ---------------------------------------------------------------------
    def _take(self, nblocks: int) -> int:
        """Reserves ``nblocks`` blocks; returns the draw's start position."""
        if self._position + nblocks > MAX_POSITION:
            raise ValueError("draw would move the position past 2**64 - 1")
        start = self._position
        self._position += nblocks
        return start

    def advance(self, n: int) -> "RefGenerator":
        if n < 0:
            raise ValueError("n must be non-negative")
        self._take(n)
        return self

    def _check(self, nblocks: int) -> None:
        # Checked before generating anything: a failing draw changes nothing.
        if self._position + nblocks > MAX_POSITION:
            raise ValueError("draw would move the position past 2**64 - 1")

    def _words(self, nwords: int) -> np.ndarray:
        """Words 0..nwords-1 of the word stream at the position; moves the position."""
        nblocks = -(-nwords // 4)
        self._check(nblocks)
        w = word_stream(self.algorithm, self._key, self._position, nwords)
        self._take(nblocks)
        return w

    @staticmethod
    def _u64_list(words: np.ndarray) -> List[int]:
        w = words.astype(np.uint64)
        return (w[0::2] | (w[1::2] << _SH32)).tolist()

    def _xy(self, n: int) -> Tuple[List[int], List[int]]:
        """``X = u64(i)`` of the word stream and ``Y = u64(i)`` of the extension stream at
        the same position, for i < n; moves the position by ceil(2n / 4) blocks (the
        extension stream never moves it)."""
        nblocks = -(-2 * n // 4)
        self._check(nblocks)
        start = self._position
        xs = self._u64_list(word_stream(self.algorithm, self._key, start, 2 * n))
        ys = self._u64_list(word_stream(self.algorithm, extension_key(self._key), start, 2 * n))
        self._take(nblocks)
        return xs, ys

    def block(self, n: int, extension: bool = False) -> np.ndarray:
        """Block ``n`` (of the extension stream if ``extension``) as 4 uint32 words; does
        not move the position."""
        key = extension_key(self._key) if extension else self._key
        return blocks(self.algorithm, key, n, 1)[0]

    # -- methods -----------------------------------------------------------------------
    def bits(self, size: Any = None, dtype: Any = np.uint32) -> Any:
        dt = np.dtype(dtype)
        shape = _shape(size)
        n = _count(shape)
        if dt == np.uint32:
            flat = self._words(n).astype(np.uint32)
        elif dt == np.uint64:
            w = self._words(2 * n).astype(np.uint64)
            flat = w[0::2] | (w[1::2] << _SH32)
        else:
            raise ValueError(f"bits: unsupported dtype {dt}")
        return _finish(flat, shape)

    def random(self, size: Any = None, dtype: Any = np.float64) -> Any:
        dt = np.dtype(dtype)
        shape = _shape(size)
        n = _count(shape)
        if dt == np.float32:
            w = self._words(n).astype(np.uint64)
            # (u32 >> 8) < 2**24 converts exactly; times 2**-24 is exact.
            flat = (w >> np.uint64(8)).astype(np.float32) * np.float32(2.0**-24)
        elif dt == np.float64:
            w = self._words(2 * n).astype(np.uint64)
            u = w[0::2] | (w[1::2] << _SH32)
            flat = (u >> np.uint64(11)).astype(np.float64) * np.float64(2.0**-53)
        else:
            raise ValueError(f"random: unsupported dtype {dt}")
        return _finish(flat.astype(dt), shape)

    def integers(self, low: int, high: Optional[int] = None, size: Any = None,
                 dtype: Any = np.int64, endpoint: bool = False) -> Any:
        dt = np.dtype(dtype)
        if dt not in _INT_DTYPES:
            raise ValueError(f"integers: unsupported dtype {dt}")
        low = int(low)
        if high is None:
            low, high = 0, low
        high = int(high)
        r = high - low + (1 if endpoint else 0)
        if not 1 <= r <= 1 << 64:
            raise ValueError("integers: range must be in [1, 2**64]")
        info = np.iinfo(dt)
        last = low + r - 1
        if low < info.min or last > info.max:
            raise ValueError("integers: low or the largest value does not fit the dtype")
        shape = _shape(size)
        n = _count(shape)
        xs, ys = self._xy(n)
        # The defining formula low + floor(r * Z / 2**128), Z = X * 2**64 + Y, in exact
        # Python-int arithmetic (the spec's carry branch is only an optimisation).
        vals = [low + ((r * ((x << 64) | y)) >> 128) for x, y in zip(xs, ys)]
        flat = np.array(vals, dtype=object).astype(dt) if n else np.zeros(0, dtype=dt)
        return _finish(flat, shape)

    def bernoulli(self, p: float, size: Any = None) -> Any:
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise ValueError("bernoulli: p must be in [0, 1]")
        # p * 2**32 is exact in binary64; Python's round() on a float is ties-to-even.
        t = round(p * 4294967296.0)
        shape = _shape(size)
        n = _count(shape)
        w = self._words(n).astype(np.uint64)
        flat = w < np.uint64(t)
        return _finish(flat, shape)

    def _fisher_yates_steps(self, n: int) -> List[Tuple[int, int]]:
        """The (i, j) swaps of permutation-v1 for ``n`` items; moves the position."""
        steps = max(n - 1, 0)
        xs, ys = self._xy(steps)
        swaps = []
        for s in range(steps):
            i = n - 1 - s
            z = (xs[s] << 64) | ys[s]
            j = ((i + 1) * z) >> 128  # integers-v1 element s with low = 0, r = i + 1
            swaps.append((i, j))
        return swaps

    def permutation(self, x: Any) -> np.ndarray:
        if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
            n = int(x)
            items = list(range(n))
            for i, j in self._fisher_yates_steps(n):
                items[i], items[j] = items[j], items[i]
            return np.array(items, dtype=np.int64)
        a = np.asarray(x)
        if a.ndim == 0:
            raise ValueError("permutation: expected an int or an array with ndim >= 1")
        return a[self.permutation(len(a))]

    def shuffle(self, x: Any) -> None:
        """Fisher-Yates swaps applied to axis 0 of ``x`` in place."""
        n = len(x)
        swaps = self._fisher_yates_steps(n)
        if isinstance(x, np.ndarray):
            for i, j in swaps:
                if i != j:
                    x[[i, j]] = x[[j, i]]
        else:
            for i, j in swaps:
                x[i], x[j] = x[j], x[i]

    # -- continuous distributions (spec: "Continuous distributions") --------------------
    _FLOAT_FORMATS = ("float64", "float32", "float16", "bfloat16")

    def _float_format(self, dtype: Any) -> str:
        name = np.dtype(dtype).name
        if name not in self._FLOAT_FORMATS:
            raise ValueError(f"unsupported dtype {name}")
        return name

    def _float_words(self, n: int, fmt: str) -> np.ndarray:
        """All words of the whole blocks of a draw of n elements; moves the position."""
        per = 2 if fmt == "float64" else 1
        nblocks = -(-n * per // 4)
        self._check(nblocks)
        words = blocks(self.algorithm, self._key, self._position, nblocks).reshape(-1)
        self._take(nblocks)
        return words

    @staticmethod
    def _store(x: np.ndarray, fmt: str) -> np.ndarray:
        """binary64 values to the format: float32 rounds once, the 16-bit formats round the
        float32 value to nearest even."""
        if fmt == "float64":
            return x.astype(np.float64)
        x32 = x.astype(np.float32)
        if fmt == "float32":
            return x32
        if fmt == "float16":
            return dm.f32_to_f16_bits(x32).view(np.float16)
        import ml_dtypes

        return dm.f32_to_bf16_bits(x32).view(ml_dtypes.bfloat16)

    def _holds_finite(self, x: float, fmt: str) -> bool:
        """Whether the binary64 result x is finite once stored in the format."""
        with np.errstate(over="ignore"):
            return bool(np.isfinite(self._store(np.array([x]), fmt).astype(np.float64)).all())

    @staticmethod
    def _largest_z(fmt: str) -> float:
        """normal-v1's largest |z|: r at A = 0, in the format's Box-Muller precision."""
        if fmt == "float64":
            return float(np.sqrt(0.0 - 2.0 * dm.ln64(np.array([0.5 * 2.0**-64])))[0])
        u1 = np.array([0.5 * 2.0**-32], dtype=np.float32)
        return float(np.sqrt(np.float32(0.0) - np.float32(2.0) * dm.ln32(u1))[0])

    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return self.normal(0.0, 1.0, size, dtype)

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = None, dtype: Any = np.float64) -> Any:
        """normal-v1: Box-Muller pairs."""
        loc, scale = float(loc), float(scale)
        if not (np.isfinite(loc) and np.isfinite(scale) and scale >= 0):
            raise ValueError("normal: loc, scale must be finite, scale >= 0")
        fmt = self._float_format(dtype)
        if not self._holds_finite(loc, fmt):
            raise ValueError("loc: beyond the finite range of the format")
        r_max = self._largest_z(fmt)
        if not (self._holds_finite(loc - scale * r_max, fmt) and self._holds_finite(loc + scale * r_max, fmt)):
            raise ValueError("scale: samples overflow the format")
        shape = _shape(size)
        n = _count(shape)
        words = self._float_words(n, fmt)
        pairs = -(-n // 2)
        if fmt == "float64":
            w = words[: 4 * pairs].astype(np.uint64)
            a = w[0::4] | (w[1::4] << _SH32)
            b = w[2::4] | (w[3::4] << _SH32)
            u1 = (a.astype(np.float64) + 0.5) * 2.0**-64
            r = np.sqrt(0.0 - 2.0 * dm.ln64(u1))
            c, s = dm.cos_sin_octant64(b)
            z = np.empty(2 * pairs, dtype=np.float64)
            z[0::2] = loc + scale * (r * c)
            z[1::2] = loc + scale * (r * s)
            flat = z[:n]
        else:
            w = words[: 2 * pairs].astype(np.uint32)
            a, b = w[0::2], w[1::2]
            u1 = (a.astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-32)
            r = np.sqrt(np.float32(0.0) - np.float32(2.0) * dm.ln32(u1))
            c, s = dm.cos_sin_octant32(b)
            z = np.empty(2 * pairs, dtype=np.float64)
            z[0::2] = loc + scale * (r * c).astype(np.float64)
            z[1::2] = loc + scale * (r * s).astype(np.float64)
            flat = z[:n]
        return _finish(self._store(flat, fmt), shape)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None, dtype: Any = np.float64) -> Any:
        """uniform-v1."""
        low, high = float(low), float(high)
        fmt = self._float_format(dtype)
        clamp = "float64" if fmt == "float64" else "float32"
        lo, hi = dm.round_up_to(clamp, low), dm.round_down_to(clamp, high)
        if not (np.isfinite(low) and np.isfinite(high) and low <= high and lo <= hi):
            raise ValueError("uniform: bad low, high")
        if not self._holds_finite(lo, fmt):
            raise ValueError("low: beyond the finite range of the format")
        if not self._holds_finite(hi, fmt):
            raise ValueError("high: beyond the finite range of the format")
        span = high - low
        shape = _shape(size)
        n = _count(shape)
        words = self._float_words(n, fmt)
        if fmt == "float64":
            w = words[: 2 * n].astype(np.uint64)
            u = ((w[0::2] | (w[1::2] << _SH32)) >> np.uint64(11)).astype(np.float64) * 2.0**-53
        else:
            w = words[:n].astype(np.uint64)
            u = ((w >> np.uint64(8)).astype(np.float32) * np.float32(2.0**-24)).astype(np.float64)
        x = low + span * u
        x = np.where(x < lo, lo, x)
        x = np.where(x > hi, hi, x)
        return _finish(self._store(x, fmt), shape)

    def truncated_normal(self, loc: float = 0.0, scale: float = 1.0, a: float = -2.0, b: float = 2.0,
                         size: Any = None, dtype: Any = np.float64) -> Any:
        """truncated-normal-v1."""
        loc, scale, a, b = float(loc), float(scale), float(a), float(b)
        fmt = self._float_format(dtype)
        lo, hi = dm.round_up_to(fmt, a), dm.round_down_to(fmt, b)
        if not (all(np.isfinite(v) for v in (loc, scale, a, b)) and scale > 0 and a < b and lo <= hi):
            raise ValueError("truncated_normal: bad parameters")
        lim = 2.0**100
        alpha = max(-lim, min(lim, (a - loc) / scale))
        beta = max(-lim, min(lim, (b - loc) / scale))
        shape = _shape(size)
        n = _count(shape)
        words = self._float_words(n, fmt)
        if fmt == "float64":
            w = words[: 2 * n].astype(np.uint64)
            u = (((w[0::2] | (w[1::2] << _SH32)) >> np.uint64(12)).astype(np.float64) + 0.5) * 2.0**-52
        else:
            u = (words[:n].astype(np.float64) + 0.5) * 2.0**-32
        if alpha >= 30.0:
            z = _far_tail(1.0, alpha, beta, u)
        elif beta <= -30.0:
            z = _far_tail(-1.0, -beta, -alpha, u)
        else:
            z = _general(alpha, beta, u)
        x = loc + scale * z
        x = np.where(x < lo, lo, x)
        x = np.where(x > hi, hi, x)
        return _finish(self._store(x, fmt), shape)

    def __repr__(self) -> str:
        return (f"RefGenerator(algorithm={self.algorithm!r}, key=0x{self.key:064x}, "
                f"position={self._position})")


# --------------------------------------------------------------------------------------
# truncated-normal-v1 quantiles (spec: "truncated-normal-v1")
# --------------------------------------------------------------------------------------
def _general(alpha: float, beta: float, u: np.ndarray) -> np.ndarray:
    def qx(x: float) -> float:
        return dm.Q(x) if x >= 0 else 1.0 - dm.Q(-x)

    pa, pb, qa, qb = dm.Phi(alpha), dm.Phi(beta), qx(alpha), qx(beta)
    if alpha >= 0:
        w = qa - qb
    elif beta <= 0:
        w = pb - pa
    else:
        w = dm.D(beta) - dm.D(alpha)
    c0 = dm.D(alpha)
    log_pb, ratio_lower = dm.ln_scalar(pb), pa / pb
    log_qa, ratio_upper = dm.ln_scalar(qa), qb / qa

    q = c0 + u * w
    z = np.empty_like(u)
    central = np.abs(q) <= 0.425
    z[central] = dm.ndtri_central(q[central])
    for lower in (True, False):
        sel = ~central & ((q < 0) if lower else (q >= 0))
        us = u[sel]
        if lower:
            y = log_pb + dm.ln64(us + (1.0 - us) * ratio_lower)
        else:
            y = log_qa + dm.ln64((1.0 - us) + us * ratio_upper)
        num, den = dm.ndtri_tail_parts(y)
        z[sel] = (-num if lower else num) / den
    return z


def _far_tail(sign: float, t1: float, t2: float, u: np.ndarray) -> np.ndarray:
    s1 = dm.S_asym(1.0 / (t1 * t1))
    s2 = dm.S_asym(1.0 / (t2 * t2))
    ratio = dm.exp_scalar(-((t2 - t1) * (t2 + t1)) * 0.5 - dm.ln_scalar(t2 / t1 * (s1 / s2)))
    g = 0.0 - dm.ln64((1.0 - u) + u * ratio)
    d = 2.0 * g / (t1 + np.sqrt(t1 * t1 + 2.0 * g))
    for _ in range(3):
        t = t1 + d
        sw = dm.S_asym(1.0 / (t * t))
        h = d * (t1 + 0.5 * d) + dm.ln64(t / t1 * (s1 / sw)) - g
        d = d - h / (t + 1.0 / t)
    return sign * (t1 + d)
