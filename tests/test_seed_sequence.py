"""seedstream.SeedSequence against NumPy's: reference data, live comparison, spawning,
pickling and errors."""

import copy
import pickle

import numpy as np
import pytest
from numpy.random.bit_generator import ISpawnableSeedSequence

import seedstream as ss


def test_reference_data(reference_dir):
    """numpy/random/tests/test_seed_sequence.py test_reference_data (transcribed)."""
    lines = [ln for ln in (reference_dir / "numpy" / "seedsequence-reference.txt").read_text().splitlines()
             if ln and not ln.startswith("#")]
    assert len(lines) == 10
    for line in lines:
        v = [int(x) for x in line.split()]
        seq = ss.SeedSequence(v[0:4])
        assert seq.generate_state(4).tolist() == v[4:8]
        assert seq.generate_state(2, np.uint64).tolist() == v[8:10]


def test_zero_padding_fact():
    """test_seed_sequence.py test_zero_padding: small ints are not padded without a spawn key."""
    assert ss.SeedSequence(42).generate_state(4).tolist() == [3444837047, 2669555309, 2046530742, 3581440988]
    assert not np.array_equal(ss.SeedSequence(42, spawn_key=(0,)).generate_state(4),
                              ss.SeedSequence([42, 0]).generate_state(4))


ENTROPIES = [0, 1, 42, 0xDEADBEAF, 2**32, 2**64 - 1, 2**200 + 7, True, np.uint64(2**63), np.int8(5),
             [], [0], [1, 2, 3, 4, 5, 6, 7, 8, 9], [2**40, 3], (7, [8, [9]]), range(5),
             np.arange(10, dtype=np.uint32), np.arange(3, dtype=np.int64) * 2**33, np.array([[1, 2], [3, 4]])]


@pytest.mark.parametrize("entropy", ENTROPIES, ids=repr)
@pytest.mark.parametrize("spawn_key", [(), (0,), (3, 2**40)])
@pytest.mark.parametrize("pool_size", [4, 5, 8])
def test_matches_numpy_live(entropy, spawn_key, pool_size):
    ours = ss.SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size)
    theirs = np.random.SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size)
    assert np.array_equal(ours.pool, theirs.pool)
    for n in (0, 1, 3, 16):
        a, b = ours.generate_state(n), theirs.generate_state(n)
        assert a.dtype == b.dtype and np.array_equal(a, b)
        a, b = ours.generate_state(n, np.uint64), theirs.generate_state(n, "u8")
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_spawn_matches_numpy():
    ours, theirs = ss.SeedSequence(5, spawn_key=(1,)), np.random.SeedSequence(5, spawn_key=(1,))
    for n in (2, 0, 3):
        a, b = ours.spawn(n), theirs.spawn(n)
        assert [s.state for s in a] == [s.state for s in b]
        assert all(np.array_equal(x.generate_state(4), y.generate_state(4)) for x, y in zip(a, b))
    assert ours.n_children_spawned == theirs.n_children_spawned == 5
    grandchild = ours.spawn(1)[0].spawn(1)[0]
    assert grandchild.spawn_key == (1, 5, 0)


def test_state_and_repr_match_numpy():
    for kwargs in [dict(entropy=1), dict(entropy=[1, 2], spawn_key=(3,), pool_size=6, n_children_spawned=2)]:
        ours, theirs = ss.SeedSequence(**kwargs), np.random.SeedSequence(**kwargs)
        assert ours.state == theirs.state
        assert repr(ours) == repr(theirs)


def test_fresh_entropy_differs_and_is_recorded():
    a, b = ss.SeedSequence(), ss.SeedSequence()
    assert a.entropy != b.entropy
    assert np.array_equal(a.generate_state(4), np.random.SeedSequence(a.entropy).generate_state(4))


def test_is_a_numpy_seed_sequence():
    seq = ss.SeedSequence(3)
    assert isinstance(seq, ISpawnableSeedSequence)
    assert np.array_equal(np.random.PCG64(seq).random_raw(5), np.random.PCG64(3).random_raw(5))


def test_pickle_and_copies_keep_the_spawn_count():
    seq = ss.SeedSequence(3, spawn_key=(4,))
    seq.spawn(2)
    for clone in (pickle.loads(pickle.dumps(seq)), copy.deepcopy(seq), copy.copy(seq)):
        assert clone.state == seq.state
        assert clone.spawn(1)[0].spawn_key == (4, 2)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [(dict(entropy=-1), ValueError, "entropy"), (dict(entropy=[1, -1]), ValueError, "entropy"),
     (dict(entropy=1.5), TypeError, "entropy"), (dict(entropy="12"), TypeError, "entropy"),
     (dict(entropy=[1.5]), TypeError, "entropy"), (dict(entropy=b"ab"), TypeError, "entropy"),
     (dict(entropy=1, spawn_key=(-1,)), ValueError, "spawn_key"), (dict(entropy=1, spawn_key=5), TypeError, "spawn_key"),
     (dict(entropy=1, pool_size=3), ValueError, "pool_size"), (dict(entropy=1, pool_size=4.0), TypeError, "pool_size"),
     (dict(entropy=1, n_children_spawned=-1), ValueError, "n_children_spawned")],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ss.SeedSequence(**kwargs)


@pytest.mark.parametrize("args,exc,match", [((-1,), ValueError, "n_words"), ((1.5,), TypeError, "n_words"),
                                             ((2, np.float64), ValueError, "dtype"), ((2, ">u4"), ValueError, "dtype")])
def test_bad_generate_state(args, exc, match):
    with pytest.raises(exc, match=match):
        ss.SeedSequence(1).generate_state(*args)


@pytest.mark.parametrize("n,exc", [(-1, OverflowError), (1.5, TypeError)])  # NumPy's types
def test_bad_spawn(n, exc):
    seq = ss.SeedSequence(1)
    with pytest.raises(exc, match="n_children"):
        seq.spawn(n)
    assert seq.n_children_spawned == 0
