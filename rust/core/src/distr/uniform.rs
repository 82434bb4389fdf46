//! Uniform floats in [0, 1) using the full mantissa. Both conversions are exact, so the
//! result does not depend on rounding mode or FMA. Spec: docs/spec.md#random-v1.
//! `UniformRange` scales them to [low, high]: docs/spec.md#uniform-v1.

#![forbid(unsafe_code)]

use half::{bf16, f16};

use crate::distr::bits::join_u64;
use crate::distr::float::{FloatFormat, FloatSlice, FromF32};
use crate::error::{Error, Repr, Result};
use crate::fill::{fill_elements, WordMap, BATCH_BLOCKS};
use crate::stream::BlockFn;

pub const WORDS_F32: usize = 1;
pub const WORDS_F64: usize = 2;

const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;

/// `(word >> 8) * 2^-24`: a multiple of 2^-24 in [0, 1 - 2^-24].
#[inline(always)]
pub fn uniform_f32(word: u32) -> f32 {
    (word >> 8) as f32 * TWO_POW_M24
}

/// `(u64 >> 11) * 2^-53`: a multiple of 2^-53 in [0, 1 - 2^-53].
///
/// Evaluated without a 64-bit integer conversion (AVX2 has none; it would run one element
/// at a time), each step exact, so the value is the same: with `hi` the high 32 bits and
/// `lo` the low 21 bits of `u64 >> 11`, the bit patterns `2^20 + hi * 2^-32` and
/// `2^-1 + lo * 2^-53` are written directly (the fields fit below those exponents' ulps),
/// then `(2^20 + hi * 2^-32) - (2^20 + 2^-1)` is exact (a multiple of 2^-32 in
/// [-2^-1, 2^-1)) and adding `2^-1 + lo * 2^-53` gives the exact sum
/// `hi * 2^-32 + lo * 2^-53`, a multiple of 2^-53 below 1.
#[inline(always)]
pub fn uniform_f64(bits: u64) -> f64 {
    const TWO_POW_20: u64 = 0x4130_0000_0000_0000;
    const HALF: u64 = 0x3FE0_0000_0000_0000;
    // 64-bit operations only: narrowing to u32 would make vector code deinterleave words.
    let hi = f64::from_bits(TWO_POW_20 | (bits >> 32));
    let lo = f64::from_bits(HALF | ((bits >> 11) & 0x1F_FFFF));
    (hi - (1_048_576.0 + 0.5)) + lo
}

/// The `random` binary32 mapping over a run of words: the one loop that both the staged
/// fill and the fused Philox kernel run.
pub struct UniformF32Map;

impl WordMap<f32> for UniformF32Map {
    const FUSE: bool = true;
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [f32]) {
        for (o, &w) in o.iter_mut().zip(w) {
            *o = uniform_f32(w);
        }
    }
}

/// The `random` binary64 mapping over a run of words, element `i` from words 2i, 2i+1.
pub struct UniformF64Map;

impl WordMap<f64> for UniformF64Map {
    const FUSE: bool = true;
    const PAIRS: bool = true;
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [f64]) {
        for (o, p) in o.iter_mut().zip(w.chunks_exact(2)) {
            *o = uniform_f64(join_u64(p[0], p[1]));
        }
    }
    #[inline(always)]
    fn map_pairs(&self, _block: u64, pairs: &[u64], o: &mut [f64]) {
        for (o, &bits) in o.iter_mut().zip(pairs) {
            *o = uniform_f64(bits);
        }
    }
}

pub fn fill_f32<B: BlockFn>(src: &B, first_block: u64, out: &mut [f32]) {
    fill_elements(src, first_block, WORDS_F32, out, &UniformF32Map);
}

pub fn fill_f64<B: BlockFn>(src: &B, first_block: u64, out: &mut [f64]) {
    fill_elements(src, first_block, WORDS_F64, out, &UniformF64Map);
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

    #[test]
    fn rejects_16_bit_bounds_that_round_to_inf() {
        let range = |low, high, f| UniformRange::new(low, high, f);
        assert!(range(1e5, 2e5, FloatFormat::F16).is_err());
        assert!(range(0.0, 65519.0, FloatFormat::F16).is_ok()); // rounds to 65504
        assert!(range(0.0, 65520.0, FloatFormat::F16).is_err()); // a tie, to even: inf
        assert!(range(-65520.0, 0.0, FloatFormat::F16).is_err());
        assert!(range(0.0, 1e5, FloatFormat::F32).is_ok());
        assert!(range(0.0, f64::from(f32::MAX), FloatFormat::Bf16).is_err());
        assert!(range(0.0, 3.38e38, FloatFormat::Bf16).is_ok());
    }

    #[test]
    fn f64_bit_pattern_evaluation_equals_the_u64_conversion() {
        let direct = |bits: u64| (bits >> 11) as f64 / 9_007_199_254_740_992.0;
        let mut x = 0u64;
        let mut edges = vec![
            0,
            1,
            0x7FF,
            0x800,
            0xFFFF_FFFF,
            1 << 32,
            u64::MAX,
            u64::MAX - 0x7FF,
        ];
        edges.extend((0..64).map(|k| 1u64 << k));
        edges.extend((0..64).map(|k| (1u64 << k) - 1));
        for i in 0..1_000_000u64 {
            // splitmix64 increments, with every bit pattern class near the edges above.
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            edges.push(z ^ (z >> 31) ^ i);
        }
        for bits in edges {
            assert_eq!(
                uniform_f64(bits).to_bits(),
                direct(bits).to_bits(),
                "{bits:#x}"
            );
        }
    }
}

