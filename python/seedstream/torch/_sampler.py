"""``ShuffleSampler``: a resumable, random-access epoch order for DataLoader."""

from __future__ import annotations

import operator
from typing import Any, Dict, Iterator, Sized, Union

import numpy as np
import torch

from seedstream import Generator
from seedstream._core import FeistelPermutation
from seedstream._validate import index

_BATCH = 4096
_STATE_VERSION = 1


class ShuffleSampler(torch.utils.data.Sampler[int]):
    """Drop-in for ``RandomSampler`` and ``DistributedSampler`` with a seeded, resumable order.

    The epoch's order is a keyed bijection of ``range(n)`` (docs/spec.md#shufflesampler-v1):
    any position is computed in O(1) time and memory, so a 10**9-item sampler starts at once
    and ``load_state_dict`` resumes mid-epoch exactly. The order depends only on
    (seed, epoch, n, num_replicas, rank), never on DataLoader workers. With several replicas,
    rank ``r`` takes positions ``r, r + R, r + 2R, ...`` of the epoch order, padded by
    wrapping to the start (or truncated with ``drop_last``) exactly as ``DistributedSampler``.

    The sampler counts the indices it has yielded; DataLoader fetches ahead of training, so
    save ``state_dict`` at a point where the consumed and yielded counts agree, or adjust
    ``position`` by the number of prefetched samples.
    """

    def __init__(
        self,
        data_source_or_len: Union[Sized, int],
        *,
        seed: Union[int, str],
        shuffle: bool = True,
        num_replicas: int = 1,
        rank: int = 0,
        drop_last: bool = False,
    ) -> None:
        if isinstance(data_source_or_len, bool):
            raise TypeError("data_source_or_len: expected a sized dataset or an int")
        if hasattr(type(data_source_or_len), "__index__"):
            n = operator.index(data_source_or_len)  # type: ignore[arg-type]
        elif hasattr(data_source_or_len, "__len__"):
            n = len(data_source_or_len)  # type: ignore[arg-type]
        else:
            raise TypeError("data_source_or_len: expected a sized dataset or an int")
        if n < 0:
            raise ValueError(f"data_source_or_len: expected a non-negative length, got {n}")
        if n >= 2**64:
            raise ValueError(f"data_source_or_len: expected a length below 2**64, got {n}")
        num_replicas = index(num_replicas, "num_replicas", "a positive int")
        if not 1 <= num_replicas < 2**64:
            raise ValueError(f"num_replicas: expected an int in [1, 2**64), got {num_replicas}")
        rank = index(rank, "rank", "an int")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank: expected an int in [0, {num_replicas - 1}], got {rank}")
        self._root = Generator(seed)
        self.seed = seed
        self.n = n
        self.shuffle = bool(shuffle)
        self.num_replicas = num_replicas
        self.rank = rank
        self.drop_last = bool(drop_last)
        if self.drop_last and n % num_replicas:
            self.num_samples = (n - num_replicas) // num_replicas + (1 if (n - num_replicas) % num_replicas else 0)
            self.num_samples = max(self.num_samples, 0)
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.epoch = 0
        self.position = 0
        self._order = self._make_order()

    def _make_order(self) -> FeistelPermutation:
        if self.shuffle:
            keys = self._root.child("ShuffleSampler", self.epoch).bits(6, dtype=np.uint64)
            return FeistelPermutation(self.n, [int(k) for k in keys])
        return _Identity(self.n)  # type: ignore[return-value]

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch's order and restarts at its first position."""
        epoch = index(epoch, "epoch", "an int")
        if not 0 <= epoch < 2**64:
            raise ValueError(f"epoch: expected an int in [0, 2**64), got {epoch}")
        self.epoch = epoch
        self.position = 0
        self._order = self._make_order()

    def __len__(self) -> int:
        return self.num_samples

    def index(self, k: int) -> int:
        """The k-th index this replica yields in the current epoch."""
        if not 0 <= k < self.num_samples:
            raise IndexError(f"k: {k} is out of range for {self.num_samples} samples")
        out = np.empty(1, np.int64)
        self._order.fill_strided(out, k, self.num_replicas, self.rank)
        return int(out[0])

    def __iter__(self) -> Iterator[int]:
        buf = np.empty(_BATCH, np.int64)
        while self.position < self.num_samples:
            count = min(_BATCH, self.num_samples - self.position)
            chunk = buf[:count]
            self._order.fill_strided(chunk, self.position, self.num_replicas, self.rank)
            for i in chunk.tolist():
                self.position += 1
                yield i
        self.position = 0

    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume: the configuration, the epoch and the position."""
        return {
            "version": _STATE_VERSION,
            "seed": self.seed,
            "n": self.n,
            "shuffle": self.shuffle,
            "num_replicas": self.num_replicas,
            "rank": self.rank,
            "drop_last": self.drop_last,
            "epoch": self.epoch,
            "position": self.position,
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Resumes at the saved epoch and position; the configuration must match."""
        if not isinstance(state, dict):
            raise TypeError(f"state: expected a dict, got {type(state).__name__}")
        if not _matches(state.get("version"), _STATE_VERSION):
            raise ValueError(f"state: unsupported version {state.get('version')!r}")
        for field in ("seed", "n", "shuffle", "num_replicas", "rank", "drop_last"):
            if not _matches(state.get(field), getattr(self, field)):
                raise ValueError(f"state: {field} is {state.get(field)!r}, this sampler has {getattr(self, field)!r}")
        epoch = _state_int(state.get("epoch"))
        if epoch is None or not 0 <= epoch < 2**64:
            raise ValueError(f"state: epoch must be an int in [0, 2**64), got {state.get('epoch')!r}")
        position = _state_int(state.get("position"))
        if position is None or not 0 <= position <= self.num_samples:
            raise ValueError(f"state: position must be an int in [0, {self.num_samples}]")
        self.set_epoch(epoch)
        self.position = position


def _matches(saved: Any, current: Any) -> bool:
    """Whether a saved configuration value equals this sampler's (an array never does)."""
    if isinstance(saved, (np.ndarray, torch.Tensor)) or isinstance(saved, bool) != isinstance(current, bool):
        return False
    try:
        return bool(saved == current)
    except (TypeError, ValueError):
        return False


def _state_int(value: Any) -> "int | None":
    """A saved int (NumPy integers too), or None when `value` is not one."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        return None
    return int(value)


class _Identity:
    """The unshuffled order, with the same interface as FeistelPermutation."""

    def __init__(self, n: int) -> None:
        self.n = n

    def fill_strided(self, out: np.ndarray, first: int, stride: int, offset: int) -> None:
        if self.n:
            out[:] = (offset + (first + np.arange(len(out), dtype=object)) * stride) % self.n
