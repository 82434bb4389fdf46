"""A real DataLoader with fork workers whose __getitem__ draws in parallel."""

import multiprocessing

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402


class _Images(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return ss.Generator(7).child("image", i).standard_normal((3, 224, 224), dtype=np.float32)


def test_fork_workers_draw_after_a_parallel_draw_in_the_parent(threads):
    ss.set_num_threads(2)
    ss.Generator(0).standard_normal(1_000_000, dtype=np.float32)  # starts the parent's pool
    ds = _Images()
    loader = torch.utils.data.DataLoader(
        ds,
        batch_size=2,
        num_workers=2,
        multiprocessing_context=multiprocessing.get_context("fork"),
        timeout=60,  # a hung worker raises instead of hanging the test run
    )
    got = torch.cat(list(loader)).numpy()
    want = np.stack([ds[i] for i in range(len(ds))])
    assert np.array_equal(got, want)
