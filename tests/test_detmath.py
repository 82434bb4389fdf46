"""Accuracy of the deterministic math (docs/spec.md#accuracy) and the rule that no output
path calls the platform's libm.

binary64 functions are compared with mpmath at 50 digits; binary32 functions with the
binary64 result of NumPy's libm, which is far more accurate than one binary32 ulp. The
bounds asserted here are the ones docs/spec.md states; benches/detmath_accuracy.py runs
the exhaustive binary32 sweeps and larger binary64 samples.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

from seedstream import _core

mp = pytest.importorskip("mpmath")
mp.mp.dps = 50
ROOT = pathlib.Path(__file__).resolve().parents[1]


def ulp_errors_f64(got: np.ndarray, exact: list) -> np.ndarray:
    """|got - exact| in ulps of the exact value rounded to binary64."""
    out = np.empty(len(exact))
    for i, (g, e) in enumerate(zip(got.tolist(), exact)):
        spacing = float(np.spacing(abs(float(e)))) if e != 0 else 5e-324
        out[i] = float(abs(mp.mpf(g) - e) / spacing)
    return out


def ulp_errors_f32(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got - exact| in ulps of the binary64 reference rounded to binary32."""
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


# ------------------------------------------------------------------------------------
# The rule: no libm, no fused multiply-add in the core or the bindings
# ------------------------------------------------------------------------------------
LIBM = re.compile(
    r"\.(ln|log|log2|log10|ln_1p|exp|exp2|exp_m1|powf|powi|sin|cos|tan|sin_cos|asin|acos|atan|"
    r"atan2|sinh|cosh|tanh|hypot|cbrt|mul_add)\(|\b(f32|f64)::(ln|exp|sin|cos|mul_add)\b"
)


def test_no_platform_libm_in_output_paths():
    """Outside `#[cfg(test)]` modules, no Rust source calls a libm function or mul_add
    (clippy.toml enforces the same through `make lint`)."""
    offenders = []
    for path in sorted((ROOT / "rust").glob("*/src/**/*.rs")):
        text = path.read_text()
        body = text.split("#[cfg(test)]")[0]  # test modules sit at the end of each file
        for n, line in enumerate(body.splitlines(), 1):
            code = line.split("//")[0]
            if LIBM.search(code):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_rule_can_fail():
    assert LIBM.search("let y = x.ln();") and LIBM.search("a.mul_add(b, c)")
    assert not LIBM.search("ln_f64(x)") and not LIBM.search("(0.0 - y).sqrt()")


# ------------------------------------------------------------------------------------
# binary64 against mpmath
# ------------------------------------------------------------------------------------
RNG = np.random.default_rng(20240601)


def test_ln_f64():
    x = np.concatenate([
        np.exp2(-RNG.uniform(0, 65, 6000)),  # the Box-Muller range (0, 1]
        RNG.uniform(0.5, 2.0, 3000),
        1.0 + RNG.uniform(-1e-6, 1e-6, 500),
        np.exp2(RNG.uniform(-1000, 1000, 500)),
    ])
    err = ulp_errors_f64(_core._detmath("ln", x), [mp.log(mp.mpf(v)) for v in x.tolist()])
    assert err.max() < 1.0, err.max()


def test_exp_f64():
    x = np.concatenate([RNG.uniform(-745, 709, 5000), RNG.uniform(-1, 1, 3000), RNG.uniform(-745.1, -708, 500)])
    got = _core._detmath("exp", x)
    exact = [mp.exp(mp.mpf(v)) for v in x.tolist()]
    normal = np.array([float(e) >= 2.2250738585072014e-308 for e in exact])
    err = ulp_errors_f64(got[normal], [e for e, k in zip(exact, normal) if k])
    assert err.max() < 1.0, err.max()
    # subnormal results: within one unit of the least subnormal
    sub = [abs(mp.mpf(g) - e) / mp.mpf(5e-324) for g, e, k in zip(got.tolist(), exact, normal) if not k]
    assert max(sub) <= 1.0


@pytest.mark.parametrize("name,fn,bound", [("sin_quarter_pi", mp.sin, 2.0), ("cos_quarter_pi", mp.cos, 2.0)])
def test_sin_cos_quarter_pi_f64(name, fn, bound):
    t = np.concatenate([RNG.uniform(0, 1, 5000), (2 * RNG.integers(0, 2**51, 1000) + 1) * 2.0**-52])
    err = ulp_errors_f64(_core._detmath(name, t), [fn(mp.pi / 4 * mp.mpf(v)) for v in t.tolist()])
    assert err.max() < bound, err.max()


