"""Statistical tests of the continuous distributions against scipy.stats.

Every test uses a fixed seed and checks about ten statistics, each with a threshold that a
correct generator crosses with probability at most 1e-7, so a test fails by chance with
probability below 1e-6 (and, the seeds being fixed, either always or never).

10^6 samples per distribution and dtype. The float16 and bfloat16 samples are discrete:
their exact distribution is that of the float32 sample rounded to the format, so they are
compared with that discrete distribution (cell probabilities from the scipy CDF), through
the randomised probability integral transform, which is exactly uniform for a correct
discrete sample. The far tail counts at 5 and 6 sigma need 10^8 samples and are marked
slow.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

import seedstream as ss

stats = pytest.importorskip("scipy.stats")

N = 1_000_000
ALPHA = 1e-7  # per statistic
Z = stats.norm.isf(ALPHA / 2)  # two-sided z threshold, 5.33

DTYPES = {"f64": np.float64, "f32": np.float32, "f16": np.float16, "bf16": ml_dtypes.bfloat16}

# (id, method, kwargs, frozen scipy distribution, bounds or None)
CONFIGS = [
    ("standard_normal", "standard_normal", {}, stats.norm(), None),
    ("normal", "normal", {"loc": 2.0, "scale": 3.0}, stats.norm(2.0, 3.0), None),
    ("uniform", "uniform", {"low": -1.0, "high": 3.0}, stats.uniform(-1.0, 4.0), (-1.0, 3.0)),
    ("trunc[-2,2]", "truncated_normal", {}, stats.truncnorm(-2.0, 2.0), (-2.0, 2.0)),
    ("trunc-asym", "truncated_normal", {"loc": 1.0, "scale": 2.0, "a": -1.0, "b": 7.0},
     stats.truncnorm(-1.0, 3.0, loc=1.0, scale=2.0), (-1.0, 7.0)),
    ("trunc[8,9]", "truncated_normal", {"a": 8.0, "b": 9.0}, stats.truncnorm(8.0, 9.0), (8.0, 9.0)),
    ("trunc[-12,-6]", "truncated_normal", {"a": -12.0, "b": -6.0}, stats.truncnorm(-12.0, -6.0), (-12.0, -6.0)),
    ("trunc[30.5,33]", "truncated_normal", {"a": 30.5, "b": 33.0}, stats.truncnorm(30.5, 33.0), (30.5, 33.0)),
]


def draw(method, kwargs, dtype_id, config_id, n=N):
    g = ss.Generator("stats").child(config_id, dtype_id)
    return getattr(g, method)(size=n, dtype=DTYPES[dtype_id], **kwargs)


def format_values(dtype_id):
    """All finite values of a 16-bit format, sorted, as float64."""
    bits = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    with np.errstate(invalid="ignore"):  # the NaN patterns
        v = bits.view(DTYPES[dtype_id]).astype(np.float64)
    return np.unique(v[np.isfinite(v)])  # -0.0 and +0.0 merge, as in the distribution


def discrete_model(dist, dtype_id, bounds):
    """The distribution of a continuous sample rounded to a 16-bit format: values, and
    the CDF at the lower and upper edge of each value's rounding cell (cut to bounds)."""
    v = format_values(dtype_id)
    mid = (v[1:] + v[:-1]) / 2
    lo = np.concatenate([[-np.inf], mid])
    hi = np.concatenate([mid, [np.inf]])
    if bounds is not None:
        lo, hi = np.clip(lo, *bounds), np.clip(hi, *bounds)
    f_lo, f_hi = dist.cdf(lo), dist.cdf(hi)
    keep = f_hi > f_lo
    return v[keep], f_lo[keep], f_hi[keep]


def pit(x, dist, dtype_id, bounds, rng):
    """Probability integral transform: uniform on (0, 1) for a correct sample."""
    x = np.asarray(x).astype(np.float64)
    if dtype_id in ("f64", "f32"):
        return dist.cdf(x)
    v, f_lo, f_hi = discrete_model(dist, dtype_id, bounds)
    idx = np.searchsorted(v, x)
    assert (v[np.minimum(idx, len(v) - 1)] == x).all(), "sample outside the model's support"
    return f_lo[idx] + rng.random(len(x)) * (f_hi[idx] - f_lo[idx])


def anderson_darling_uniform(u):
    """A^2 of a sample against U(0, 1), and its asymptotic p-value.

    For large A^2 the null tail is sqrt(3) erfc(sqrt(A^2)) (leading eigenvalue 1/2; the
    other eigenvalues contribute the constant prod (1 - 2 / (j (j + 1)))^(-1/2) = sqrt 3),
    within a few percent of the exact tail above A^2 = 4."""
    u = np.clip(np.sort(u), 1e-300, 1 - 1e-16)
    n = len(u)
    i = np.arange(1, n + 1)
    a2 = -n - np.sum((2 * i - 1) / n * (np.log(u) + np.log1p(-u[::-1])))
    return a2, min(1.0, math.sqrt(3) * math.erfc(math.sqrt(max(a2, 0.0))))


