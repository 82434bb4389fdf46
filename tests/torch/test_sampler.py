"""ShuffleSampler: a random-access bijection per epoch, DistributedSampler semantics, resume."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream.torch as sst  # noqa: E402
from seedstream._core import FeistelPermutation  # noqa: E402


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 1000, 4099])
def test_every_index_once_per_epoch(n):
    s = sst.ShuffleSampler(n, seed=1)
    order = list(s)
    assert sorted(order) == list(range(n)) and len(s) == n
    s.set_epoch(1)
    other = list(s)
    assert sorted(other) == list(range(n))
    if n > 10:
        assert other != order


def test_order_depends_on_seed_and_epoch_only():
    a = list(sst.ShuffleSampler(500, seed=3))
    assert a == list(sst.ShuffleSampler(500, seed=3))
    assert a != list(sst.ShuffleSampler(500, seed=4))
    assert a != list(sst.ShuffleSampler(range(500), seed="3"))
    assert list(sst.ShuffleSampler(500, seed=3, shuffle=False)) == list(range(500))


@pytest.mark.parametrize("n,replicas,drop_last", [(100, 4, False), (103, 4, False), (103, 4, True), (3, 5, False), (7, 3, True)])
def test_ranks_match_distributed_sampler_layout(n, replicas, drop_last):
    full = sst.ShuffleSampler(n, seed=9)
    order = list(full)
    samplers = [sst.ShuffleSampler(n, seed=9, num_replicas=replicas, rank=r, drop_last=drop_last) for r in range(replicas)]
    ref = [torch.utils.data.DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
           for r in range(replicas)]
    for s, d in zip(samplers, ref):
        # Same count and padding as DistributedSampler, applied to our epoch order.
        assert len(s) == len(d)
        assert list(s) == [order[i] for i in d]
    if not drop_last and n % replicas == 0:
        merged = sorted(i for s in samplers for i in s)
        assert merged == list(range(n))


def test_resume_mid_epoch_equals_uninterrupted():
    run = sst.ShuffleSampler(10_000, seed=5)
    run.set_epoch(2)
    whole = list(run)
    part = sst.ShuffleSampler(10_000, seed=5)
    part.set_epoch(2)
    it = iter(part)
    head = [next(it) for _ in range(3_333)]
    state = part.state_dict()
    resumed = sst.ShuffleSampler(10_000, seed=5)
    resumed.load_state_dict(state)
    assert head + list(resumed) == whole
    assert resumed.position == 0  # a finished epoch starts over


def test_huge_sampler_holds_no_index_array_and_random_access():
    """A 10**9-item sampler starts without materialising its order: O(1) memory."""
    import tracemalloc

    tracemalloc.start()
    s = sst.ShuffleSampler(10**9, seed=1)
    first = [x for _, x in zip(range(10), s)]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000  # an index array would need 8 GB
    assert all(0 <= x < 10**9 for x in first) and len(set(first)) == 10
    assert s.index(0) == first[0] and 0 <= s.index(10**9 - 1) < 10**9


def test_first_position_is_uniform():
    """Where the sampler puts item 0 over many seeds: uniform over 8 places (p > 1e-7)."""
    from scipy import stats

    counts = np.zeros(8, int)
    for seed in range(8000):
        counts[list(sst.ShuffleSampler(8, seed=seed)).index(0)] += 1
    assert stats.chisquare(counts).pvalue > 1e-7


def test_works_in_a_dataloader_with_workers():
    ds = torch.utils.data.TensorDataset(torch.arange(100))
    s = sst.ShuffleSampler(ds, seed=2)
    want = list(sst.ShuffleSampler(ds, seed=2))
    for workers in [0, 2]:
        dl = torch.utils.data.DataLoader(ds, sampler=s, batch_size=10, num_workers=workers)
        got = torch.cat([b[0] for b in dl]).tolist()
        assert got == want


def test_bad_arguments():
    with pytest.raises(ValueError, match="rank"):
        sst.ShuffleSampler(10, seed=1, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas"):
        sst.ShuffleSampler(10, seed=1, num_replicas=0)
    with pytest.raises(TypeError, match="data_source_or_len"):
        sst.ShuffleSampler(object(), seed=1)
    with pytest.raises(ValueError, match="data_source_or_len"):
        sst.ShuffleSampler(-1, seed=1)
    s = sst.ShuffleSampler(10, seed=1)
    with pytest.raises(ValueError, match="state"):
        s.load_state_dict({**s.state_dict(), "n": 11})
    with pytest.raises(ValueError, match="state"):
        s.load_state_dict({**s.state_dict(), "position": 11})
    with pytest.raises(ValueError, match="epoch"):
        s.set_epoch(-1)


def test_lengths_beyond_int64_are_refused():
    # Items past 2**63 - 1 would wrap to negative int64 indices.
    for n in [2**63, 2**63 + 5, 2**64 - 1, 2**64]:
        with pytest.raises(ValueError, match="^data_source_or_len:"):
            sst.ShuffleSampler(n, seed=1)
        with pytest.raises(ValueError, match="^data_source_or_len:"):
            sst.ShuffleSampler(n, seed=1, num_replicas=4)
    with pytest.raises(ValueError, match="^n:"):
        FeistelPermutation(2**63 + 1, [1] * 6)
    n = 2**63 - 1
    for replicas, rank in [(1, 0), (3, 2)]:
        s = sst.ShuffleSampler(n, seed=1, num_replicas=replicas, rank=rank)
        first = [i for _, i in zip(range(5000), s)]
        assert all(0 <= i < n for i in first)
        assert 0 <= s.index(len(s) - 1) < n
    # The largest domain: the top items are reachable and non-negative too.
    p = FeistelPermutation(2**63, [7] * 6)
    out = np.empty(5000, np.int64)
    p.fill_strided(out, 2**62, 1, 3)
    assert (out >= 0).all()


def test_spec_known_answer():
    assert list(sst.ShuffleSampler(10, seed=1)) == [5, 2, 4, 8, 3, 9, 6, 7, 1, 0]


def test_unshuffled_shares_near_the_top_of_the_int64_range():
    n = 2**63 - 1
    s = sst.ShuffleSampler(n, seed=0, shuffle=False, num_replicas=3, rank=2)
    it = iter(s)
    assert [next(it) for _ in range(3)] == [2, 5, 8]
