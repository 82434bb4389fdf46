//! Exponential in binary64. Spec: docs/spec.md#exp.
//!
//! Used only for per-draw constants (the normal CDF and the far-tail mass ratio), so it is
//! scalar code with ordinary branches. `x = k ln2 + r`, `|r| <= ln2 / 2`, with `k` rounded
//! to nearest by the 1.5 * 2^52 shifter (an exact IEEE idiom, no call to `round`);
//! `exp(r) = 1 + r + r c / (2 - c)` with `c = r - r^2 Q(r^2)`, the rational form whose
//! leading terms are exact; then the scale by 2^k is applied in two exact steps so that a
//! subnormal result is rounded once.

#![forbid(unsafe_code)]

use super::horner_f64;

const INV_LN2: f64 = std::f64::consts::LOG2_E; // 0x1.71547652b82fep+0
/// 1.5 * 2^52: adding and subtracting it rounds a value below 2^51 to an integer, ties to even.
const SHIFTER: f64 = 6755399441055744.0;
/// ln(2) split so that `k * LN2_HI` is exact for |k| < 2^21.
const LN2_HI: f64 = 0.6931471803691238; // 0x1.62e42feep-1
const LN2_LO: f64 = 1.9082149292705877e-10; // 0x1.a39ef35793c76p-33
/// Above this exp overflows; below `EXP_UNDERFLOW` it is below half the least subnormal.
const EXP_OVERFLOW: f64 = 709.782712893384; // 0x1.62e42fefa39efp+9
const EXP_UNDERFLOW: f64 = -745.1332191019412; // -0x1.74910d52d3052p+9
/// Q(z) ~ (r (e^r + 1) / (e^r - 1) - 2) / r^2 on z = r^2 in [0, (ln2/2)^2].
const EXP_Q: [f64; 5] = [
    0.1666666666666666,     // 0x1.5555555555553p-3
    -0.0027777777777564486, // -0x1.6c16c16c0abf9p-9
    6.613756471665357e-05,  // 0x1.1566ab5c1473dp-14
    -1.653406009991112e-06, // -0x1.bbd532227cf4dp-20
    4.143769423035882e-08,  // 0x1.63f27409701ecp-25
];

/// 2^j for j in [-1022, 1023], from the bits.
fn pow2(j: i64) -> f64 {
    f64::from_bits(((1023 + j) as u64) << 52)
}

/// e^x, correctly handling overflow (+inf), underflow (0 or subnormal) and NaN.
pub fn exp_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > EXP_OVERFLOW {
        return f64::INFINITY;
    }
    if x < EXP_UNDERFLOW {
        return 0.0;
    }
    let kf = (x * INV_LN2 + SHIFTER) - SHIFTER;
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * horner_f64(&EXP_Q, t);
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // kf is an integer in [-1075, 1024]; k1 = floor(k / 2), both factors are normal.
    let k = kf as i64;
    let k1 = k >> 1;
    y * pow2(k1) * pow2(k - k1)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm is the reference here, never an output
mod tests {
    use super::*;

    #[test]
    fn constants_are_the_specified_bits() {
        assert_eq!(INV_LN2.to_bits(), 0x3FF7_1547_652B_82FE);
        assert_eq!(EXP_OVERFLOW.to_bits(), 0x4086_2E42_FEFA_39EF);
        assert_eq!(EXP_UNDERFLOW.to_bits(), 0xC087_4910_D52D_3052);
        let bits: Vec<u64> = EXP_Q.iter().map(|c| c.to_bits()).collect();
        assert_eq!(
            bits,
            [
                0x3FC5_5555_5555_5553,
                0xBF66_C16C_16C0_ABF9,
                0x3F11_566A_B5C1_473D,
                0xBEBB_BD53_2227_CF4D,
                0x3E66_3F27_4097_01EC
            ]
        );
    }

    #[test]
    fn special_values() {
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(1000.0), f64::INFINITY);
        assert_eq!(exp_f64(-1000.0), 0.0);
        assert!(exp_f64(f64::NAN).is_nan());
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert!(exp_f64(-745.0) > 0.0); // subnormal, not flushed
    }

    #[test]
    fn close_to_libm_over_the_range() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut worst = 0f64;
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = -745.0 + 1454.0 * ((state >> 11) as f64 / 9007199254740992.0);
            let (got, want) = (exp_f64(x), x.exp());
            let ulp = f64::from_bits(want.to_bits() + 1) - want;
            worst = worst.max((got - want).abs() / ulp);
        }
        assert!(worst <= 1.0, "max distance to libm {worst} ulp");
    }
}
