"""Per-sample random streams for a dataset's ``__getitem__``, keyed by (seed, epoch, index)."""

from __future__ import annotations

import contextvars
from typing import Any, Optional, Union

import torch

from seedstream import Generator
from seedstream import _validate as v

_current: contextvars.ContextVar[Optional[Generator]] = contextvars.ContextVar("seedstream_sample", default=None)


class ReproducibleDataset(torch.utils.data.Dataset[Any]):
    """Wraps a map-style dataset so that its ``__getitem__`` can draw augmentation randomness
    from :func:`sample_generator`, a stream that depends only on (seed, epoch, index).

    Index it with ``(epoch, index)`` pairs, as ``ShuffleSampler(..., keys=True)`` yields
    them; ``ds[epoch, i]`` works by hand. The epoch arrives with each index, so the draws
    are the same for any ``num_workers``, ``persistent_workers``, ``prefetch_factor``,
    world size, worker start method, and after a resume
    (docs/spec.md#sample-generator-v1). The wrapped dataset gets the plain index.
    An index that appears twice in an epoch (padding, ``replacement=True``) gets the same
    stream both times.
    """

    def __init__(self, dataset: Any, *, seed: Union[int, str, None] = None,
                 generator: Optional[Generator] = None) -> None:
        root = v.seed_or_generator(seed, generator)
        self.dataset = dataset
        self._samples = root.child("sample")

    def __len__(self) -> int:
        return len(self.dataset)

    def generator(self, epoch: int, index: int) -> Generator:
        """The stream of sample ``index`` in ``epoch``, at position 0."""
        epoch, index = _key((epoch, index))
        return Generator.from_stream(self._samples.stream.child([epoch, index]))

    def __getitem__(self, key: Any) -> Any:
        epoch, index = _key(key)
        token = _current.set(Generator.from_stream(self._samples.stream.child([epoch, index])))
        try:
            return self.dataset[index]
        finally:
            _current.reset(token)


def sample_generator() -> Generator:
    """The current sample's stream inside ``ReproducibleDataset.__getitem__``.

    Repeated calls during one ``__getitem__`` return the same generator, so draws go on
    where the previous ones stopped. Derive named children (``sample_generator().child("crop")``)
    to keep one augmentation's draws independent of another's.
    """
    g = _current.get()
    if g is None:
        raise RuntimeError(
            "sample_generator: called outside ReproducibleDataset.__getitem__; wrap the dataset "
            "in seedstream.torch.ReproducibleDataset and index it with (epoch, index)"
        )
    return g


def _key(key: Any) -> "tuple[int, int]":
    if type(key) is tuple and len(key) == 2:
        epoch, index = key
        if type(epoch) is int and type(index) is int and 0 <= epoch < 2**64 and 0 <= index < 2**64:
            return key  # type: ignore[no-any-return]  # the sampler's keys: skip the slow checks
    if not isinstance(key, tuple) or len(key) != 2:
        raise TypeError(
            f"index: expected an (epoch, index) pair, got {type(key).__name__}; use "
            "ShuffleSampler(..., keys=True) as the DataLoader's sampler, or ds[epoch, i]"
        )
    epoch, index = key
    ints = []
    for what, value in (("epoch", epoch), ("index", index)):
        i = v.index_or_none(value)
        if i is None:
            raise TypeError(f"index: expected an int {what}, got {type(value).__name__}")
        if not 0 <= i < 2**64:
            raise ValueError(f"index: {what} must be an int in [0, 2**64), got {value!r}")
        ints.append(i)
    return ints[0], ints[1]
