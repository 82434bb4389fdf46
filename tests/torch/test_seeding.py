"""seed_everything and DataLoader worker seeding."""

import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402


def _draws():
    return random.random(), np.random.random(), torch.rand(1).item()


def test_seed_everything_is_reproducible_and_returns_root():
    g = ss.seed_everything(42)
    a = _draws()
    assert g.key == ss.Generator(42).key
    ss.seed_everything(42)
    assert _draws() == a
    ss.seed_everything(43)
    assert _draws() != a


class _Draw(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return torch.tensor([random.random(), np.random.random(), torch.rand(1).item()])


def _epoch(seed, epoch, workers=2):
    dl = torch.utils.data.DataLoader(_Draw(), batch_size=1, num_workers=workers,
                                     worker_init_fn=sst.worker_init_fn,
                                     generator=sst.loader_generator(seed, epoch))
    return torch.cat(list(dl))


def test_workers_get_distinct_reproducible_seeds():
    a = _epoch(1, 0)
    assert torch.equal(a, _epoch(1, 0))
    assert not torch.equal(a, _epoch(1, 1))
    assert not torch.equal(a, _epoch(2, 0))
    # Worker 0 yields items 0, 2, 4, ...; worker 1 the others: their streams differ.
    assert not torch.equal(a[0], a[1])
