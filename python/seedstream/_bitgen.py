"""Drop-in NumPy bit generators backed by the Rust core: PCG64, PCG64DXSM and Philox, which
reproduce NumPy's own bit for bit, and StreamBitGenerator, which lets NumPy read a
seedstream stream. Specification: docs/spec.md#numpy-bit-generators."""

from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any, Dict, List, Optional

import numpy as np
from numpy.random.bit_generator import ISeedSequence, ISpawnableSeedSequence

from seedstream import _core
from seedstream import _validate as v
from seedstream._seed_sequence import SeedSequence, as_seed_sequence

_UINT64 = np.dtype(np.uint64)

# Handed to numpy's BitGenerator.__init__ where there is no seed sequence, so that it does
# not read OS entropy for a seed nobody uses.
_UNUSED_SEED = SeedSequence(0)



@functools.lru_cache(maxsize=None)
def _interface() -> Any:
    """``numpy.random.bit_generator``'s ``interface`` namedtuple (the type of every NumPy
    bit generator's ``ctypes`` and ``cffi``; NumPy does not export it by name)."""
    return type(np.random.SFC64(0).ctypes)


class _BitgenT(ctypes.Structure):
    """numpy/random/bitgen.h ``bitgen_t``."""

    _fields_ = [
        ("state", ctypes.c_void_p),
        ("next_uint64", ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)),
        ("next_uint32", ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p)),
        ("next_double", ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_void_p)),
        ("next_raw", ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)),
    ]


def _int_words(value: Any, bits: int, arg: str) -> List[int]:
    """``value`` as ``bits // 64`` little-endian uint64 words: an int in [0, 2**bits), or a
    sequence of that many ints in [0, 2**64) (NumPy's ``int_to_array``)."""
    n = bits // 64
    if isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) > 0:
        if len(value) != n:
            raise ValueError(f"{arg}: expected {n} words in array form, got {len(value)}")
        words = [v.integer(w, arg) for w in value]
        if any(not 0 <= w < 2**64 for w in words):
            raise ValueError(f"{arg}: array words must be in [0, 2**64), got {words}")
        return words
    x = v.integer(value, arg)
    if not 0 <= x < 2**bits:
        raise ValueError(f"{arg}: expected an int in [0, 2**{bits}), got {x}")
    return [(x >> (64 * i)) & (2**64 - 1) for i in range(n)]


def _seed_words(seed_seq: ISeedSequence, n: int) -> List[int]:
    """``n`` uint64 words from ``seed_seq.generate_state(n, uint64)``, checked."""
    words = np.asarray(seed_seq.generate_state(n, np.uint64))
    if words.shape != (n,) or words.dtype != _UINT64:
        raise ValueError(f"seed: generate_state({n}, uint64) returned {words.dtype} of shape {words.shape}")
    return [int(w) for w in words]


# -- state dict checks (each error names `state` and the entry) --------------------------
def _state_for(value: Any, name: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"state: expected a dict, got {type(value).__name__}")
    got = value.get("bit_generator", "")
    if not isinstance(got, str) or got != name:
        raise ValueError(f"state: expected a state for {name}, got bit_generator={got!r}")
    return value


def _entry(d: Dict[str, Any], key: str, where: str) -> Any:
    if key not in d:  # KeyError, as NumPy's state setters
        raise KeyError(f"state: missing {where}")
    return d[key]


def _inner(d: Dict[str, Any]) -> Dict[str, Any]:
    inner = _entry(d, "state", "state['state']")
    if not isinstance(inner, dict):
        raise TypeError(f"state: state['state'] must be a dict, got {type(inner).__name__}")
    return inner


def _uint(x: Any, bits: int, where: str) -> int:
    value = v.index_or_none(x)
    if value is None:
        raise TypeError(f"state: {where} must be an int, got {type(x).__name__}")
    if not 0 <= value < 2**bits:  # OverflowError, as NumPy's state setters
        raise OverflowError(f"state: {where} must be in [0, 2**{bits}), got {value}")
    return value


def _flag(x: Any, where: str) -> bool:
    if isinstance(x, (bool, np.bool_)):  # NumPy writes has_uint32 as an int, but takes a bool
        x = int(x)
    value = v.index_or_none(x)
    if value not in (0, 1):
        raise ValueError(f"state: {where} must be 0 or 1, got {x!r}")
    return bool(value)