def test_upper_tail_and_cdf():
    t = np.concatenate([RNG.uniform(0, 1.5, 1000), RNG.uniform(1.5, 10, 1000), RNG.uniform(10, 37.5, 1000)])
    err = ulp_errors_f64(_core._detmath("upper_tail", t), [mp.ncdf(-mp.mpf(v)) for v in t.tolist()])
    assert err.max() < 8.0, err.max()
    x = RNG.uniform(-37.5, 0, 2000)
    err = ulp_errors_f64(_core._detmath("ndtr", x), [mp.ncdf(mp.mpf(v)) for v in x.tolist()])
    assert err.max() < 8.0, err.max()


def test_ndtri_central():
    p = RNG.uniform(0.075, 0.925, 4000)
    z = _core._detmath("ndtri", p)
    # The error of z from the residual: dz = (Phi(z) - p) / pdf(z), exact enough at 50 digits.
    exact = [mp.mpf(zi) - (mp.ncdf(mp.mpf(zi)) - mp.mpf(pi)) / mp.npdf(mp.mpf(zi)) for zi, pi in zip(z.tolist(), p.tolist())]
    err = ulp_errors_f64(z, exact)
    assert err.max() < 8.0, err.max()


def test_ndtri_tail_from_log_p():
    y = np.concatenate([RNG.uniform(-25, -2.6, 2000), RNG.uniform(-500, -25, 2000)])
    m = _core._detmath("ndtri_tail", y)  # -Phi^-1(e^y)
    exact = []
    for mi, yi in zip(m.tolist(), y.tolist()):
        z = -mp.mpf(mi)
        # Newton in log space: d ln Phi / dz = pdf / Phi.
        for _ in range(2):
            z = z - (mp.log(mp.ncdf(z)) - yi) * mp.ncdf(z) / mp.npdf(z)
        exact.append(-z)
    err = ulp_errors_f64(m, exact)
    assert err.max() < 8.0, err.max()


# ------------------------------------------------------------------------------------
# binary32 against the binary64 libm
# ------------------------------------------------------------------------------------
def test_ln_f32_over_a_million_inputs():
    bits = RNG.integers(0x00800000, 0x7F800000, 2_000_000, dtype=np.uint32)
    x = np.concatenate([bits.view(np.float32), np.exp2(-RNG.uniform(0, 33, 1_000_000)).astype(np.float32)])
    err = ulp_errors_f32(_core._detmath("ln", x), np.log(x.astype(np.float64)))
    assert err.max() < 1.0, err.max()


def test_sin_cos_quarter_pi_f32_exhaustive():
    """Every t = (2k + 1) 2^-24 the binary32 octant mapping produces."""
    t = ((2 * np.arange(1 << 23, dtype=np.uint32) + 1).astype(np.float32) * np.float32(2.0**-24))
    x = np.pi / 4 * t.astype(np.float64)
    assert ulp_errors_f32(_core._detmath("sin_quarter_pi", t), np.sin(x)).max() < 1.75
    assert ulp_errors_f32(_core._detmath("cos_quarter_pi", t), np.cos(x)).max() < 1.25


def test_fitted_coefficients_are_the_specified_ones():
    """scripts/fit_detmath.py reproduces every fitted constant of the spec (as the
    reference implementation spells them)."""
    import importlib.util
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from reference import detmath_ref as dm

    spec = importlib.util.spec_from_file_location("fit_detmath", ROOT / "scripts" / "fit_detmath.py")
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    want = {
        "ln P (binary64)": dm.LN_P64, "ln P (binary32)": dm.LN_P32, "exp Q": dm.EXP_Q,
        "SIN (binary64)": dm.SIN64, "COS (binary64)": dm.COS64,
        "SIN (binary32)": dm.SIN32, "COS (binary32)": dm.COS32,
    }
    for name, f, (a, b), n, single in fit.FITS:
        coeffs, _ = fit.fit(f, a, b, n)
        if single:
            coeffs = [float(np.float32(c)) for c in coeffs]
        assert coeffs == [float(c) for c in want[name]], name


