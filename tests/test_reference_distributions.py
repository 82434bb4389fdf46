"""Bit-for-bit comparison of the continuous distributions with the pure-NumPy reference
(tests/reference/detmath_ref.py and seedstream_ref.py), written from docs/spec.md only.

Agreement shows that the specification alone determines every bit of standard_normal,
normal, uniform and truncated_normal in every output format, including the deterministic
math they are built from.
"""

from __future__ import annotations

import pathlib
import sys

import ml_dtypes
import numpy as np
import pytest

_TESTS = str(pathlib.Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

import seedstream as ss  # noqa: E402
from reference.seedstream_ref import RefGenerator  # noqa: E402

DTYPES = [np.float64, np.float32, np.float16, ml_dtypes.bfloat16]
DTYPE_IDS = ["f64", "f32", "f16", "bf16"]

# (method, kwargs): parameters chosen to reach every branch of the spec: both Box-Muller
# formats, the clamp of uniform, and the central, both tail sides, both AS 241 tail
# pieces and both far-tail directions of truncated_normal.
CASES = [
    ("standard_normal", {}),
    ("normal", {"loc": -3.0, "scale": 0.02}),
    ("normal", {"loc": 1e6, "scale": 0.0}),  # beyond float16: refused
    ("normal", {"loc": 0.0, "scale": 9.6e3}),  # float16 only to |z| = 6.8: refused
    ("normal", {"loc": 1e38, "scale": 1e37}),  # float32 and bfloat16 overflow: refused
    ("normal", {"loc": 1e308, "scale": 1e308}),  # every format overflows: refused
    ("uniform", {"low": 1e5, "high": 2e5}),  # beyond float16: refused
    ("uniform", {"low": 0.0, "high": 65520.0}),  # float16 rounds 65520 to inf: refused
    ("uniform", {}),
    ("uniform", {"low": -2.5, "high": 7.25}),
    ("uniform", {"low": 0.1, "high": 0.1005}),  # a few bfloat16 values: the clamp matters
    ("uniform", {"low": 0.1, "high": 0.1000001}),  # none in float16/bfloat16: refused
    ("truncated_normal", {}),
    ("truncated_normal", {"loc": 0.0, "scale": 0.02}),  # +-100 sigma: like a plain normal
    ("truncated_normal", {"loc": 1.0, "scale": 2.0, "a": -0.5, "b": 9.0}),
    ("truncated_normal", {"a": 8.0, "b": 100.0}),  # far in the upper tail (general method)
    ("truncated_normal", {"a": -9.0, "b": -8.0}),  # lower tail, r > 5 piece
    ("truncated_normal", {"a": -1e-3, "b": 2e-3}),  # narrow, central only
    ("truncated_normal", {"a": 30.5, "b": 31.0}),  # far tail, upper
    ("truncated_normal", {"loc": 5.0, "scale": 0.1, "a": -1e9, "b": 0.0}),  # far tail, lower
    ("truncated_normal", {"a": 0.1, "b": 0.1 + 1e-9}),  # narrower than a float32 step
]
CASE_IDS = [f"{m}-{i}" for i, (m, _) in enumerate(CASES)]


def assert_same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    ai = a.reshape(-1).view(f"u{a.dtype.itemsize}")
    bi = b.reshape(-1).view(f"u{b.dtype.itemsize}")
    bad = np.flatnonzero(ai != bi)
    assert bad.size == 0, f"{bad.size} differ, first {bad[:5]}: lib={a.reshape(-1)[bad[:3]]} ref={b.reshape(-1)[bad[:3]]}"


def make_pair(alg, seed, path=()):
    g, r = ss.Generator(seed, algorithm=alg), RefGenerator(seed, alg)
    return (g.child(*path), r.child(*path)) if path else (g, r)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("method,kwargs", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("alg", ["philox", "pcg64"])
def test_matches_reference(alg, method, kwargs, dtype):
    g, r = make_pair(alg, 42, ("init", 3))
    sizes = [1, 2, 3, 5, 1023, (3, 7), 0, None] if alg == "philox" else [1, 3, 130, None]
    for size in sizes:
        try:
            b = getattr(r, method)(size=size, dtype=dtype, **kwargs)
        except ValueError:  # no finite value of the format fits: both must refuse
            with pytest.raises(ValueError, match="^(high|b|low|loc|scale):"):
                getattr(g, method)(size=size, dtype=dtype, **kwargs)
            assert g.position == r.position
            continue
        a = getattr(g, method)(size=size, dtype=dtype, **kwargs)
        if size is None:
            assert np.ndim(a) == 0 and np.asarray(a).dtype == np.dtype(dtype)
        assert_same(a, b)
        assert g.position == r.position


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_large_draw_matches_reference(dtype):
    """One draw long enough for several parallel chunks and every SIMD batch shape."""
    g, r = make_pair("philox", "big")
    g.advance(5)
    r.advance(5)
    for method, kwargs in [("standard_normal", {}), ("uniform", {"low": -1.0, "high": 1.0}),
                           ("truncated_normal", {"scale": 1.5})]:
        assert_same(getattr(g, method)(size=200_003, dtype=dtype, **kwargs),
                    getattr(r, method)(size=200_003, dtype=dtype, **kwargs))
    assert g.position == r.position


def test_spec_known_answers():
    """The table "Known answers for streams" in docs/spec.md, for library and reference."""
    want_sn = [-0.5838339658643436, 0.9438061673540087, -1.0366996886481818, 1.3636910393461317]
    want_tn8 = [8.09509396836637, 8.050654921154859, 8.032203946721006, 8.053512793664977]
    for make in (lambda: ss.Generator(42), lambda: RefGenerator(42)):
        assert make().standard_normal(4).tolist() == want_sn
        assert make().standard_normal(4, dtype=np.float16).view(np.uint16).tolist() == [0xBDD7, 0xB608, 0xB9FC, 0x3CD6]
        assert make().standard_normal(4, dtype=ml_dtypes.bfloat16).view(np.uint16).tolist() == [0xBFBB, 0xBEC1, 0xBF3F, 0x3F9B]
        assert make().uniform(-1.0, 3.0, 2).tolist() == [1.1607994533337593, 0.3526748468763392]
        assert make().truncated_normal(0.0, 1.0, 8.0, 9.0, size=4).tolist() == want_tn8
        assert make().truncated_normal(0.0, 1.0, -1e3, -40.0, size=2).tolist() == [-40.01940726471643, -40.010310850831914]


@pytest.mark.parametrize("alg", ["philox", "pcg64"])
def test_far_positions_and_overflow(alg):
    g, r = make_pair(alg, 7)
    top = 2**64 - 1
    g.advance(top - 3)
    r.advance(top - 3)
    assert_same(g.standard_normal(5), r.standard_normal(5))  # 3 blocks: the last three
    assert g.position == r.position == top
    for x in (g, r):
        with pytest.raises(ValueError):
            x.standard_normal(1)
        with pytest.raises(ValueError):
            x.truncated_normal(size=1, dtype=np.float16)
        assert x.position == top
    g, r = make_pair(alg, 7)
    g.advance(2**40 + 1)
    r.advance(2**40 + 1)
    assert_same(g.truncated_normal(size=9, dtype=np.float32), r.truncated_normal(size=9, dtype=np.float32))


# (method, kwargs, dtype, the argument a refusal names, or None when accepted)
FINITE_CASES = [
    ("uniform", {"low": 1e5, "high": 2e5}, np.float16, "low"),
    ("uniform", {"low": 0.0, "high": 65520.0}, np.float16, "high"),  # ties to even: inf
    ("uniform", {"low": -65520.0, "high": 0.0}, np.float16, "low"),
    ("uniform", {"low": 0.0, "high": 65519.0}, np.float16, None),  # rounds to 65504
    ("uniform", {"low": 0.0, "high": 3.4e38}, ml_dtypes.bfloat16, "high"),
    ("uniform", {"low": 0.0, "high": 3.38e38}, ml_dtypes.bfloat16, None),
    ("normal", {"loc": 7e4, "scale": 1.0}, np.float16, "loc"),
    ("normal", {"loc": 7e4, "scale": 1.0}, ml_dtypes.bfloat16, None),
    ("normal", {"loc": 1e308, "scale": 1e308}, np.float64, "scale"),
    ("normal", {"loc": 0.0, "scale": 1e307}, np.float64, None),  # 9.5e307 at most
    ("normal", {"loc": 6e4, "scale": 1e3}, np.float16, "scale"),
    ("normal", {"loc": 0.0, "scale": 9e3}, np.float16, None),  # 6.1e4 at most
    ("normal", {"loc": 3e38, "scale": 0.0}, np.float32, None),
    ("normal", {"loc": 3.5e38, "scale": 0.0}, np.float32, "loc"),
]


@pytest.mark.parametrize("method,kwargs,dtype,name", FINITE_CASES)
def test_finite_parameters_give_finite_samples_or_a_refusal(method, kwargs, dtype, name):
    """Parameters whose samples could round to inf in the dtype are refused with a
    ValueError naming the argument, by the library and the reference alike; the others
    give finite samples (docs/spec.md#normal-v1, #uniform-v1)."""
    g, r = make_pair("philox", 9)
    for x in (g, r):
        if name is None:
            out = getattr(x, method)(size=4096, dtype=dtype, **kwargs)
            assert np.isfinite(out.astype(np.float64)).all()
        else:
            with pytest.raises(ValueError, match=f"^{name}:"):
                getattr(x, method)(size=4096, dtype=dtype, **kwargs)
            assert x.position == 0
    if name is None:
        assert g.position == r.position
