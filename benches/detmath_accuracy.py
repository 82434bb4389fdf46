#!/usr/bin/env python3
"""Accuracy sweep of seedstream's deterministic math (docs/spec.md#accuracy).

Not a test and not a timing: it measures the largest error of each function, in ulps of
the exact result in the function's format, and prints a Markdown table.

- binary32 `ln`: every positive normal binary32 (2^31 - 2^23 inputs), against the binary64
  logarithm of NumPy's libm (far more accurate than one binary32 ulp);
- binary32 sin(pi t/4), cos(pi t/4): every t the octant mapping can produce (2^23);
- binary64 functions: `--n` random points each (default 100,000) against mpmath at 50
  digits, spread over the domain the distributions use.

    python benches/detmath_accuracy.py              # ~5 minutes on one core
    python benches/detmath_accuracy.py --quick      # binary32 on a stride, n = 2000
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from seedstream import _core


def ulp_f32(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


def ln_f32_sweep(stride: int) -> float:
    worst = 0.0
    lo, hi = 0x00800000, 0x7F800000
    chunk = 1 << 24
    for start in range(lo, hi, chunk * stride):
        bits = np.arange(start, min(start + chunk * stride, hi), stride, dtype=np.uint32)
        x = bits.view(np.float32)
        worst = max(worst, float(ulp_f32(_core._detmath("ln", x), np.log(x.astype(np.float64))).max()))
    return worst


def sincos_f32_sweep() -> tuple:
    t = (2 * np.arange(1 << 23, dtype=np.uint32) + 1).astype(np.float32) * np.float32(2.0**-24)
    x = np.pi / 4 * t.astype(np.float64)
    s = float(ulp_f32(_core._detmath("sin_quarter_pi", t), np.sin(x)).max())
    c = float(ulp_f32(_core._detmath("cos_quarter_pi", t), np.cos(x)).max())
    return s, c


def f64_sweeps(n: int, rng: np.random.Generator) -> list:
    import mpmath as mp

    mp.mp.dps = 50

    def err(got, exact):
        worst = 0.0
        for g, e in zip(got.tolist(), exact):
            spacing = float(np.spacing(abs(float(e))))
            worst = max(worst, float(abs(mp.mpf(g) - e) / spacing))
        return worst

    rows = []
    x = np.concatenate([np.exp2(-rng.uniform(0, 65, n // 2)), rng.uniform(0.5, 2.0, n // 2)])
    rows.append(("ln binary64", "[2^-65, 2]", err(_core._detmath("ln", x), [mp.log(mp.mpf(v)) for v in x.tolist()])))
    x = rng.uniform(-708, 709, n)
    rows.append(("exp binary64", "[-708, 709]", err(_core._detmath("exp", x), [mp.exp(mp.mpf(v)) for v in x.tolist()])))
    t = rng.uniform(0, 1, n)
    for name, fn in (("sin_quarter_pi", mp.sin), ("cos_quarter_pi", mp.cos)):
        rows.append((f"{name} binary64", "t in (0, 1)", err(_core._detmath(name, t), [fn(mp.pi / 4 * mp.mpf(v)) for v in t.tolist()])))
    t = rng.uniform(0, 37.5, n)
    rows.append(("Q(t) = Phi(-t)", "[0, 37.5]", err(_core._detmath("upper_tail", t), [mp.ncdf(-mp.mpf(v)) for v in t.tolist()])))
    p = rng.uniform(0.075, 0.925, n)
    z = _core._detmath("ndtri", p)
    exact = [mp.mpf(zi) - (mp.ncdf(mp.mpf(zi)) - mp.mpf(pi)) / mp.npdf(mp.mpf(zi)) for zi, pi in zip(z.tolist(), p.tolist())]
    rows.append(("AS 241 central", "p in [0.075, 0.925]", err(z, exact)))
    y = rng.uniform(-500, np.log(0.075), n)
    m = _core._detmath("ndtri_tail", y)
    exact = []
    for mi, yi in zip(m.tolist(), y.tolist()):
        zz = -mp.mpf(mi)
        for _ in range(2):
            zz = zz - (mp.log(mp.ncdf(zz)) - yi) * mp.ncdf(zz) / mp.npdf(zz)
        exact.append(-zz)
    rows.append(("AS 241 tail from ln p", "ln p in [-500, ln 0.075]", err(m, exact)))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="random points per binary64 function")
    ap.add_argument("--quick", action="store_true", help="binary32 ln on a stride of 101, n = 2000")
    args = ap.parse_args(argv)
    n = 2000 if args.quick else args.n
    rng = np.random.default_rng(1)
    rows = []
    t0 = time.time()
    stride = 101 if args.quick else 1
    label = "all positive normals" if stride == 1 else f"every {stride}th positive normal"
    rows.append(("ln binary32", label, ln_f32_sweep(stride)))
    print(f"ln binary32 done ({time.time() - t0:.0f} s)", file=sys.stderr)
    s, c = sincos_f32_sweep()
    rows.append(("sin_quarter_pi binary32", "all 2^23 octant positions", s))
    rows.append(("cos_quarter_pi binary32", "all 2^23 octant positions", c))
    rows.extend(f64_sweeps(n, rng))
    print(f"done ({time.time() - t0:.0f} s)", file=sys.stderr)
    print(f"| function | inputs | max error (ulp) |\n| --- | --- | ---: |")
    for name, dom, e in rows:
        print(f"| {name} | {dom} | {e:.3f} |")
    print(f"\nbinary64 rows: {n} random points each against mpmath (50 digits).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
