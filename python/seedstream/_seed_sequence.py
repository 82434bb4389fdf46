"""seedstream.SeedSequence: NumPy's SeedSequence, bit for bit, with the hashing in Rust."""

from __future__ import annotations

import operator
import secrets
import sys
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from numpy.random.bit_generator import ISeedSequence, ISpawnableSeedSequence

from seedstream import _core, _validate

DEFAULT_POOL_SIZE = 4

_SEQUENCES = (list, tuple, range, np.ndarray)


def _ints(x: Any, arg: str) -> List[int]:
    """The non-negative integers NumPy's ``_coerce_to_uint32_array`` reads from ``x``: an
    int, or a (nested) sequence or array of ints, flattened in order."""
    if isinstance(x, (int, np.integer)):
        v = operator.index(x)
        if v < 0:
            raise ValueError(f"{arg}: expected non-negative ints, got {v}")
        return [v]
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return _ints(x[()], arg)
    if isinstance(x, _SEQUENCES):
        out: List[int] = []
        for item in x:
            out.extend(_ints(item, arg))
        return out
    raise TypeError(f"{arg}: expected an int or a sequence of ints, got {type(x).__name__}")


def _le_bytes(ints: List[int]) -> List[bytes]:
    return [v.to_bytes((v.bit_length() + 7) // 8, "little") for v in ints]


class SeedSequence(ISpawnableSeedSequence):
    """NumPy's ``SeedSequence``: mixes entropy into a pool and draws seeding words from it.

    ``SeedSequence(entropy, spawn_key=..., pool_size=4)`` gives exactly the words of
    ``numpy.random.SeedSequence`` with the same arguments (docs/spec.md#seedsequence).
    ``entropy`` is an int >= 0, a sequence of them, or None for fresh OS entropy.
    """

    entropy: Any
    spawn_key: Tuple[Any, ...]
    pool_size: int
    n_children_spawned: int

    def __init__(
        self,
        entropy: Any = None,
        *,
        spawn_key: Sequence[Any] = (),
        pool_size: int = DEFAULT_POOL_SIZE,
        n_children_spawned: int = 0,
    ) -> None:
        pool_size = _validate.integer(pool_size, "pool_size")
        if pool_size < DEFAULT_POOL_SIZE:
            raise ValueError(f"pool_size: the entropy pool needs at least {DEFAULT_POOL_SIZE} words, got {pool_size}")
        if 4 * pool_size > sys.maxsize:
            raise MemoryError(f"pool_size: cannot allocate {4 * pool_size} bytes for {pool_size} words")
        if entropy is None:
            entropy = secrets.randbits(pool_size * 32)
        elif not isinstance(entropy, (int, np.integer) + _SEQUENCES):
            raise TypeError(f"entropy: expected an int or a sequence of ints, got {type(entropy).__name__}")
        if not isinstance(spawn_key, _SEQUENCES) or np.ndim(spawn_key) == 0:
            raise TypeError(f"spawn_key: expected a sequence of ints, got {type(spawn_key).__name__}")
        n_children_spawned = _validate.count(n_children_spawned, "n_children_spawned")
        run = _ints(entropy, "entropy")
        spawn = _ints(spawn_key, "spawn_key")
        self._pool = _core.SeedSequence(_le_bytes(run), _le_bytes(spawn), pool_size)
        self.entropy = entropy
        self.spawn_key = tuple(spawn_key)
        self.pool_size = pool_size
        self.n_children_spawned = n_children_spawned

    @property
    def pool(self) -> np.ndarray:
        """The mixed entropy pool (uint32)."""
        return np.array(self._pool.pool, dtype=np.uint32)

    @property
    def state(self) -> Dict[str, Any]:
        """The constructor arguments, as NumPy's ``SeedSequence.state``."""
        return {
            "entropy": self.entropy,
            "spawn_key": self.spawn_key,
            "pool_size": self.pool_size,
            "n_children_spawned": self.n_children_spawned,
        }

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        """``n_words`` seeding words as uint32, or ``n_words`` uint64 made of twice as many
        uint32 words paired little-endian."""
        n = _validate.count(n_words, "n_words")
        dt = np.dtype(dtype)
        if dt == np.dtype(np.uint32):
            out32 = _validate.allocate((n,), dt, "n_words")
            self._pool.fill_state_u32(out32)
            return out32
        if dt == np.dtype(np.uint64):
            out64 = _validate.allocate((n,), dt, "n_words")
            self._pool.fill_state_u64(out64)
            return out64
        raise ValueError(f"dtype: expected uint32 or uint64, got {dt}")

    def spawn(self, n_children: int) -> List["SeedSequence"]:
        """``n_children`` children with spawn keys ``spawn_key + (i,)``, numbered on from
        the children spawned before (as NumPy)."""
        n = _validate.spawn_count(n_children, "n_children")  # OverflowError if < 0, as NumPy's
        first = self.n_children_spawned
        children = [
            type(self)(self.entropy, spawn_key=self.spawn_key + (i,), pool_size=self.pool_size)
            for i in range(first, first + n)
        ]
        self.n_children_spawned = first + n
        return children

    def __repr__(self) -> str:
        # NumPy's layout, so logs and doctests read the same.
        lines = [f"{type(self).__name__}(", f"    entropy={self.entropy!r},"]
        if self.spawn_key:
            lines.append(f"    spawn_key={self.spawn_key!r},")
        if self.pool_size != DEFAULT_POOL_SIZE:
            lines.append(f"    pool_size={self.pool_size!r},")
        if self.n_children_spawned != 0:
            lines.append(f"    n_children_spawned={self.n_children_spawned!r},")
        lines.append(")")
        return "\n".join(lines)

    def __reduce__(self) -> Any:
        return (_restore, (type(self), self.state))



def _restore(cls: Any, state: Dict[str, Any]) -> SeedSequence:
    """Unpickles a :class:`SeedSequence` from its ``state``."""
    return cls(state["entropy"], spawn_key=state["spawn_key"], pool_size=state["pool_size"],
               n_children_spawned=state["n_children_spawned"])


def as_seed_sequence(seed: Any, arg: str = "seed") -> ISeedSequence:
    """``seed`` as NumPy's ``BitGenerator`` takes it: a SeedSequence-like object unchanged,
    anything else (None, an int, a sequence of ints) through :class:`SeedSequence`."""
    if isinstance(seed, ISeedSequence):
        return seed
    if seed is not None and not isinstance(seed, (int, np.integer) + _SEQUENCES):
        raise TypeError(
            f"{arg}: expected None, an int, a sequence of ints or a SeedSequence, got {type(seed).__name__}"
        )
    try:
        return SeedSequence(seed)
    except (TypeError, ValueError) as e:
        raise type(e)(str(e).replace("entropy:", f"{arg}:", 1)) from None