def test_far_tail_quantile():
    """truncated-normal-v1's far-tail method (reference implementation, which the library
    matches bit for bit in test_reference_distributions) against the exact quantile."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from reference import seedstream_ref as ref

    worst = 0.0
    for t1, t2 in [(30.0, 31.0), (30.5, 1e6), (40.0, 40.001), (1e8, 2e8)]:
        u = np.concatenate([RNG.uniform(0, 1, 40), [2.0**-53, 1 - 2.0**-53, 0.5]])
        z = ref._far_tail(1.0, t1, t2, u)
        q1, q2 = mp.ncdf(-mp.mpf(t1)), mp.ncdf(-mp.mpf(t2))
        for ui, zi in zip(u.tolist(), z.tolist()):
            target = mp.log(q1) + mp.log((1 - mp.mpf(ui)) + mp.mpf(ui) * q2 / q1)
            exact = mp.findroot(lambda t: mp.log(mp.ncdf(-t)) - target, mp.mpf(zi))
            worst = max(worst, float(abs(mp.mpf(zi) - exact) / np.spacing(float(exact))))
    assert worst < 1.0, worst


def test_general_quantile():
    """truncated-normal-v1's general method (reference implementation, bit-identical to the
    library) against the exact quantile; error in ulps of max(1, |z|), since near z = 0 the
    absolute error of p - 1/2 (about 2^-54) is what limits any inverse-CDF method."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from reference import seedstream_ref as ref

    worst = 0.0
    for a, b in [(-2.0, 2.0), (8.0, 9.0), (-1.0, 3.0), (-12.0, -6.0), (-29.0, 29.0)]:
        u = np.concatenate([RNG.uniform(0, 1, 40), [2.0**-53, 1 - 2.0**-53, 0.5, 1e-9, 1 - 1e-9]])
        z = ref._general(a, b, u)
        pa, pb = mp.ncdf(a), mp.ncdf(b)
        qa, qb = mp.ncdf(-a), mp.ncdf(-b)
        for ui, zi in zip(u.tolist(), z.tolist()):
            p = pa + mp.mpf(ui) * (pb - pa)
            if p < 0.5:
                exact = mp.findroot(lambda t: mp.log(mp.ncdf(t)) - mp.log(p), mp.mpf(zi))
            else:
                q = qa - mp.mpf(ui) * (qa - qb)
                exact = mp.findroot(lambda t: mp.log(mp.ncdf(-t)) - mp.log(q), mp.mpf(zi))
            worst = max(worst, float(abs(mp.mpf(zi) - exact) / np.spacing(max(1.0, abs(float(exact))))))
    assert worst < 8.0, worst


# ------------------------------------------------------------------------------------
# binary64 over millions of inputs against x87 80-bit extended precision
# ------------------------------------------------------------------------------------
_EXTENDED = np.finfo(np.longdouble).nmant >= 63
_PI_EXT = np.longdouble("3.14159265358979323846264338327950288") if _EXTENDED else None


def _ulp_errors_ext(got, exact):
    """|got - exact| in ulps of the binary64 value nearest `exact` (64-bit significands
    leave the reference error below 2^-11 ulp)."""
    ref64 = exact.astype(np.float64)
    return np.abs(got.astype(np.longdouble) - exact) / np.spacing(np.abs(ref64)).astype(np.longdouble)


@pytest.mark.skipif(not _EXTENDED, reason="needs an 80-bit long double (x86-64)")
@pytest.mark.parametrize(
    "name,sample,reference,bound",
    [
        ("ln", lambda r, n: np.exp2(r.uniform(-1022, 1023, n)) * r.uniform(1, 2, n), np.log, 1.0),
        ("exp", lambda r, n: r.uniform(-708, 709, n), np.exp, 1.0),
        ("sin_quarter_pi", lambda r, n: r.uniform(0, 1, n), lambda t: np.sin(_PI_EXT / 4 * t), 2.0),
        ("cos_quarter_pi", lambda r, n: r.uniform(0, 1, n), lambda t: np.cos(_PI_EXT / 4 * t), 2.0),
    ],
)
def test_f64_functions_over_millions_of_inputs(name, sample, reference, bound):
    x = sample(np.random.default_rng(7), 2_000_000)
    got = _core._detmath(name, x)
    exact = reference(x.astype(np.longdouble))
    err = _ulp_errors_ext(got, exact)
    if name.startswith("sin"):
        err = err[x > 1e-300]  # sin(0) = 0: no ulp to measure against
    assert float(err.max()) < bound, (name, float(err.max()))
