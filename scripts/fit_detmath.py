#!/usr/bin/env python3
"""Fits the polynomial coefficients of seedstream's deterministic math (docs/spec.md#ln,
#exp, #cos-sin-octant) and prints them as hexadecimal floats.

The coefficients in rust/core/src/detmath/*.rs and docs/spec.md are the output of this
script, rounded to binary64 (and, for the binary32 functions, then to binary32). It is
kept to document where they come from; rerunning it prints the same values. Changing a
coefficient changes the output of every distribution that uses it, which is a new
version (docs/spec.md#versions). The normal-quantile coefficients are Wichura's published
AS 241 values and are not fitted here.

Method: mpmath's Chebyshev interpolation (`mpmath.chebyfit`, near-minimax) at 40 digits
of each target function on its reduced interval, converted to monomial coefficients.

    python scripts/fit_detmath.py
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 40


def fit(f, a, b, n):
    """n coefficients, lowest degree first, and the fit's maximum absolute error."""
    try:
        coeffs, err = mp.chebyfit(f, [a, b], n, error=True, asc=True)
    except TypeError:  # mpmath < 1.4 has no `asc` and returns the highest degree first
        coeffs, err = mp.chebyfit(f, [a, b], n, error=True)
        coeffs = coeffs[::-1]
    return [float(c) for c in coeffs], err


def sin_over_t(u):  # sin(pi t / 4) / t as a function of u = t^2, t in [0, 1]
    if u == 0:
        return mp.pi / 4
    t = mp.sqrt(u)
    return mp.sin(mp.pi * t / 4) / t


def cos_of(u):  # cos(pi t / 4) as a function of u = t^2
    return mp.cos(mp.pi * mp.sqrt(u) / 4)


def exp_q(z):  # (r (e^r + 1) / (e^r - 1) - 2) / r^2 as a function of z = r^2
    if z == 0:
        return mp.mpf(1) / 6
    r = mp.sqrt(z)
    return (r * (mp.exp(r) + 1) / (mp.exp(r) - 1) - 2) / z


def ln_p(z):  # (2 atanh(s) - 2 s) / s^3 as a function of z = s^2
    if z == 0:
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (2 * mp.atanh(s) - 2 * s) / (s * z)


# s = f / (2 + f) with f = m - 1, m in [sqrt(2)/2, sqrt(2)): |s| <= (sqrt 2 - 1)/(sqrt 2 + 1).
S_MAX_SQ = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2
FITS = [
    # name, function, interval, terms, binary32?
    ("ln P (binary64)", ln_p, (0, S_MAX_SQ * 1.001), 7, False),
    ("ln P (binary32)", ln_p, (0, S_MAX_SQ * 1.001), 3, True),
    ("exp Q", exp_q, (0, (mp.log(2) / 2) ** 2 * 1.0001), 5, False),
    ("SIN (binary64)", sin_over_t, (0, 1), 7, False),
    ("COS (binary64)", cos_of, (0, 1), 8, False),
    ("SIN (binary32)", sin_over_t, (0, 1), 4, True),
    ("COS (binary32)", cos_of, (0, 1), 5, True),
]


def main() -> None:
    for name, f, (a, b), n, single in FITS:
        coeffs, err = fit(f, a, b, n)
        if single:
            coeffs = [float(np.float32(c)) for c in coeffs]
        print(f"{name}: max fit error {mp.nstr(err, 3)}")
        print("    " + ", ".join(c.hex() for c in coeffs))


if __name__ == "__main__":
    main()
