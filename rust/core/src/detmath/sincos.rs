//! Cosine and sine of a uniformly random angle given as integer bits. Spec:
//! docs/spec.md#cos-sin-octant.
//!
//! The angle is `theta = 2 pi (o + t) / 8`: the top three bits select the octant `o` and
//! the next bits give the position `t` in it, so there is no range reduction and no
//! rounding of a multiple of pi. Inside the octant, `sin(pi t / 4)` and `cos(pi t / 4)` for
//! `t` in (0, 1) are fitted polynomials in `t` (odd and even); the octant is then applied
//! exactly by swapping the pair and flipping sign bits. In odd octants the position is
//! mirrored (`t -> 1 - t`, an exact XOR of the integer) so both polynomials are only ever
//! used on [0, pi/4].

#![forbid(unsafe_code)]

use super::{horner_f32, horner_f64};

/// sin(pi t / 4) / t as a polynomial in t^2, t in [0, 1] (binary32).
pub(crate) const SIN_F32: [f32; 4] = [
    std::f32::consts::FRAC_PI_4, // 0x1.921fb6p-1 (the fit's leading term is pi/4 itself)
    -0.080745436,                // -0x1.4abbbap-4
    0.0024900069,                // 0x1.465ec4p-9
    -3.595429e-05,               // -0x1.2d9b4p-15
];
/// cos(pi t / 4) as a polynomial in t^2 (binary32).
pub(crate) const COS_F32: [f32; 5] = [
    1.0,           // 0x1p+0
    -0.30842513,   // -0x1.3bd3ccp-2
    0.015854325,   // 0x1.03c1dcp-6
    -0.0003259386, // -0x1.55c57ap-12
    3.5297971e-06, // 0x1.d9c2e8p-19
];
/// sin(pi t / 4) / t as a polynomial in t^2 (binary64).
pub(crate) const SIN_F64: [f64; 7] = [
    std::f64::consts::FRAC_PI_4, // 0x1.921fb54442d18p-1 (the fit's leading term is pi/4 itself)
    -0.08074551218828054,        // -0x1.4abbce625be41p-4
    0.002490394570188844,        // 0x1.466bc677587f8p-9
    -3.657620415891387e-05,      // -0x1.32d2cce2e5b19p-15
    3.133616225433416e-07,       // 0x1.50782fda12d96p-22
    -1.7571500746983935e-09,     // -0x1.e30071afc3e59p-30
    6.877360573166326e-12,       // 0x1.e3f38399551bfp-38
];
/// cos(pi t / 4) as a polynomial in t^2 (binary64).
pub(crate) const COS_F64: [f64; 8] = [
    1.0,                     // 0x1p+0
    -0.30842513753404244,    // -0x1.3bd3cc9be45dep-2
    0.01585434424381542,     // 0x1.03c1f081b5aacp-6
    -0.00032599188692673765, // -0x1.55d3c7e3c90f8p-12
    3.590860446027952e-06,   // 0x1.e1f5068355e15p-19
    -2.4611364033652597e-08, // -0x1.a6d1ec7906c20p-26
    1.1500512028217341e-10,  // 0x1.f9cc41140bb60p-34
    -3.8581890073416675e-13, // -0x1.b264ba152378ap-42
];

/// 2^-24: `(2k + 1) * 2^-24` is exact in binary32 for k < 2^23.
const TWO_POW_M24_F32: f32 = 1.0 / 16_777_216.0;

/// (sin(pi t / 4), cos(pi t / 4)) for binary32 `t` in [0, 1].
#[inline(always)]
pub fn sin_cos_quarter_pi_f32(t: f32) -> (f32, f32) {
    let u = t * t;
    (t * horner_f32(&SIN_F32, u), horner_f32(&COS_F32, u))
}

/// (sin(pi t / 4), cos(pi t / 4)) for binary64 `t` in [0, 1].
#[inline(always)]
pub fn sin_cos_quarter_pi_f64(t: f64) -> (f64, f64) {
    let u = t * t;
    (t * horner_f64(&SIN_F64, u), horner_f64(&COS_F64, u))
}

/// Applies the octant `o` in 0..8 to (cos, sin) of the in-octant angle: returns the pair,
/// swapped where the octant asks, and whether to negate each. The caller flips the sign
/// bit of each negated value, so the whole step is exact.
#[inline(always)]
fn octant<T: Copy>(o: u64, c: T, s: T) -> (T, T, bool, bool) {
    // Octants 1, 2, 5, 6 swap cos and sin; 2..5 negate cos; 4..7 negate sin.
    let swap = (o + 1) & 2 != 0;
    let (c, s) = if swap { (s, c) } else { (c, s) };
    (c, s, (o + 2) & 4 != 0, o & 4 != 0)
}

/// (cos theta, sin theta) for theta = 2 pi (o + t) / 8 with `o = bits >> 29` and
/// `t = (k + 1/2) / 2^23`, `k = (bits >> 6) & (2^23 - 1)`: a uniform grid of 2^26 angles,
/// none on an axis. The low 6 bits are not used.
#[inline(always)]
pub fn cos_sin_octant_f32(bits: u32) -> (f32, f32) {
    let o = bits >> 29;
    let mirror = (o & 1).wrapping_neg() & 0x7F_FFFF;
    let k = ((bits >> 6) & 0x7F_FFFF) ^ mirror;
    // 2k + 1 < 2^24: the conversion and the scaling are exact.
    let t = ((2 * k + 1) as i32) as f32 * TWO_POW_M24_F32;
    let (s, c) = sin_cos_quarter_pi_f32(t);
    let (c, s, neg_c, neg_s) = octant(u64::from(o), c, s);
    (
        f32::from_bits(c.to_bits() ^ (u32::from(neg_c) << 31)),
        f32::from_bits(s.to_bits() ^ (u32::from(neg_s) << 31)),
    )
}

