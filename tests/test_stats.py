"""Statistical sanity of every issue-2 method at 10^6 samples.

Fixed seeds; each threshold is one that a correct generator misses with probability below
about 1e-6 (p-value cut 1e-7 for each test), so the suite is not flaky.
"""

import numpy as np
import pytest
from scipy import stats

import seedstream as ss

N = 1_000_000
P_MIN = 1e-7
ALGORITHMS = ["philox", "pcg64"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_is_uniform(algorithm, dtype):
    x = ss.Generator(2024, algorithm=algorithm).random(N, dtype=dtype)
    assert stats.kstest(x, "uniform").pvalue > P_MIN
    # Mean and variance of U(0, 1): 1/2 and 1/12, each within 6 standard errors.
    assert abs(x.mean() - 0.5) < 6 * np.sqrt(1 / 12 / N)
    assert abs(x.var() - 1 / 12) < 6 * np.sqrt(1 / 180 / N)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_bits_are_balanced(algorithm, dtype):
    x = ss.Generator(7, algorithm=algorithm).bits(N // 4, dtype=dtype)
    width = np.dtype(dtype).itemsize * 8
    ones = np.array([((x >> np.array(b, dtype=dtype)) & np.array(1, dtype=dtype)).sum() for b in range(width)])
    n = len(x)
    # Each bit position is Binomial(n, 1/2): allow 6 sigma.
    assert np.all(np.abs(ones - n / 2) < 6 * np.sqrt(n / 4))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("high", [2, 7, 1000, 2**31 + 11])
def test_integers_chi_square(algorithm, high):
    x = ss.Generator(99, algorithm=algorithm).integers(0, high, size=N)
    assert x.min() >= 0 and x.max() < high
    bins = min(high, 1000)
    counts = np.bincount((x * bins // high).astype(np.int64), minlength=bins)
    # Equal-width bins of [0, high): expected counts proportional to bin widths.
    edges = -(-np.arange(bins + 1) * high // bins)
    expected = np.diff(edges) / high * N
    assert stats.chisquare(counts, expected).pvalue > P_MIN


def test_integers_full_uint64_range_top_bits_uniform():
    x = ss.Generator(3).integers(0, 2**64 - 1, size=N, dtype=np.uint64, endpoint=True)
    counts = np.bincount((x >> np.uint64(56)).astype(np.int64), minlength=256)
    assert stats.chisquare(counts).pvalue > P_MIN


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("p", [0.001, 0.1, 0.5, 0.9])
def test_bernoulli_frequency(algorithm, p):
    x = ss.Generator(5, algorithm=algorithm).bernoulli(p, size=N)
    sd = np.sqrt(p * (1 - p) / N)
    assert abs(x.mean() - p) < 6 * sd


def test_permutation_positions_are_uniform():
    """Where item 0 lands over many permutations of 10 items: uniform over 10 places."""
    g = ss.Generator(17)
    trials = 100_000
    places = np.array([np.flatnonzero(g.permutation(10) == 0)[0] for _ in range(trials)])
    assert stats.chisquare(np.bincount(places, minlength=10)).pvalue > P_MIN


def test_streams_are_uncorrelated():
    a = ss.Generator(1).child("a").random(N)
    b = ss.Generator(1).child("b").random(N)
    c = ss.Generator(1).random(N)
    for u, v in [(a, b), (a, c), (b, c)]:
        assert abs(np.corrcoef(u, v)[0, 1]) < 6 / np.sqrt(N)
    # Neighbouring elements of one stream.
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 6 / np.sqrt(N)
