//! Natural logarithm in binary32 and binary64. Spec: docs/spec.md#ln.
//!
//! `x = 2^k * m` with `m` in [sqrt(2)/2, sqrt(2)), found by integer arithmetic on the bits
//! (no branch, no table); then with `f = m - 1` (exact) and `s = f / (2 + f)`,
//! `ln(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2))` where `R(z) = z P(z)` and `P`
//! is a fitted polynomial. Writing the leading terms as `f - f^2/2` keeps the rounding
//! error of `s` out of the large part of the result. Valid for positive normal `x`; the
//! distributions only pass values in [2^-65, 2].

#![forbid(unsafe_code)]

use super::{horner_f32, horner_f64};

/// Bits of the binary64 nearest to sqrt(2)/2: subtracting them centres the mantissa range.
pub(crate) const SQRT1_2_BITS_F64: u64 = 0x3FE6_A09E_667F_3BCD;
pub(crate) const MANTISSA_F64: u64 = (1 << 52) - 1;
/// ln(2) split so that `k * LN2_HI_F64` is exact for |k| < 2^21 (32 significant bits).
pub(crate) const LN2_HI_F64: f64 = 0.6931471803691238; // 0x1.62e42feep-1
pub(crate) const LN2_LO_F64: f64 = 1.9082149292705877e-10; // 0x1.a39ef35793c76p-33
/// P(z) ~ (2 atanh(s) - 2 s) / s^3 on z = s^2 in [0, 0.02947].
pub(crate) const LN_P_F64: [f64; 7] = [
    0.666666666666667,   // 0x1.5555555555558p-1
    0.3999999999989889,  // 0x1.9999999995273p-2
    0.28571428626253836, // 0x1.2492492dfd86cp-2
    0.22222211089379496, // 0x1.c71c62d5e53e0p-3
    0.1818289243253687,  // 0x1.7462b91b8df65p-3
    0.15331611722055008, // 0x1.39fdcceb4bb45p-3
    0.14617807153417325, // 0x1.2b5f68a50d903p-3
];

pub(crate) const SQRT1_2_BITS_F32: u32 = 0x3F35_04F3;
pub(crate) const MANTISSA_F32: u32 = (1 << 23) - 1;
/// ln(2) split so that `k * LN2_HI_F32` is exact for |k| < 2^12 (12 significant bits).
pub(crate) const LN2_HI_F32: f32 = 0.69311523; // 0x1.62ep-1
pub(crate) const LN2_LO_F32: f32 = 3.1946183e-5; // 0x1.0bfbe8p-15
/// P(z) for binary32, three terms.
pub(crate) const LN_P_F32: [f32; 3] = [
    0.66666687, // 0x1.55555cp-1
    0.3998876,  // 0x1.997c22p-2
    0.29580986, // 0x1.2ee8c8p-2
];

/// Natural logarithm of a positive normal binary64. Spec: docs/spec.md#ln.
#[inline(always)]
pub fn ln_f64(x: f64) -> f64 {
    let t = x.to_bits().wrapping_sub(SQRT1_2_BITS_F64);
    // Arithmetic shift: the exponent offset k may be negative. |k| < 2^11, so converting
    // through i32 is exact, the same value, and vectorises at AVX2 (which has no 64-bit
    // integer conversion).
    let k = f64::from(((t as i64) >> 52) as i32);
    let m = f64::from_bits((t & MANTISSA_F64) + SQRT1_2_BITS_F64);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * horner_f64(&LN_P_F64, z);
    k * LN2_HI_F64 - ((hfsq - (s * (hfsq + r) + k * LN2_LO_F64)) - f)
}

/// Natural logarithm of a positive normal binary32. Spec: docs/spec.md#ln.
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    let t = x.to_bits().wrapping_sub(SQRT1_2_BITS_F32);
    let k = ((t as i32) >> 23) as f32;
    let m = f32::from_bits((t & MANTISSA_F32) + SQRT1_2_BITS_F32);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * horner_f32(&LN_P_F32, z);
    k * LN2_HI_F32 - ((hfsq - (s * (hfsq + r) + k * LN2_LO_F32)) - f)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm is the reference here, never an output
mod tests {
    use super::*;
    use crate::detmath::ulp::f32_err;

    #[test]
    fn constants_are_the_specified_bits() {
        assert_eq!(LN2_HI_F64.to_bits(), 0x3FE6_2E42_FEE0_0000);
        assert_eq!(LN2_LO_F64.to_bits(), 0x3DEA_39EF_3579_3C76);
        assert_eq!(LN2_HI_F32.to_bits(), 0x3F31_7000);
        assert_eq!(LN2_LO_F32.to_bits(), 0x3805_FDF4);
        let bits: Vec<u64> = LN_P_F64.iter().map(|c| c.to_bits()).collect();
        assert_eq!(
            bits,
            [
                0x3FE5_5555_5555_5558,
                0x3FD9_9999_9999_5273,
                0x3FD2_4924_92DF_D86C,
                0x3FCC_71C6_2D5E_53E0,
                0x3FC7_462B_91B8_DF65,
                0x3FC3_9FDC_CEB4_BB45,
                0x3FC2_B5F6_8A50_D903
            ]
        );
        let bits: Vec<u32> = LN_P_F32.iter().map(|c| c.to_bits()).collect();
        assert_eq!(bits, [0x3F2A_AAAE, 0x3ECC_BE11, 0x3E97_7464]);
    }

    #[test]
    fn exact_points() {
        assert_eq!(ln_f64(1.0).to_bits(), 0);
        assert_eq!(ln_f32(1.0).to_bits(), 0);
        assert_eq!(ln_f64(2.0), LN2_HI_F64 - (-LN2_LO_F64));
    }

    #[test]
    fn f32_within_one_ulp_on_a_stride_of_all_normals() {
        // Every 97th positive normal binary32 (about 22 million values) against the f64
        // logarithm, which is far more accurate than one binary32 ulp. The exhaustive
        // sweep is benches/detmath_accuracy.py.
        let mut worst = 0f64;
        let mut bits = 0x0080_0000u32;
        while bits < 0x7F80_0000 {
            let x = f32::from_bits(bits);
            worst = worst.max(f32_err(ln_f32(x), f64::from(x).ln()));
            bits += 97;
        }
        assert!(worst < 1.0, "max ulp {worst}");
    }

    #[test]
    fn f64_close_to_libm() {
        // libm's log is within 1 ulp, so this bounds ours at its own error plus one; the
        // exact bound against mpmath is tests/test_detmath.py.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut worst = 0f64;
        for _ in 0..2_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // positive normals: exponent field 1..2046
            let bits = (state >> 1) % (0x7FE0_0000_0000_0000 - 0x0010_0000_0000_0000)
                + 0x0010_0000_0000_0000;
            let x = f64::from_bits(bits);
            let (got, want) = (ln_f64(x), x.ln());
            let ulp =
                (f64::from_bits(want.abs().to_bits() + 1) - want.abs()).max(f64::MIN_POSITIVE);
            worst = worst.max((got - want).abs() / ulp);
        }
        assert!(worst <= 1.0, "max distance to libm {worst} ulp");
    }
}