def _uint_words(x: Any, n: int, where: str) -> List[int]:
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__") or np.ndim(x) == 0:
        raise TypeError(f"state: {where} must be a sequence of {n} ints, got {type(x).__name__}")
    if len(x) != n:
        raise ValueError(f"state: {where} must have {n} words, got {len(x)}")
    return [_uint(w, 64, f"{where}[{i}]") for i, w in enumerate(x)]


def _buffer_32(d: Dict[str, Any]) -> "tuple[bool, int]":
    has = _flag(_entry(d, "has_uint32", "state['has_uint32']"), "state['has_uint32']")
    uinteger = _uint(_entry(d, "uinteger", "state['uinteger']"), 32, "state['uinteger']")
    return has, uinteger


class _CoreBitGenerator(np.random.BitGenerator):
    """What seedstream's bit generators share: a Rust engine, its capsule and NumPy's lock.

    ``numpy.random.Generator`` needs ``capsule`` (a PyCapsule "BitGenerator" holding a
    ``bitgen_t``) and ``lock``. Subclassing ``numpy.random.BitGenerator`` also makes
    ``isinstance`` checks, ``default_rng(bg)`` and pickling of ``Generator(bg)`` work. The
    base class's own C-level ``bitgen_t`` stays empty, so every base member that would read
    it (``random_raw``, ``ctypes``, ``cffi``, ``_benchmark``) or the seed it stores is
    overridden here.
    """

    _engine: Any
    _seed_sequence: Optional[ISeedSequence]

    def _start(self, seed_seq: Optional[ISeedSequence]) -> None:
        # NumPy's __init__ creates `self.lock` (a threading lock of NumPy's choosing); the
        # engine takes that same lock for every use, as NumPy's Generator does.
        np.random.BitGenerator.__init__(self, _UNUSED_SEED if seed_seq is None else seed_seq)
        self._seed_sequence = seed_seq

    @property
    def capsule(self) -> Any:  # type: ignore[override]
        """A PyCapsule named "BitGenerator" holding the ``bitgen_t`` NumPy calls."""
        return self._engine.capsule

    @property
    def seed_seq(self) -> Optional[ISeedSequence]:  # type: ignore[override]
        """The seed sequence this bit generator was seeded from (None when made from a key
        or a stream)."""
        return self._seed_sequence

    @property
    def _seed_seq(self) -> Optional[ISeedSequence]:  # type: ignore[override]
        return self._seed_sequence

    def random_raw(self, size: Any = None, output: bool = True) -> Any:
        """Raw 64-bit outputs (``next_raw``) as a uint64 array of shape ``size``, or one int.

        With ``output=False`` the outputs are drawn and dropped and None is returned; as in
        NumPy, a tuple ``size`` then draws ``sum(size)`` outputs (not the product).
        Ctrl-C stops a large draw within a fraction of a second, after a whole number of
        pieces of 2**21 outputs (docs/spec.md#interrupted-draws).
        """
        if not output:
            count = 1 if size is None else sum(v.shape(size) or ())
            if count > sys.maxsize:  # OverflowError as NumPy's, but naming the argument
                raise OverflowError(f"size: {count} outputs exceed the largest count {sys.maxsize}")
            self._engine.skip_raw(count)
            return None
        if size is None:
            return self._engine.next_raw()
        out = v.allocate(v.shape(size), _UINT64)
        self._engine.fill_raw(out)
        return out

    def spawn(self, n_children: int) -> List[Any]:
        """``n_children`` new bit generators seeded from ``seed_seq.spawn(n_children)``."""
        if not isinstance(self._seed_sequence, ISpawnableSeedSequence):
            raise TypeError("spawn: this bit generator has no spawnable seed_seq (it was made from a key)")
        v.spawn_count(n_children, "n_children")
        return [type(self)(s) for s in self._seed_sequence.spawn(n_children)]

    def _bitgen_address(self) -> int:
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype = ctypes.c_void_p
        get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        return int(get_pointer(self.capsule, b"BitGenerator"))

    @property
    def ctypes(self) -> Any:  # type: ignore[override]
        """ctypes view of the ``bitgen_t``, as NumPy's ``BitGenerator.ctypes``: its
        ``interface`` namedtuple ``(state_address, state, next_uint64, next_uint32,
        next_double, bit_generator)``, built once. The caller must hold ``lock`` while
        calling the functions; the pointers are valid while this bit generator lives."""
        cached = self.__dict__.get("_ctypes_interface")
        if cached is None:
            address = self._bitgen_address()
            bitgen = _BitgenT.from_address(address)
            # The function objects keep `bitgen` as their base; `bitgen` keeps the capsule,
            # and the capsule keeps the engine, so the pointers stay valid while held.
            bitgen._capsule = self.capsule
            cached = _interface()(
                bitgen.state, ctypes.c_void_p(bitgen.state), bitgen.next_uint64, bitgen.next_uint32,
                bitgen.next_double, ctypes.c_void_p(address),
            )
            self.__dict__["_ctypes_interface"] = cached
        return cached

    @property
    def cffi(self) -> Any:  # type: ignore[override]
        """cffi view of the ``bitgen_t``, as NumPy's ``BitGenerator.cffi`` (same
        ``interface`` namedtuple as ``ctypes``, with cffi pointers), built once. Needs the
        ``cffi`` package (ImportError otherwise, as NumPy)."""
        cached = self.__dict__.get("_cffi_interface")
        if cached is None:
            try:
                import cffi  # type: ignore[import-untyped, unused-ignore]
            except ImportError as exc:
                raise ImportError("cffi cannot be imported.") from exc
            ffi = cffi.FFI()
            address = self._bitgen_address()
            bitgen = _BitgenT.from_address(address)
            fn = ctypes.cast
            cached = _interface()(
                bitgen.state,
                ffi.cast("void *", bitgen.state),
                ffi.cast("uint64_t (*)(void *)", fn(bitgen.next_uint64, ctypes.c_void_p).value),
                ffi.cast("uint32_t (*)(void *)", fn(bitgen.next_uint32, ctypes.c_void_p).value),
                ffi.cast("double (*)(void *)", fn(bitgen.next_double, ctypes.c_void_p).value),
                ffi.cast("void *", address),
            )
            self.__dict__["_cffi_interface"] = cached
        return cached

    def _benchmark(self, cnt: int, method: str = "uint64") -> None:
        raise NotImplementedError("_benchmark: not provided; see benches/bench_bitgen.py")

    def __reduce__(self) -> Any:
        return (_restore, (type(self), self.state, self._seed_sequence))

    @classmethod
    def _blank(cls, seed_seq: Optional[ISeedSequence]) -> Any:
        """An instance whose state is about to be set (no OS entropy is read)."""
        bg = cls(_UNUSED_SEED if seed_seq is None else seed_seq)
        bg._seed_sequence = seed_seq
        return bg


