"""Reference of docs/spec.md "Floating-point conventions", "Deterministic math" and the
continuous distributions' per-draw and per-element steps, written from the spec only.

Only IEEE basic operations are used: NumPy ``+ - * /`` and ``np.sqrt`` on float32 or
float64 arrays (NumPy ufuncs round each operation once and never fuse), Python float
arithmetic (binary64) for the per-draw constants, exact conversions, and integer bit
manipulation. No ``np.log``, ``np.exp``, ``np.sin`` or ``math`` transcendental function
appears. Constants are the spec's hexadecimal floats.
"""

from __future__ import annotations

import struct
from typing import List, Sequence, Tuple

import numpy as np

F32 = np.float32
F64 = np.float64
_hx = float.fromhex


def _c32(*hexes: str) -> List[np.float32]:
    return [F32(_hx(h)) for h in hexes]


def _c64(*hexes: str) -> List[float]:
    return [_hx(h) for h in hexes]


def horner(c: Sequence, x):
    """H(c; x): acc = c[m]; acc = acc * x + c[i] for i = m-1 .. 0."""
    acc = c[-1] * np.ones_like(x) if isinstance(x, np.ndarray) else c[-1]
    for ci in c[-2::-1]:
        acc = acc * x + ci
    return acc


# --------------------------------------------------------------------------------------
# ln (spec: "ln")
# --------------------------------------------------------------------------------------
LN_P64 = _c64("0x1.5555555555558p-1", "0x1.9999999995273p-2", "0x1.2492492dfd86cp-2",
              "0x1.c71c62d5e53e0p-3", "0x1.7462b91b8df65p-3", "0x1.39fdcceb4bb45p-3",
              "0x1.2b5f68a50d903p-3")
LN_P32 = _c32("0x1.55555cp-1", "0x1.997c22p-2", "0x1.2ee8c8p-2")
LN2_HI64, LN2_LO64 = _hx("0x1.62e42feep-1"), _hx("0x1.a39ef35793c76p-33")
LN2_HI32, LN2_LO32 = F32(_hx("0x1.62ep-1")), F32(_hx("0x1.0bfbe8p-15"))


def ln64(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=F64)
    M = np.uint64(0x3FE6A09E667F3BCD)
    t = x.view(np.uint64) - M  # wraps mod 2**64
    k = (t.view(np.int64) >> np.int64(52)).astype(F64)
    m = ((t & np.uint64((1 << 52) - 1)) + M).view(F64)
    f = m - 1.0
    h = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    R = z * horner(LN_P64, z)
    return k * LN2_HI64 - ((h - (s * (h + R) + k * LN2_LO64)) - f)


def ln32(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=F32)
    M = np.uint32(0x3F3504F3)
    t = x.view(np.uint32) - M
    k = (t.view(np.int32) >> np.int32(23)).astype(F32)
    m = ((t & np.uint32((1 << 23) - 1)) + M).view(F32)
    f = m - F32(1)
    h = F32(0.5) * f * f
    s = f / (F32(2) + f)
    z = s * s
    R = z * horner(LN_P32, z)
    return k * LN2_HI32 - ((h - (s * (h + R) + k * LN2_LO32)) - f)


def ln_scalar(x: float) -> float:
    return float(ln64(np.array([x]))[0])


# --------------------------------------------------------------------------------------
# exp (spec: "exp"), binary64 scalars
# --------------------------------------------------------------------------------------
EXP_Q = _c64("0x1.5555555555553p-3", "-0x1.6c16c16c0abf9p-9", "0x1.1566ab5c1473dp-14",
             "-0x1.bbd532227cf4dp-20", "0x1.63f27409701ecp-25")
INV_LN2 = _hx("0x1.71547652b82fep+0")
SHIFTER = _hx("0x1.8p+52")