/// (cos theta, sin theta) for theta = 2 pi (o + t) / 8 with `o = bits >> 61` and
/// `t = (k + 1/2) / 2^51`, `k = (bits >> 10) & (2^51 - 1)`. The low 10 bits are not used.
#[inline(always)]
pub fn cos_sin_octant_f64(bits: u64) -> (f64, f64) {
    const K_MASK: u64 = (1 << 51) - 1;
    let o = bits >> 61;
    let mirror = (o & 1).wrapping_neg() & K_MASK;
    let k = ((bits >> 10) & K_MASK) ^ mirror;
    // 1 + (2k + 1) * 2^-52 from the bits, minus 1: exactly (2k + 1) * 2^-52, without an
    // integer-to-float conversion (which AVX2 lacks for 64-bit lanes).
    let t = f64::from_bits(0x3FF0_0000_0000_0000 | (2 * k + 1)) - 1.0;
    let (s, c) = sin_cos_quarter_pi_f64(t);
    let (c, s, neg_c, neg_s) = octant(o, c, s);
    (
        f64::from_bits(c.to_bits() ^ (u64::from(neg_c) << 63)),
        f64::from_bits(s.to_bits() ^ (u64::from(neg_s) << 63)),
    )
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm is the reference here, never an output
mod tests {
    use super::*;
    use crate::detmath::ulp::f32_err;
    use std::f64::consts::PI;

    #[test]
    fn constants_are_the_specified_bits() {
        let b: Vec<u32> = SIN_F32
            .iter()
            .chain(&COS_F32)
            .map(|c| c.to_bits())
            .collect();
        assert_eq!(
            b,
            [
                0x3F49_0FDB,
                0xBDA5_5DDD,
                0x3B23_2F62,
                0xB816_CDA0,
                0x3F80_0000,
                0xBE9D_E9E6,
                0x3C81_E0EE,
                0xB9AA_E2BD,
                0x366C_E174
            ]
        );
        let b: Vec<u64> = SIN_F64
            .iter()
            .chain(&COS_F64)
            .map(|c| c.to_bits())
            .collect();
        assert_eq!(
            b,
            [
                0x3FE9_21FB_5444_2D18,
                0xBFB4_ABBC_E625_BE41,
                0x3F64_66BC_6775_87F8,
                0xBF03_2D2C_CE2E_5B19,
                0x3E95_0782_FDA1_2D96,
                0xBE1E_3007_1AFC_3E59,
                0x3D9E_3F38_3995_51BF,
                0x3FF0_0000_0000_0000,
                0xBFD3_BD3C_C9BE_45DE,
                0x3F90_3C1F_081B_5AAC,
                0xBF35_5D3C_7E3C_90F8,
                0x3ECE_1F50_6835_5E15,
                0xBE5A_6D1E_C790_6C20,
                0x3DDF_9CC4_1140_BB60,
                0xBD5B_264B_A152_378A
            ]
        );
    }

    #[test]
    fn f32_kernel_exhaustive() {
        // Every t the octant mapping can produce: (2k + 1) 2^-24, k < 2^23.
        let (mut ws, mut wc) = (0f64, 0f64);
        for k in 0..(1u32 << 23) {
            let t = (2 * k + 1) as f32 * TWO_POW_M24_F32;
            let (s, c) = sin_cos_quarter_pi_f32(t);
            let x = PI / 4.0 * f64::from(t);
            ws = ws.max(f32_err(s, x.sin()));
            wc = wc.max(f32_err(c, x.cos()));
        }
        assert!(ws < 1.75 && wc < 1.25, "sin {ws} cos {wc} ulp");
    }

    #[test]
    fn octants_cover_the_circle() {
        // The angle of word `b` is 2 pi (b >> 6 + 1/2) / 2^26 for binary32.
        for &b in &[
            0u32,
            1 << 29,
            3 << 29,
            0x7FFF_FFFF,
            0x8000_0040,
            0xDEAD_BEEF,
            u32::MAX,
        ] {
            let theta = 2.0 * PI * (f64::from(b >> 6) + 0.5) / f64::from(1u32 << 26);
            let (c, s) = cos_sin_octant_f32(b);
            assert!(
                f32_err(c, theta.cos()) < 2.0,
                "b={b:#x} cos {c} vs {}",
                theta.cos()
            );
            assert!(
                f32_err(s, theta.sin()) < 2.0,
                "b={b:#x} sin {s} vs {}",
                theta.sin()
            );
        }
        let mut state = 0x1234_5678_9ABC_DEF1u64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // The angle in (-pi, pi], from the exact integer 2n + 1 over 2^55 turns, so that
            // the reference itself is rounded only once, relative to its size.
            let half_turns =
                (2 * i128::from(state >> 10) + 1) - if state >> 63 == 1 { 1 << 55 } else { 0 };
            let theta = 2.0 * PI * (half_turns as f64) / 2f64.powi(55);
            let (c, s) = cos_sin_octant_f64(state);
            let (wc, ws) = (theta.cos(), theta.sin());
            assert!(
                (c - wc).abs() < 6e-16 && (s - ws).abs() < 6e-16,
                "{state:#x}: {c} {s} vs {wc} {ws}"
            );
            assert!((c * c + s * s - 1.0).abs() < 1e-15);
        }
    }
}