def _restore(cls: Any, state: Dict[str, Any], seed_seq: Optional[ISeedSequence]) -> Any:
    """Unpickles a bit generator: same class, seed sequence and state."""
    bg = cls._blank(seed_seq)
    bg.state = state
    return bg


class _Pcg64Base(_CoreBitGenerator):
    _VARIANT = "xsl-rr"

    def __init__(self, seed: Any = None) -> None:
        seed_seq = as_seed_sequence(seed)
        self._start(seed_seq)
        self._engine = _core.Pcg64BitGen(self.lock, _seed_words(seed_seq, 4), self._VARIANT)

    @property
    def state(self) -> Dict[str, Any]:  # type: ignore[override]
        """NumPy's state dict: ``{"bit_generator", "state": {"state", "inc"}, "has_uint32",
        "uinteger"}``; a NumPy PCG64 state dict can be set here and vice versa."""
        st, inc, has, uinteger = self._engine.get_state()
        return {
            "bit_generator": type(self).__name__,
            "state": {"state": st, "inc": inc},
            "has_uint32": int(has),
            "uinteger": uinteger,
        }

    @state.setter
    def state(self, value: Dict[str, Any]) -> None:
        d = _state_for(value, type(self).__name__)
        inner = _inner(d)
        st = _uint(_entry(inner, "state", "state['state']['state']"), 128, "state['state']['state']")
        inc = _uint(_entry(inner, "inc", "state['state']['inc']"), 128, "state['state']['inc']")
        has, uinteger = _buffer_32(d)
        self._engine.set_state(st, inc, has, uinteger)

    def advance(self, delta: int) -> Any:
        """Advances as if ``delta`` outputs had been drawn; ``delta`` is taken mod 2**128, so
        a negative ``delta`` steps back. Empties the 32-bit buffer. Returns self."""
        self._engine.advance(v.integer(delta, "delta") % 2**128)
        return self

    def jumped(self, jumps: int = 1) -> Any:
        """A new bit generator ``jumps * 0x9e3779b97f4a7c15f39cc0605cedc835`` outputs ahead
        (mod 2**128), as NumPy's ``jumped``."""
        j = v.integer(jumps, "jumps") % 2**128
        bg = type(self)()
        bg.state = self.state
        bg._engine.jump(j)
        return bg