def _pow2(j: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", (1023 + j) << 52))[0]


def exp_scalar(x: float) -> float:
    if x != x:
        return x
    if x > _hx("0x1.62e42fefa39efp+9"):
        return float("inf")
    if x < -_hx("0x1.74910d52d3052p+9"):
        return 0.0
    kf = (x * INV_LN2 + SHIFTER) - SHIFTER
    hi = x - kf * LN2_HI64
    lo = kf * LN2_LO64
    r = hi - lo
    t = r * r
    c = r - t * horner(EXP_Q, t)
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    k = int(kf)
    k1 = k >> 1  # floor(k / 2)
    return y * _pow2(k1) * _pow2(k - k1)


# --------------------------------------------------------------------------------------
# cos-sin-octant (spec: "cos-sin-octant")
# --------------------------------------------------------------------------------------
SIN64 = _c64("0x1.921fb54442d18p-1", "-0x1.4abbce625be41p-4", "0x1.466bc677587f8p-9",
             "-0x1.32d2cce2e5b19p-15", "0x1.50782fda12d96p-22", "-0x1.e30071afc3e59p-30",
             "0x1.e3f38399551bfp-38")
COS64 = _c64("0x1p+0", "-0x1.3bd3cc9be45dep-2", "0x1.03c1f081b5aacp-6", "-0x1.55d3c7e3c90f8p-12",
             "0x1.e1f5068355e15p-19", "-0x1.a6d1ec7906c20p-26", "0x1.f9cc41140bb60p-34",
             "-0x1.b264ba152378ap-42")
SIN32 = _c32("0x1.921fb6p-1", "-0x1.4abbbap-4", "0x1.465ec4p-9", "-0x1.2d9b4p-15")
COS32 = _c32("0x1p+0", "-0x1.3bd3ccp-2", "0x1.03c1dcp-6", "-0x1.55c57ap-12", "0x1.d9c2e8p-19")


def _apply_octant(o, c, s, sign_bit, utype):
    swap = np.isin(o, (1, 2, 5, 6))
    c, s = np.where(swap, s, c), np.where(swap, c, s)
    neg_c = np.isin(o, (2, 3, 4, 5))
    neg_s = o >= 4
    cb = c.view(utype) ^ np.where(neg_c, sign_bit, utype(0)).astype(utype)
    sb = s.view(utype) ^ np.where(neg_s, sign_bit, utype(0)).astype(utype)
    return cb.view(c.dtype), sb.view(s.dtype)


def cos_sin_octant64(b: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    b = np.asarray(b, dtype=np.uint64)
    o = (b >> np.uint64(61)).astype(np.int64)
    K = np.uint64((1 << 51) - 1)
    k = (b >> np.uint64(10)) & K
    k = np.where(o % 2 == 1, k ^ K, k)
    t = ((np.uint64(0x3FF0000000000000) | (np.uint64(2) * k + np.uint64(1))).view(F64)) - 1.0
    u = t * t
    return _apply_octant(o, horner(COS64, u), t * horner(SIN64, u), np.uint64(1 << 63), np.uint64)


def cos_sin_octant32(b: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    b = np.asarray(b, dtype=np.uint32)
    o = (b >> np.uint32(29)).astype(np.int64)
    K = np.uint32((1 << 23) - 1)
    k = (b >> np.uint32(6)) & K
    k = np.where(o % 2 == 1, k ^ K, k).astype(np.uint32)
    t = (np.uint32(2) * k + np.uint32(1)).astype(F32) * F32(2.0**-24)
    u = t * t
    return _apply_octant(o, horner(COS32, u), t * horner(SIN32, u), np.uint32(1 << 31), np.uint32)


# --------------------------------------------------------------------------------------
# Normal CDF (spec: "Normal CDF"), binary64 scalars
# --------------------------------------------------------------------------------------
INV_SQRT_2PI = _hx("0x1.9884533d43651p-2")
ASYM = [1.0, -1.0, 3.0, -15.0, 105.0, -945.0, 10395.0, -135135.0, 2027025.0, -34459425.0]


def _trunc26(t: float) -> float:
    bits = struct.unpack("<Q", struct.pack("<d", t))[0]
    return struct.unpack("<d", struct.pack("<Q", bits & ~((1 << 27) - 1)))[0]


def pdf(t: float) -> float:
    th = _trunc26(t)
    d = (t - th) * (t + th)
    return exp_scalar(-0.5 * th * th) * exp_scalar(-0.5 * d) * INV_SQRT_2PI


def _series(t: float) -> float:
    t2 = t * t
    term = t
    total = t
    for n in range(1, 30):
        term = term * t2 / float(2 * n + 1)
        total = total + term
    return total


def _mills(t: float, depth: int) -> float:
    r = t
    for n in range(depth, 0, -1):
        r = t + float(n) / r
    return 1.0 / r


def Q(t: float) -> float:
    if t < 0.5:
        return 0.5 - pdf(t) * _series(t)
    if t < 1.5:
        return pdf(t) * _mills(t, 1600)
    if t == float("inf"):
        return 0.0
    return pdf(t) * _mills(t, 200)


def D(x: float) -> float:
    t = abs(x)
    d = pdf(t) * _series(t) if t < 1.5 else 0.5 - Q(t)
    return -d if x < 0 else d


def Phi(x: float) -> float:
    return Q(-x) if x < 0 else 1.0 - Q(x)


def S_asym(w):
    return horner(ASYM, w)


# --------------------------------------------------------------------------------------
# Normal quantile (spec: "Normal quantile"): AS 241
# --------------------------------------------------------------------------------------
A = _c64("0x1.b18d91e9eef75p+1", "0x1.0a4888b1a436ep+7", "0x1.ece5d2213c0ccp+10", "0x1.ad1d8cd4ee71dp+13",
         "0x1.66c3e869b752ap+15", "0x1.06c1c55b78f20p+16", "0x1.052d26b2e45e4p+15", "0x1.39a296f7d925ep+11")
B = _c64("0x1p+0", "0x1.5281b386e1ab5p+5", "0x1.5797efdc8b3f7p+9", "0x1.512322e75c89fp+12",
         "0x1.4b772d5d65266p+14", "0x1.3317caa64f4bep+15", "0x1.c0e457cb1ae76p+14", "0x1.46a7eca984b69p+12")
C = _c64("0x1.6c665fde9526ap+0", "0x1.2857748cab19bp+2", "0x1.713f71462256ap+2", "0x1.d2ecb1a3d02c4p+1",
         "0x1.453cc085375b2p+0", "0x1.ef2abb9b85c37p-3", "0x1.744eb6c45ec67p-6", "0x1.9615ac0b7ace9p-11")
D_ = _c64("0x1p+0", "0x1.06cefbb46a449p+1", "0x1.ad278e6526633p+0", "0x1.61292f23385c9p-1",
          "0x1.2f5123394f040p-3", "0x1.f207a7eab17bfp-7", "0x1.1f18cbfdf2728p-11", "0x1.20d3f686439e4p-30")
E = _c64("0x1.aa1b1c13ee526p+2", "0x1.5daea6e875003p+2", "0x1.c8ea6461fa445p+0", "0x1.2fad9315255cfp-2",
         "0x1.b2b41193b4ee7p-6", "0x1.45c1908425345p-10", "0x1.c6ec6cc59e02ap-16", "0x1.afb74d693bf93p-23")
F = _c64("0x1p+0", "0x1.331d34fc7d77fp-1", "0x1.186eb183443fbp-3", "0x1.e76f93215462ap-7",
         "0x1.9c8bc979dc5d7p-11", "0x1.35c2c496374bfp-16", "0x1.31446f740b9e0p-23", "0x1.269bff1f8c190p-49")


def ndtri_central(q: np.ndarray) -> np.ndarray:
    r = _hx("0x1.71eb851eb851fp-3") - q * q
    return (q * horner(A, r)) / horner(B, r)


def ndtri_tail_parts(y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(N, M) of the tail at y = ln p; -Phi^-1(p) = N / M."""
    r = np.sqrt(0.0 - y)
    near = r <= 5.0
    N = np.empty_like(r)
    M = np.empty_like(r)
    x = r[near] - _hx("0x1.999999999999ap+0")
    N[near], M[near] = horner(C, x), horner(D_, x)
    x = r[~near] - 5.0
    N[~near], M[~near] = horner(E, x), horner(F, x)
    return N, M


# --------------------------------------------------------------------------------------
# float formats (spec: "float-formats")
# --------------------------------------------------------------------------------------
def f32_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """binary32 -> bfloat16 bits, round to nearest even (finite and infinite inputs)."""
    b = np.ascontiguousarray(x, dtype=F32).view(np.uint32).astype(np.uint64)
    hi = b >> np.uint64(16)
    rnd = (b >> np.uint64(15)) & np.uint64(1)
    sticky = (b & np.uint64(0x7FFF)) != 0
    up = (rnd == 1) & (sticky | ((hi & np.uint64(1)) == 1))
    return (hi + up.astype(np.uint64)).astype(np.uint16)


def f32_to_f16_bits(x: np.ndarray) -> np.ndarray:
    """binary32 -> binary16 bits, round to nearest even (no NaN inputs)."""
    b = np.ascontiguousarray(x, dtype=F32).view(np.uint32).astype(np.int64)
    sign = (b >> 31) << 15
    e = (b >> 23) & 0xFF
    m = b & 0x7FFFFF
    he = e - 127 + 15
    out = np.zeros(b.shape, dtype=np.int64)
    # normal range: 10 mantissa bits, round on bit 12 with sticky bits 0..11
    mant = m >> 13
    rnd = (m >> 12) & 1
    sticky = (m & 0xFFF) != 0
    normal = ((he << 10) | mant) + (rnd & (sticky | (mant & 1 == 1)))
    normal = np.minimum(normal, 0x7C00)  # overflow (also by rounding) is infinity
    # subnormal range: shift the full significand right by 14 - he (>= 14)
    shift = np.clip(14 - he, 1, 40)
    full = m | 0x800000
    smant = full >> shift
    srnd = (full >> (shift - 1)) & 1
    ssticky = (full & ((np.int64(1) << (shift - 1)) - 1)) != 0
    sub = smant + (srnd & (ssticky | (smant & 1 == 1)))
    out = np.where(he >= 1, normal, np.where(shift <= 25, sub, 0))
    out = np.where(e == 0xFF, 0x7C00, out)  # infinities
    out = np.where(e == 0, 0, out)  # binary32 zeros and subnormals round to zero
    return (out | sign).astype(np.uint16)


def round_up_to(fmt: str, x: float) -> float:
    """The smallest value of the format >= x (as a float); a zero is +0.0."""
    c = _nearest(fmt, x)
    while c < x:
        c = _next_up(fmt, c)
    while _next_up(fmt, -c) <= -x:  # next value below c is still >= x
        c = -_next_up(fmt, -c)
    return c + 0.0


def round_down_to(fmt: str, x: float) -> float:
    """The largest value of the format <= x; a zero is +0.0."""
    return 0.0 - round_up_to(fmt, -x)


def _to_bits(fmt: str, v: float) -> int:
    if fmt == "float64":
        return struct.unpack("<Q", struct.pack("<d", v))[0]
    if fmt == "float32":
        return int(np.array([v], F32).view(np.uint32)[0])
    if fmt == "float16":
        return int(f32_to_f16_bits(np.array([v], F32))[0])
    return int(f32_to_bf16_bits(np.array([v], F32))[0])


def _from_bits(fmt: str, bits: int) -> float:
    if fmt == "float64":
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    if fmt == "float32":
        return float(np.array([bits], np.uint32).view(F32)[0])
    if fmt == "float16":
        return float(np.array([bits], np.uint16).view(np.float16)[0])
    return float(np.array([bits << 16], np.uint32).view(F32)[0])


def _nearest(fmt: str, x: float) -> float:
    # Any neighbour of x will do: round_up_to walks to the exact answer.
    if fmt == "float64":
        return x
    if abs(x) > 3.4e38:
        return float("inf") if x > 0 else float("-inf")
    return _from_bits(fmt, _to_bits(fmt, float(np.float32(x))))


def _next_up(fmt: str, v: float) -> float:
    if v == 0:
        return _from_bits(fmt, 1)
    bits = _to_bits(fmt, v)
    return _from_bits(fmt, bits + 1 if v > 0 else bits - 1)
