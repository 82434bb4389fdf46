"""``ShuffleSampler``: a resumable, random-access epoch order for DataLoader."""

from __future__ import annotations

import operator
from itertools import repeat
from typing import Any, Dict, Iterator, List, Optional, Sized, Tuple, Union

import numpy as np
import torch

from seedstream import Generator
from seedstream import _validate as v
from seedstream._core import FeistelPermutation, fill_strided_identity, Stream

_BATCH = 4096
# Indices are int64 (as torch's) and len(sampler) can be n.
_MAX_LEN = 2**63 - 1
_STATE_VERSION = 1


class ShuffleSampler(torch.utils.data.Sampler[Any]):
    """Drop-in for ``RandomSampler`` and ``DistributedSampler`` with a seeded, resumable order.

    The epoch's order is a keyed bijection of ``range(n)`` (docs/spec.md#shufflesampler-v1):
    any position is computed in O(1) time and memory, so a 10**9-item sampler starts at once
    and ``load_state_dict`` resumes mid-epoch exactly. The order depends only on
    (seed, epoch, n, num_replicas, rank), never on DataLoader workers. With several replicas,
    rank ``r`` takes positions ``r, r + R, r + 2R, ...`` of the epoch order, padded by
    wrapping to the start (or truncated with ``drop_last``) exactly as ``DistributedSampler``.

    Options beyond the torch samplers (docs/spec.md#shufflesampler-v1):

    - ``keys=True`` yields ``(epoch, index)`` pairs instead of indices, for a
      :class:`ReproducibleDataset`: the epoch travels with each index to the worker.
    - ``auto_epoch=True`` moves to the next epoch when a pass ends, as ``RandomSampler``
      gives a new order on each pass; by default a pass without ``set_epoch`` repeats the
      epoch, as ``DistributedSampler`` does. Calling ``set_epoch(e)`` before each epoch
      gives the same orders either way.
    - ``replacement=True`` draws ``num_samples`` (default ``n``) indices per epoch with
      replacement; draw ``j`` of epoch ``e`` is a pure function of (seed, e, j).
    - ``generator=`` takes a ``seedstream.Generator`` in place of ``seed``.

    ``n`` is at most ``2**63 - 1``: indices are int64, as in torch.

    The sampler counts the indices it has yielded, and DataLoader fetches ahead of training;
    ``StatefulDataLoader`` (torchdata) accounts for that by itself. With a plain DataLoader,
    save ``state_dict(consumed=k)`` with ``k`` the samples this rank's training loop has
    taken from the current pass. ``load_state_dict`` accepts the state of a run with another
    ``num_replicas`` (elastic resume): the replicas then share the rest of the epoch.
    """

    def __init__(
        self,
        data_source_or_len: Union[Sized, int],
        *,
        seed: Union[int, str, None] = None,
        shuffle: bool = True,
        num_replicas: int = 1,
        rank: int = 0,
        drop_last: bool = False,
        replacement: bool = False,
        num_samples: Optional[int] = None,
        keys: bool = False,
        auto_epoch: bool = False,
        generator: Optional[Generator] = None,
    ) -> None:
        length = v.index_or_none(data_source_or_len)
        if length is not None:
            n = length
        elif hasattr(data_source_or_len, "__len__") and not isinstance(data_source_or_len, bool):
            n = len(data_source_or_len)
        else:
            raise TypeError("data_source_or_len: expected a sized dataset or an int")
        if n < 0:
            raise ValueError(f"data_source_or_len: expected a non-negative length, got {n}")
        if n > _MAX_LEN:
            raise ValueError(
                f"data_source_or_len: expected a length of at most 2**63 - 1 (indices are int64 and "
                f"len() is at most sys.maxsize), got {n}"
            )
        num_replicas = v.index(num_replicas, "num_replicas", "a positive int")
        if not 1 <= num_replicas < 2**64:
            raise ValueError(f"num_replicas: expected an int in [1, 2**64), got {num_replicas}")
        rank = v.integer(rank, "rank")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank: expected an int in [0, {num_replicas - 1}], got {rank}")
        self._root = v.seed_or_generator(seed, generator)
        self.seed = seed
        self.n = n
        self.shuffle = bool(shuffle)
        self.num_replicas = num_replicas
        self.rank = rank
        self.drop_last = bool(drop_last)
        self.replacement = bool(replacement)
        if num_samples is not None:
            if not self.replacement:
                raise ValueError("num_samples: only with replacement=True; without it an epoch is all n items")
            if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 0:
                raise ValueError(f"num_samples: expected a non-negative int, got {num_samples!r}")
        self.epoch_size = n if num_samples is None else num_samples
        if self.replacement and n == 0 and self.epoch_size:
            raise ValueError("data_source_or_len: replacement=True draws from an empty dataset")
        self.keys = bool(keys)
        self.auto_epoch = bool(auto_epoch)
        self.epoch = 0
        self._start = 0
        self._position = 0
        self._pending: Optional[Iterator[Any]] = None
        self._pending_end = 0
        self._pass_state: Optional[Tuple[Dict[str, Any], int]] = None
        self._loaded = False
        self._layout()
        self._order = self._make_order()

    def _layout(self) -> None:
        """Per-replica count for the rest of the epoch from global position ``_start``."""
        self.num_samples = _per_replica(self.epoch_size - self._start, self.num_replicas, self.drop_last)
        self.total_size = self.num_samples * self.num_replicas

    def _make_order(self) -> Any:
        if self.replacement:
            return _Draws(self.n, self._root.child("ShuffleSampler", self.epoch, "replacement"))
        if self.shuffle:
            keys = self._root.child("ShuffleSampler", self.epoch).bits(6, dtype=np.uint64)
            return FeistelPermutation(self.n, [int(k) for k in keys])
        return _Identity(self.n)

    @property
    def position(self) -> int:
        """How many indices this replica has yielded from the current pass's start."""
        if self._pending is None:
            return self._position
        return self._pending_end - operator.length_hint(self._pending)

    @position.setter
    def position(self, value: int) -> None:
        self._position = value
        self._pending = None

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch's order and restarts at its first position.

        Right after ``load_state_dict``, setting the loaded epoch again keeps the loaded
        position, so a training loop that calls ``set_epoch`` before each epoch resumes.
        """
        epoch = v.u64(epoch, "epoch")
        if self._loaded and epoch == self.epoch:
            return
        self._loaded = False
        self.epoch = epoch
        self._start = 0
        self.position = 0
        self._layout()
        self._order = self._make_order()

    def __len__(self) -> int:
        return self.num_samples

    def _fill(self, first: int, count: int) -> List[int]:
        """This replica's indices ``first .. first + count - 1`` of the current epoch."""
        out = np.empty(count, np.int64)
        offset = self._start + self.rank
        if self.n and not self.replacement:
            offset %= self.n
        self._order.fill_strided(out, first, self.num_replicas, offset)
        return out.tolist()  # type: ignore[no-any-return]

    def index(self, k: int) -> int:
        """The k-th index this replica yields in the current epoch."""
        if not 0 <= k < self.num_samples:
            raise IndexError(f"k: {k} is out of range for {self.num_samples} samples")
        return self._fill(k, 1)[0]

    def __iter__(self) -> Iterator[Any]:
        self._loaded = False
        self._pass_state = (self.state_dict(), self.num_samples)
        # Replacement draws read a contiguous run of the epoch's draws and keep every R-th.
        step = max(1, _BATCH // self.num_replicas) if self.replacement else _BATCH
        while True:
            first = self.position
            if first >= self.num_samples:
                break
            count = min(step, self.num_samples - first)
            self._pending_end = first + count
            # A list iterator knows how much of it is left: that gives the exact position
            # without per-item bookkeeping.
            self._pending = iter(self._fill(first, count))
            if self.keys:
                yield from zip(repeat(self.epoch), self._pending)
            else:
                yield from self._pending
            self.position = self._pending_end
        if self.auto_epoch:
            self.set_epoch(self.epoch + 1)
        elif self._start:
            self.set_epoch(self.epoch)  # an elastic remainder is followed by whole epochs
        else:
            self.position = 0

    def state_dict(self, consumed: Optional[int] = None) -> Dict[str, Any]:
        """Everything needed to resume: the configuration, the epoch and the position.

        ``consumed``: samples the training loop took from the current pass (the latest
        ``iter`` of this sampler); the state then points just past them even when the
        DataLoader has fetched further, or the pass has ended. Without it, the position
        counts every index yielded (right for ``StatefulDataLoader``).
        """
        if consumed is not None:
            base, count = self._pass_state if self._pass_state is not None else (self.state_dict(), self.num_samples)
            room = count - base["position"]
            if isinstance(consumed, bool) or not isinstance(consumed, int) or not 0 <= consumed <= room:
                raise ValueError(f"consumed: expected an int in [0, {room}], got {consumed!r}")
            return {**base, "position": base["position"] + consumed}
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
            "start": self._start,
            "replacement": self.replacement,
            "epoch_size": self.epoch_size,
            "generator": None if self.seed is not None else {"algorithm": self._root.algorithm, "key": self._root.key},
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Resumes at the saved epoch and position; the configuration must match.

        A state saved with another ``num_replicas`` resumes elastically: replicas run in
        lockstep, so any rank's state says how much of the epoch's global order all ranks
        took together (``start + position * num_replicas``), and this sampler's replicas
        share the rest of it in the usual layout.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state: expected a dict, got {type(state).__name__}")
        if not _matches(state.get("version"), _STATE_VERSION):
            raise ValueError(f"state: unsupported version {state.get('version')!r}")
        replicas = v.saved_int(state.get("num_replicas"))
        if replicas is None or replicas < 1:
            raise ValueError(f"state: num_replicas must be a positive int, got {state.get('num_replicas')!r}")
        elastic = replicas != self.num_replicas
        mine = self.state_dict()
        # States saved before these fields existed used their defaults.
        defaults = {"replacement": False, "epoch_size": self.n, "generator": None, "start": 0}
        fields = ["seed", "n", "shuffle", "drop_last", "replacement", "epoch_size", "generator"]
        if not elastic:
            fields += ["num_replicas", "rank"]
        for field in fields:
            if not _matches(state.get(field, defaults.get(field)), mine[field]):
                raise ValueError(f"state: {field} is {state.get(field)!r}, this sampler has {mine[field]!r}")
        start = v.saved_int(state.get("start", 0))
        if start is None or not 0 <= start <= self.epoch_size:
            raise ValueError(f"state: start must be an int in [0, {self.epoch_size}]")
        epoch = v.saved_int(state.get("epoch"))
        if epoch is None or not 0 <= epoch < 2**64:
            raise ValueError(f"state: epoch must be an int in [0, 2**64), got {state.get('epoch')!r}")
        position = v.saved_int(state.get("position"))
        # A refused state leaves the sampler as it was.
        saved = dict(self.__dict__)
        try:
            self._loaded = False
            self.set_epoch(epoch)
            self._start = start
            self._layout()
            rest = self.epoch_size - start
            limit = _per_replica(rest, replicas, self.drop_last) if elastic else self.num_samples
            if position is None or not 0 <= position <= limit:
                raise ValueError(f"state: position must be an int in [0, {limit}]")
        except ValueError:
            self.__dict__.update(saved)
            raise
        if elastic:
            self._start = min(self.epoch_size, start + position * replicas)
            self._layout()
            position = 0
        self.position = position
        self._pass_state = None
        self._loaded = True


def _per_replica(remaining: int, replicas: int, drop_last: bool) -> int:
    """DistributedSampler's count: pad the rest to a multiple of ``replicas``, or drop the tail."""
    if drop_last and remaining % replicas:
        return max((remaining - replicas) // replicas + (1 if (remaining - replicas) % replicas else 0), 0)
    return -(-remaining // replicas)


class _Draws:
    """Draws with replacement: draw ``j`` of the epoch is element ``j`` of
    ``stream.integers(0, n)`` (two draws per block), so any draw is computed alone."""

    def __init__(self, n: int, stream: Generator) -> None:
        self.n = n
        self.stream = stream

    def fill_strided(self, out: np.ndarray, first: int, stride: int, offset: int) -> None:
        if not len(out):
            return
        lo = offset + first * stride
        span = (len(out) - 1) * stride + 1
        s = self.stream.stream
        g = Generator.from_stream(Stream.from_key(s.algorithm, s.key, lo // 2))
        draws = g.integers(0, self.n, size=lo % 2 + span)
        out[:] = draws[lo % 2 :: stride]


def _matches(saved: Any, current: Any) -> bool:
    """Whether a saved configuration value equals this sampler's (an array never does)."""
    if isinstance(saved, (np.ndarray, torch.Tensor)) or isinstance(saved, bool) != isinstance(current, bool):
        return False
    try:
        return bool(saved == current)
    except (TypeError, ValueError):
        return False


class _Identity:
    """The unshuffled order, with the same interface as FeistelPermutation."""

    def __init__(self, n: int) -> None:
        self.n = n

    def fill_strided(self, out: np.ndarray, first: int, stride: int, offset: int) -> None:
        fill_strided_identity(self.n, out, first, stride, offset)