class PCG64(_Pcg64Base):
    """Drop-in replacement for ``numpy.random.PCG64``, computed in Rust.

    ``seed`` is None, an int >= 0, a sequence of ints or a SeedSequence, exactly as for
    NumPy; ``PCG64(s)`` gives the same raw outputs, states and ``Generator`` draws as
    ``numpy.random.PCG64(s)`` for every ``s``.
    """

    _VARIANT = "xsl-rr"


class PCG64DXSM(_Pcg64Base):
    """Drop-in replacement for ``numpy.random.PCG64DXSM``, computed in Rust (same seeding and
    outputs as NumPy's)."""

    _VARIANT = "dxsm"


class Philox(_CoreBitGenerator):
    """Drop-in replacement for ``numpy.random.Philox`` (Philox4x64-10), computed in Rust.

    ``Philox(seed)`` keys the generator with ``SeedSequence(seed).generate_state(2,
    uint64)``; ``Philox(key=k, counter=c)`` sets the 128-bit key and 256-bit counter
    directly (ints, or arrays of 2 and 4 uint64 words). Outputs equal NumPy's.
    """

    def __init__(self, seed: Any = None, counter: Any = None, key: Any = None) -> None:
        if seed is not None and key is not None:
            raise ValueError("key: seed and key cannot both be given")
        seed_seq: Optional[ISeedSequence]
        if key is not None:
            seed_seq = None
            key_words = _int_words(key, 128, "key")
        else:
            seed_seq = as_seed_sequence(seed)
            key_words = _seed_words(seed_seq, 2)
        counter_words = _int_words(0 if counter is None else counter, 256, "counter")
        self._start(seed_seq)
        self._engine = _core.PhiloxBitGen(self.lock, key_words, counter_words)

    @property
    def state(self) -> Dict[str, Any]:  # type: ignore[override]
        """NumPy's state dict: ``{"bit_generator", "state": {"counter", "key"}, "buffer",
        "buffer_pos", "has_uint32", "uinteger"}`` with uint64 arrays, as NumPy's Philox."""
        counter, key, buffer, buffer_pos, has, uinteger = self._engine.get_state()
        return {
            "bit_generator": type(self).__name__,
            "state": {"counter": np.array(counter, np.uint64), "key": np.array(key, np.uint64)},
            "buffer": np.array(buffer, np.uint64),
            "buffer_pos": buffer_pos,
            "has_uint32": int(has),
            "uinteger": uinteger,
        }

    @state.setter
    def state(self, value: Dict[str, Any]) -> None:
        d = _state_for(value, type(self).__name__)
        inner = _inner(d)
        counter = _uint_words(_entry(inner, "counter", "state['state']['counter']"), 4, "state['state']['counter']")
        key = _uint_words(_entry(inner, "key", "state['state']['key']"), 2, "state['state']['key']")
        buffer = _uint_words(_entry(d, "buffer", "state['buffer']"), 4, "state['buffer']")
        pos = _entry(d, "buffer_pos", "state['buffer_pos']")
        position = v.index_or_none(pos)
        if position is None or not 0 <= position <= 4:
            raise ValueError(f"state: state['buffer_pos'] must be an int in [0, 4], got {pos!r}")
        has, uinteger = _buffer_32(d)
        self._engine.set_state(counter, key, buffer, position, has, uinteger)

    def advance(self, delta: int) -> "Philox":
        """Adds ``delta`` (mod 2**256, so negative steps back) to the counter, skipping
        ``delta`` blocks of 4 outputs from the counter, and empties the buffers, as NumPy's
        ``advance``. Returns self."""
        d = v.integer(delta, "delta") % 2**256
        self._engine.advance(d.to_bytes(32, "little"))
        return self

    def jumped(self, jumps: int = 1) -> "Philox":
        """A new bit generator with the counter advanced by ``jumps * 2**128`` (mod 2**256)."""
        j = v.integer(jumps, "jumps") % 2**128
        bg = type(self)()
        bg.state = self.state
        bg._engine.jump(j)
        return bg

    @classmethod
    def _blank(cls, seed_seq: Optional[ISeedSequence]) -> "Philox":
        bg = cls(key=0) if seed_seq is None else cls(seed_seq)
        bg._seed_sequence = seed_seq
        return bg