/// `uniform(low, high)`: `low + (high - low) * U` in binary64 with `U` the `random` value
/// of the element (53 bits for binary64 output, 24 bits for the binary32 family, so
/// `uniform(0, 1)` equals `random`), clamped to the binary64 (float64 output) or binary32
/// (float32, float16, bfloat16 output) values inside [low, high] and rounded to the output
/// format. Spec: docs/spec.md#uniform-v1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniformRange {
    low: f64,
    span: f64,
    lo: f64,
    hi: f64,
    format: FloatFormat,
}

impl UniformRange {
    /// `low` and `high` finite, `low <= high`, `high - low` finite, and some value of
    /// `format` in [low, high].
    pub fn new(low: f64, high: f64, format: FloatFormat) -> Result<Self> {
        if !low.is_finite() {
            return Err(Error::invalid(
                "low",
                format!("expected a finite float, got {}", Repr(low)),
            ));
        }
        if !high.is_finite() {
            return Err(Error::invalid(
                "high",
                format!("expected a finite float, got {}", Repr(high)),
            ));
        }
        if low > high {
            return Err(Error::invalid(
                "high",
                format!(
                    "expected low <= high, got low={}, high={}",
                    Repr(low),
                    Repr(high)
                ),
            ));
        }
        let span = high - low;
        if !span.is_finite() {
            return Err(Error::invalid(
                "high",
                format!(
                    "high - low overflows: low={}, high={}",
                    Repr(low),
                    Repr(high)
                ),
            ));
        }
        // The 16-bit formats hold the binary32 sample rounded to nearest-even, so that a
        // float16/bfloat16 draw equals a float32 draw cast; the clamp is the binary32 one.
        let clamp_format = match format {
            FloatFormat::F16 | FloatFormat::Bf16 => FloatFormat::F32,
            f => f,
        };
        let (lo, hi) = (clamp_format.round_up(low), clamp_format.round_down(high));
        if lo > hi {
            return Err(Error::invalid(
                "high",
                format!(
                    "no {} value lies in [low, high] = [{}, {}]",
                    clamp_format.name(),
                    Repr(low),
                    Repr(high)
                ),
            ));
        }
        // A 16-bit sample is the binary32 one rounded, which can be infinite above the
        // format's largest value: reject such bounds rather than return inf.
        if !format.holds_finite(lo) {
            return Err(Error::invalid(
                "low",
                format!("{low:?} is beyond the finite range of {}", format.name()),
            ));
        }
        if !format.holds_finite(hi) {
            return Err(Error::invalid(
                "high",
                format!("{high:?} is beyond the finite range of {}", format.name()),
            ));
        }
        Ok(UniformRange {
            low,
            span,
            lo,
            hi,
            format,
        })
    }

    pub fn format(&self) -> FloatFormat {
        self.format
    }

    /// `(low, high - low, lo, hi)`: the per-draw values a device kernel takes.
    pub fn kernel_constants(&self) -> [f64; 4] {
        [self.low, self.span, self.lo, self.hi]
    }

    /// Fills `out` (of this draw's format) from blocks `first_block..`.
    pub fn fill<B: BlockFn>(&self, src: &B, first_block: u64, out: FloatSlice<'_>) -> Result<()> {
        if out.format() != self.format {
            return Err(Error::invalid(
                "out",
                format!(
                    "dtype {} does not match dtype={}",
                    out.format().name(),
                    self.format.name()
                ),
            ));
        }
        let UniformRange {
            low, span, lo, hi, ..
        } = *self;
        let value = move |u: f64| {
            let x = low + span * u;
            let x = if x < lo { lo } else { x };
            if x > hi {
                hi
            } else {
                x
            }
        };
        match out {
            FloatSlice::F64(o) => fill_elements(
                src,
                first_block,
                WORDS_F64,
                o,
                &|_, w: &[u32], o: &mut [f64]| {
                    for (o, p) in o.iter_mut().zip(w.chunks_exact(2)) {
                        *o = value(uniform_f64(join_u64(p[0], p[1])));
                    }
                },
            ),
            FloatSlice::F32(o) => fill_range_f32_family(src, first_block, o, &value),
            FloatSlice::F16(o) => fill_range_f32_family::<B, f16, _>(src, first_block, o, &value),
            FloatSlice::Bf16(o) => fill_range_f32_family::<B, bf16, _>(src, first_block, o, &value),
        }
        Ok(())
    }
}

fn fill_range_f32_family<B: BlockFn, T: FromF32, V: Fn(f64) -> f64 + Sync>(
    src: &B,
    first_block: u64,
    out: &mut [T],
    value: &V,
) {
    fill_elements(
        src,
        first_block,
        WORDS_F32,
        out,
        &|_, w: &[u32], o: &mut [T]| {
            let mut x = [0f32; 4 * BATCH_BLOCKS];
            for (x, &w) in x.iter_mut().zip(&w[..o.len()]) {
                *x = value(f64::from(uniform_f32(w))) as f32;
            }
            T::store(o, &x[..o.len()]);
        },
    );
}
