//! Uniform floats in [0, 1) using the full mantissa. Both conversions are exact, so the
//! result does not depend on rounding mode or FMA. Spec: docs/spec.md#random-v1.

#![forbid(unsafe_code)]

use crate::distr::bits::join_u64;
use crate::fill::fill_elements;
use crate::stream::BlockFn;

pub const WORDS_F32: usize = 1;
pub const WORDS_F64: usize = 2;

const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;
const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// `(word >> 8) * 2^-24`: a multiple of 2^-24 in [0, 1 - 2^-24].
#[inline(always)]
pub fn uniform_f32(word: u32) -> f32 {
    (word >> 8) as f32 * TWO_POW_M24
}

/// `(u64 >> 11) * 2^-53`: a multiple of 2^-53 in [0, 1 - 2^-53].
#[inline(always)]
pub fn uniform_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * TWO_POW_M53
}

pub fn fill_f32<B: BlockFn>(src: &B, first_block: u64, out: &mut [f32]) {
    fill_elements(
        src,
        first_block,
        WORDS_F32,
        out,
        &|_, w: &[u32], o: &mut [f32]| {
            for (o, &w) in o.iter_mut().zip(w) {
                *o = uniform_f32(w);
            }
        },
    );
}

pub fn fill_f64<B: BlockFn>(src: &B, first_block: u64, out: &mut [f64]) {
    fill_elements(
        src,
        first_block,
        WORDS_F64,
        out,
        &|_, w: &[u32], o: &mut [f64]| {
            for (o, p) in o.iter_mut().zip(w.chunks_exact(2)) {
                *o = uniform_f64(join_u64(p[0], p[1]));
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes() {
        assert_eq!(uniform_f32(0), 0.0);
        assert_eq!(uniform_f32(u32::MAX), 1.0 - f32::EPSILON / 2.0);
        assert_eq!(uniform_f64(0), 0.0);
        assert_eq!(uniform_f64(u64::MAX), 1.0 - f64::EPSILON / 2.0);
        assert!(uniform_f32(u32::MAX) < 1.0 && uniform_f64(u64::MAX) < 1.0);
    }
}