class StreamBitGenerator(_CoreBitGenerator):
    """A seedstream stream as a NumPy bit generator: ``numpy.random.Generator`` reads it.

    Made by :meth:`seedstream.Generator.bit_generator`. Raw output ``j`` is ``u64(j)`` of the
    stream's word stream at the generator's position when it was made, so ``random_raw(n)``
    equals ``g.bits(n, dtype=uint64)`` (docs/spec.md#stream-bit-generator). It reads a copy
    of the stream: it never moves the ``seedstream.Generator`` it came from.
    """

    def __init__(self, generator: Any) -> None:
        self._read(v.generator(generator).stream)

    def _read(self, stream: _core.Stream) -> None:
        self._start(None)
        self._engine = _core.StreamBitGen(self.lock, stream.algorithm, stream.key, stream.position, 0)
        self._n_children_spawned = 0

    @classmethod
    def _of(cls, stream: _core.Stream) -> "StreamBitGenerator":
        """A bit generator reading ``stream`` from its position."""
        bg = cls.__new__(cls)
        bg._read(stream)
        return bg

    def _root(self) -> _core.Stream:
        """The stream with this key at position 0."""
        algorithm, key, _, _, _, _ = self._engine.get_state()
        return _core.Stream.from_key(algorithm, key, 0)

    @property
    def state(self) -> Dict[str, Any]:  # type: ignore[override]
        """``{"bit_generator": "StreamBitGenerator", "state": {"algorithm", "key",
        "position", "word"}, "has_uint32", "uinteger"}``: the next output starts at word
        ``word`` (0 or 2) of block ``position`` of the stream with this key."""
        algorithm, key, position, word, has, uinteger = self._engine.get_state()
        return {
            "bit_generator": type(self).__name__,
            "state": {
                "algorithm": algorithm,
                "key": int.from_bytes(key, "little"),
                "position": position,
                "word": word,
            },
            "has_uint32": int(has),
            "uinteger": uinteger,
        }

    @state.setter
    def state(self, value: Dict[str, Any]) -> None:
        d = _state_for(value, type(self).__name__)
        inner = _inner(d)
        where = "state['state']['algorithm']"
        algorithm = v.algorithm(_entry(inner, "algorithm", where), "state", where + ": ")
        key = _uint(_entry(inner, "key", "state['state']['key']"), 256, "state['state']['key']")
        position = _uint(_entry(inner, "position", "state['state']['position']"), 64, "state['state']['position']")
        word = _entry(inner, "word", "state['state']['word']")
        w = v.index_or_none(word)
        if w not in (0, 2):
            raise ValueError(f"state: state['state']['word'] must be 0 or 2, got {word!r}")
        has, uinteger = _buffer_32(d)
        self._engine.set_state(algorithm, key.to_bytes(32, "little"), position, w, has, uinteger)

    def advance(self, delta: int) -> "StreamBitGenerator":
        """Skips ``delta`` raw outputs and empties the 32-bit buffer; returns self. A stream
        position only moves forward (as ``Generator.advance``) and never past block
        2**64 - 1, so a negative or too large ``delta`` raises ValueError."""
        d = v.integer(delta, "delta")
        if d < 0:
            raise ValueError(f"delta: a stream bit generator only moves forward, got {d}")
        if d >= 2**65:
            raise ValueError(f"delta: skipping {d} values passes block 2**64 - 1")
        self._engine.advance(d)
        return self

    def spawn(self, n_children: int) -> List["StreamBitGenerator"]:
        """Bit generators for children ``k, k + 1, ...`` of this stream's key (``k`` counts
        the children spawned before), as ``Generator.child(k).bit_generator()``."""
        n = v.children(v.spawn_count(n_children, "n_children"), self._n_children_spawned, "n_children")
        parent = self._root()
        first = self._n_children_spawned
        self._n_children_spawned = first + n
        return [StreamBitGenerator._of(parent.child([i])) for i in range(first, first + n)]

    def __reduce__(self) -> Any:
        return (_restore_stream, (type(self), self.state, self._n_children_spawned))


def _restore_stream(cls: Any, state: Dict[str, Any], n_children_spawned: int) -> StreamBitGenerator:
    """Unpickles a :class:`StreamBitGenerator`."""
    st = state["state"]
    bg = cls._of(_core.Stream.from_key(st["algorithm"], st["key"].to_bytes(32, "little"), 0))
    bg.state = state
    bg._n_children_spawned = n_children_spawned
    return bg