def moments_model(dist, dtype_id, bounds):
    """E[X^k], k = 1..8, of the sample's exact distribution."""
    if dtype_id in ("f64", "f32"):
        return [float(dist.moment(k)) for k in range(1, 9)]
    v, f_lo, f_hi = discrete_model(dist, dtype_id, bounds)
    p = f_hi - f_lo
    return [float(np.sum(p * v**k)) for k in range(1, 9)]


@pytest.mark.parametrize("dtype_id", list(DTYPES))
@pytest.mark.parametrize("config", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_distribution(config, dtype_id):
    config_id, method, kwargs, dist, bounds = config
    x = draw(method, kwargs, dtype_id, config_id)
    assert x.dtype == np.dtype(DTYPES[dtype_id]) and x.shape == (N,)
    xf = x.astype(np.float64)
    assert np.isfinite(xf).all()
    if bounds is not None:
        assert xf.min() >= bounds[0] and xf.max() <= bounds[1]

    rng = np.random.default_rng(12345)
    u = pit(x, dist, dtype_id, bounds, rng)
    ks = stats.kstest(u, "uniform")
    assert ks.pvalue > ALPHA, f"KS D={ks.statistic:.5f} p={ks.pvalue:.2e}"
    a2, p_ad = anderson_darling_uniform(u)
    assert p_ad > ALPHA, f"AD A2={a2:.2f} p={p_ad:.2e}"
    counts = np.bincount(np.minimum((u * 20).astype(int), 19), minlength=20)
    chi2 = stats.chisquare(counts)
    assert chi2.pvalue > ALPHA, f"mass in 20 equiprobable bins: {counts}"

    # Raw moments 1..4: the sample mean of X^k has variance (E[X^2k] - E[X^k]^2) / N.
    m = moments_model(dist, dtype_id, bounds)
    for k in range(1, 5):
        se = math.sqrt(max(m[2 * k - 1] - m[k - 1] ** 2, 0.0) / N)
        got = float(np.mean(xf**k))
        assert abs(got - m[k - 1]) <= Z * se + 1e-12 * abs(m[k - 1]), f"E[X^{k}] {got} vs {m[k - 1]} (se {se:.2e})"


@pytest.mark.parametrize("dtype_id", ["f64", "f32"])
def test_normal_tail_frequencies(dtype_id):
    """Counts beyond 3 and 4 sigma, and their sign balance, at 10^6 samples."""
    z = draw("standard_normal", {}, dtype_id, "tails").astype(np.float64)
    for k in (3.0, 4.0):
        hits = int(np.sum(np.abs(z) > k))
        p = 2 * stats.norm.sf(k)
        assert stats.binomtest(hits, N, p).pvalue > ALPHA, (k, hits, N * p)
        upper = int(np.sum(z > k))
        assert stats.binomtest(upper, hits, 0.5).pvalue > ALPHA, (k, upper, hits)


def test_truncated_normal_far_tail_mass():
    """a = 8 sigma: the mass near the bound follows exp(-8 d) closely (P(Z - 8 < d | Z > 8))."""
    z = draw("truncated_normal", {"a": 8.0, "b": 1e3}, "f64", "tail-mass")
    dist = stats.truncnorm(8.0, 1e3)
    for d in (0.01, 0.05, 0.1, 0.3, 0.6):
        hits = int(np.sum(z < 8.0 + d))
        assert stats.binomtest(hits, N, dist.cdf(8.0 + d)).pvalue > ALPHA, (d, hits)
    assert z.min() >= 8.0 and z.max() < 12.0


@pytest.mark.slow
@pytest.mark.parametrize("dtype_id", ["f64", "f32"])
def test_normal_5_and_6_sigma_tails_at_1e8(dtype_id):
    """10^8 standard normals in chunks of one stream: counts beyond 5 and 6 sigma."""
    g = ss.Generator("stats").child("tails-1e8", dtype_id)
    n, chunk = 10**8, 10**7
    buf = np.empty(chunk, dtype=DTYPES[dtype_id])
    beyond = {5.0: 0, 6.0: 0}
    for _ in range(n // chunk):
        g.standard_normal(out=buf, dtype=buf.dtype)
        a = np.abs(buf)
        for k in beyond:
            beyond[k] += int(np.sum(a > k))
    for k, hits in beyond.items():
        p = 2 * stats.norm.sf(k)  # 5.7e-7 and 2.0e-9: 57 and 0.2 expected
        assert stats.binomtest(hits, n, p).pvalue > ALPHA, (k, hits, n * p)
    assert beyond[5.0] > 0
