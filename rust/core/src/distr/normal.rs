//! Normal samples by the Box-Muller transform with the project's own logarithm and
//! cosine/sine. Spec: docs/spec.md#normal-v1.
//!
//! Elements come in pairs: elements `2j` and `2j + 1` are `r cos(theta)` and
//! `r sin(theta)` from the two uniforms of pair `j`, which always lie in one block (words
//! `2j, 2j + 1` for the binary32 family, block `j` for binary64). So element `i` depends
//! only on (key, position, i), the prefix property holds, and the last element of an odd
//! draw simply drops its partner. `r = sqrt(-2 ln u1)` with `u1` in (0, 1] built from all
//! 32 (or 64) bits, so the largest |z| is 6.76 (binary32) or 9.49 (binary64).

#![forbid(unsafe_code)]

use half::{bf16, f16};

use crate::detmath::{cos_sin_octant_f32, cos_sin_octant_f64, ln_f32, ln_f64};
use crate::distr::bits::join_u64;
use crate::distr::float::{FloatFormat, FloatSlice, FromF32};
use crate::error::{Error, Repr, Result};
use crate::fill::{fill_elements, WordMap};
use crate::stream::BlockFn;

const TWO_POW_M32_F32: f32 = 1.0 / 4_294_967_296.0;
const TWO_POW_M64_F64: f64 = 1.0 / 18_446_744_073_709_551_616.0;

/// The standard-normal pair of words `(a, b)` in binary32: `u1 = (f32(a) + 1/2) 2^-32`
/// (in (0, 1]), `r = sqrt(0 - 2 ln u1)`, `(cos, sin)` of the angle in `b`.
#[inline(always)]
pub fn box_muller_f32(a: u32, b: u32) -> (f32, f32) {
    let u1 = (a as f32 + 0.5) * TWO_POW_M32_F32;
    // 0 - 2L rather than -2L: exact, and +0 (not -0) when u1 = 1.
    let r = (0.0 - 2.0 * ln_f32(u1)).sqrt();
    let (c, s) = cos_sin_octant_f32(b);
    (r * c, r * s)
}

/// `x as f64`, rounded to nearest, without a 64-bit integer conversion (AVX2 has none; it
/// would run one element at a time). With `h` and `l` the high and low 32 bits of `x`, the
/// bit patterns `2^84 + h 2^32` and `2^52 + l` are exact, `(2^84 + h 2^32) - (2^84 + 2^52)`
/// is exact (a multiple of 2^32 below 2^64 in magnitude), and adding `2^52 + l` rounds the
/// exact sum `h 2^32 + l = x` once, to nearest: the conversion's value.
#[inline(always)]
pub fn u64_to_f64(x: u64) -> f64 {
    const TWO_POW_84: u64 = 0x4530_0000_0000_0000;
    const TWO_POW_52: u64 = 0x4330_0000_0000_0000;
    const TWO_POW_84_PLUS_52: u64 = 0x4530_0000_0010_0000;
    let hi = f64::from_bits(TWO_POW_84 | (x >> 32)) - f64::from_bits(TWO_POW_84_PLUS_52);
    hi + f64::from_bits(TWO_POW_52 | (x & 0xFFFF_FFFF))
}

/// The standard-normal pair of 64-bit values `(a, b)` in binary64.
#[inline(always)]
pub fn box_muller_f64(a: u64, b: u64) -> (f64, f64) {
    let u1 = (u64_to_f64(a) + 0.5) * TWO_POW_M64_F64;
    let r = (0.0 - 2.0 * ln_f64(u1)).sqrt();
    let (c, s) = cos_sin_octant_f64(b);
    (r * c, r * s)
}

/// The largest |z| of the mapping for `format`: `r` at the smallest `u1` (word A = 0), as
/// `|cos|, |sin| <= 1` (binary32 `r` for the binary32 family, exactly widened).
pub fn largest_z(format: FloatFormat) -> f64 {
    match format {
        FloatFormat::F64 => (0.0 - 2.0 * ln_f64(0.5 * TWO_POW_M64_F64)).sqrt(),
        _ => f64::from((0.0 - 2.0 * ln_f32(0.5 * TWO_POW_M32_F32)).sqrt()),
    }
}

/// `normal(loc, scale)`: `loc + scale * z` in binary64, then rounded to the output format.
/// `standard_normal` is `normal(0, 1)`.
#[derive(Debug, Clone, Copy)]
pub struct Normal {
    loc: f64,
    scale: f64,
}

impl Normal {
    /// `loc` finite, `scale` finite and >= 0 (0 gives `loc` exactly).
    pub fn new(loc: f64, scale: f64) -> Result<Self> {
        if !loc.is_finite() {
            return Err(Error::invalid(
                "loc",
                format!("expected a finite float, got {}", Repr(loc)),
            ));
        }
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(Error::invalid(
                "scale",
                format!("expected a finite float >= 0, got {}", Repr(scale)),
            ));
        }
        Ok(Normal { loc, scale })
    }

    /// Checks that every sample is finite in `format`: ValueError naming `loc` if `loc`
    /// itself is not, else `scale` if the sample at z = -R or z = R is not, where R is
    /// [`largest_z`]. Those two bound all others: each step from z to the output is
    /// monotonic.
    pub fn check_format(&self, format: FloatFormat) -> Result<()> {
        let Normal { loc, scale } = *self;
        if !format.holds_finite(loc) {
            return Err(Error::invalid(
                "loc",
                format!("{loc:?} is beyond the finite range of {}", format.name()),
            ));
        }
        let r = largest_z(format);
        if ![loc - scale * r, loc + scale * r]
            .into_iter()
            .all(|x| format.holds_finite(x))
        {
            return Err(Error::invalid(
                "scale",
                format!(
                    "samples loc + scale * z with |z| up to {r:.2} overflow {}, got loc={loc:?}, scale={scale:?}",
                    format.name()
                ),
            ));
        }
        Ok(())
    }

    /// Fills `out` from blocks `first_block..`; the draw uses
    /// `ceil(len * words_per_element / 4)` blocks.
    pub fn fill<B: BlockFn>(&self, src: &B, first_block: u64, out: FloatSlice<'_>) {
        match out {
            FloatSlice::F64(o) => self.fill_f64(src, first_block, o),
            FloatSlice::F32(o) => self.fill_f32_family(src, first_block, o),
            FloatSlice::F16(o) => self.fill_f32_family::<B, f16>(src, first_block, o),
            FloatSlice::Bf16(o) => self.fill_f32_family::<B, bf16>(src, first_block, o),
        }
    }

    fn fill_f64<B: BlockFn>(&self, src: &B, first_block: u64, out: &mut [f64]) {
        fill_elements(src, first_block, 2, out, &NormalF64Map(*self));
    }

    fn fill_f32_family<B: BlockFn, T: FromF32>(&self, src: &B, first_block: u64, out: &mut [T]) {
        fill_elements(src, first_block, 1, out, &NormalF32Map(*self));
    }
}

/// Pairs per inner step of the binary64 mapping: 64 elements, as for binary32.
const PAIRS_F64: usize = 32;

/// The binary64 mapping: pair `j` of a run is block `j` (words 4j..4j+3).
struct NormalF64Map(Normal);

impl NormalF64Map {
    /// The elements of [`PAIRS_F64`] blocks of words, in stream order.
    #[inline(always)]
    fn pairs(&self, w: &[u32; 4 * PAIRS_F64]) -> [f64; 2 * PAIRS_F64] {
        let Normal { loc, scale } = self.0;
        let mut a = [0u64; PAIRS_F64];
        let mut b = [0u64; PAIRS_F64];
        for j in 0..PAIRS_F64 {
            a[j] = join_u64(w[4 * j], w[4 * j + 1]);
            b[j] = join_u64(w[4 * j + 2], w[4 * j + 3]);
        }
        let mut zc = [0f64; PAIRS_F64];
        let mut zs = [0f64; PAIRS_F64];
        for j in 0..PAIRS_F64 {
            let (c, s) = box_muller_f64(a[j], b[j]);
            zc[j] = loc + scale * c;
            zs[j] = loc + scale * s;
        }
        let mut z = [0f64; 2 * PAIRS_F64];
        for j in 0..PAIRS_F64 {
            z[2 * j] = zc[j];
            z[2 * j + 1] = zs[j];
        }
        z
    }
}

impl WordMap<f64> for NormalF64Map {
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [f64]) {
        const N: usize = 2 * PAIRS_F64;
        let full = o.len() / N * N;
        let mut outs = o.chunks_exact_mut(N);
        for (o, w) in (&mut outs).zip(w.chunks_exact(2 * N)) {
            let w: &[u32; 2 * N] = w.try_into().expect("chunks of 2N words");
            o.copy_from_slice(&self.pairs(w));
        }
        // A short end: its blocks padded with zero words, whose elements are not stored.
        let o = outs.into_remainder();
        if !o.is_empty() {
            let rest = &w[2 * full..];
            let mut padded = [0u32; 2 * N];
            let k = rest.len().min(2 * N);
            padded[..k].copy_from_slice(&rest[..k]);
            o.copy_from_slice(&self.pairs(&padded)[..o.len()]);
        }
    }
}

/// Pairs per inner step of the binary32 mapping: 128 elements, whose staging arrays stay in
/// L1 and need no zeroing pass per run (measured best of 16, 64 and 128 pairs, and faster
/// than one step over a whole run). Not fused into the Philox kernel (`WordMap::FUSE`):
/// measured no faster at AVX2 or AVX-512, the Box-Muller arithmetic dominates.
const PAIRS_F32: usize = 64;

/// `loc + scale * z` in binary64, rounded to binary32: the binary32 family's output.
#[inline(always)]
fn scale_f32(z: f32, loc: f64, scale: f64) -> f32 {
    (loc + scale * f64::from(z)) as f32
}

/// [`scale_f32`] for `loc = +0`, `scale = 1`, in binary32: the same value. `f64::from(z)`
/// is exact, `1 * z` is exact, and `+0 + z` is exactly `z` for every finite `z` except
/// `z = -0`, which gives `+0`; the result is an f32 value, so the final rounding is exact.
/// `+0 + z` in binary32 has the same cases: `z`, and `+0` for `-0`.
#[inline(always)]
fn standard_f32(z: f32) -> f32 {
    z + 0.0
}

/// The binary32 mapping (then rounded to `T`): pair `j` of a run is words 2j, 2j+1.
struct NormalF32Map(Normal);

impl NormalF32Map {
    /// The elements of [`PAIRS_F32`] pairs of words, in stream order. Fixed sizes: the
    /// loops vectorise without remainder code.
    #[inline(always)]
    fn pairs(&self, w: &[u32; 2 * PAIRS_F32], standard: bool) -> [f32; 2 * PAIRS_F32] {
        let Normal { loc, scale } = self.0;
        let mut a = [0u32; PAIRS_F32];
        let mut b = [0u32; PAIRS_F32];
        for j in 0..PAIRS_F32 {
            a[j] = w[2 * j];
            b[j] = w[2 * j + 1];
        }
        let mut zc = [0f32; PAIRS_F32];
        let mut zs = [0f32; PAIRS_F32];
        for j in 0..PAIRS_F32 {
            (zc[j], zs[j]) = box_muller_f32(a[j], b[j]);
        }
        let mut z = [0f32; 2 * PAIRS_F32];
        for j in 0..PAIRS_F32 {
            z[2 * j] = zc[j];
            z[2 * j + 1] = zs[j];
        }
        // Element-wise after the interleave: straight vector code for either form.
        if standard {
            for z in z.iter_mut() {
                *z = standard_f32(*z);
            }
        } else {
            for z in z.iter_mut() {
                *z = scale_f32(*z, loc, scale);
            }
        }
        z
    }
}

impl<T: FromF32> WordMap<T> for NormalF32Map {
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [T]) {
        let Normal { loc, scale } = self.0;
        let standard = loc.to_bits() == 0 && scale == 1.0;
        const N: usize = 2 * PAIRS_F32;
        let full = o.len() / N * N;
        let mut outs = o.chunks_exact_mut(N);
        for (o, w) in (&mut outs).zip(w.chunks_exact(N)) {
            let w: &[u32; N] = w.try_into().expect("chunks of N words");
            T::store(o, &self.pairs(w, standard));
        }
        // A short end: its pairs padded with zero words, whose elements are not stored.
        let o = outs.into_remainder();
        if !o.is_empty() {
            let rest = &w[full..];
            let mut padded = [0u32; N];
            let k = rest.len().min(N);
            padded[..k].copy_from_slice(&rest[..k]);
            T::store(o, &self.pairs(&padded, standard)[..o.len()]);
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // libm only as a reference
mod tests {
    use super::*;

    #[test]
    fn extremes_of_the_radius() {
        // a = 0 is the smallest u1 = 2^-33: r = sqrt(66 ln 2).
        let (c, s) = box_muller_f32(0, 0);
        let r = (66.0 * std::f64::consts::LN_2).sqrt();
        assert!((f64::from(c.hypot(s)) - r).abs() < 1e-6);
        // u1 rounds to 1 for the top 128 words: r = +0, never NaN.
        let (c, s) = box_muller_f32(u32::MAX, 0x1234_5678);
        assert_eq!((c.abs(), s.abs()), (0.0, 0.0));
        let (c, s) = box_muller_f64(0, 0);
        assert!((c.hypot(s) - (130.0 * std::f64::consts::LN_2).sqrt()).abs() < 1e-14);
        let (c, s) = box_muller_f64(u64::MAX, 7);
        assert_eq!((c.abs(), s.abs()), (0.0, 0.0));
    }

    #[test]
    fn u64_to_f64_equals_the_conversion() {
        let mut seed = 3u64;
        let mut xs: Vec<u64> = (0..64).flat_map(|k| [1u64 << k, (1u64 << k) - 1]).collect();
        // Halfway cases above 2^53, both parities, and the top.
        for e in 53..64 {
            let half = 1u64 << (e - 53);
            xs.extend([(1u64 << e) + half, (1u64 << e) + 3 * half, (1 << e) | 1]);
        }
        xs.extend([
            u64::MAX,
            u64::MAX - 1024,
            u64::MAX - 1023,
            0x8000_0000_0000_0400,
        ]);
        xs.extend((0..1_000_000).map(|_| mix(&mut seed)));
        xs.extend((0..100_000).map(|_| mix(&mut seed) >> (mix(&mut seed) % 64)));
        for x in xs {
            assert_eq!(u64_to_f64(x).to_bits(), (x as f64).to_bits(), "{x:#x}");
        }
    }

    /// splitmix64, for test inputs only.
    fn mix(x: &mut u64) -> u64 {
        *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn standard_form_equals_the_binary64_formula_with_loc_0_scale_1() {
        // Random pairs, and pairs whose u1 rounds to 1 (word A in the top 128), where
        // r = +0 and the samples are +0 or -0 by the sign of cos or sin.
        let mut seed = 7u64;
        let mut words = Vec::new();
        for k in 0..20_000u32 {
            let r = mix(&mut seed);
            if k % 4 == 0 {
                words.extend([u32::MAX - (r as u32 & 0x7f), (r >> 32) as u32]);
            } else {
                words.extend([r as u32, (r >> 32) as u32]);
            }
        }
        let (mut plus, mut minus) = (0, 0);
        for len in [0usize, 1, 3, 4, 5, 127, 128, 129, 1023, 1024, 1025, 40_000] {
            let w = &words[..len.div_ceil(4) * 4];
            let mut got = vec![f32::NAN; len];
            NormalF32Map(Normal::new(0.0, 1.0).unwrap()).map(0, w, &mut got);
            for (i, &g) in got.iter().enumerate() {
                let (c, s) = box_muller_f32(w[i & !1], w[i | 1]);
                let z = if i % 2 == 0 { c } else { s };
                (plus, minus) = match z.to_bits() {
                    0 => (plus + 1, minus),
                    0x8000_0000 => (plus, minus + 1),
                    _ => (plus, minus),
                };
                let want = scale_f32(z, 0.0, 1.0);
                assert_eq!(g.to_bits(), want.to_bits(), "len={len} i={i} z={z:?}");
            }
        }
        assert!(plus > 100 && minus > 100, "+0: {plus}, -0: {minus}");
    }

    #[test]
    fn largest_z_bounds_every_sample() {
        // r is largest at A = 0, and |C|, |S| <= 1 over a sweep of angles.
        let (r32, r64) = (largest_z(FloatFormat::F32), largest_z(FloatFormat::F64));
        for k in 0..65_536u64 {
            let (c, s) = box_muller_f32(k as u32 & 0xff, (k as u32).wrapping_mul(65_537));
            assert!(f64::from(c.abs().max(s.abs())) <= r32);
            let (c, s) = box_muller_f64(k & 0xff, k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            assert!(c.abs().max(s.abs()) <= r64);
        }
        assert!((r64 - (130.0 * std::f64::consts::LN_2).sqrt()).abs() < 1e-14);
        assert!((r32 - (66.0 * std::f64::consts::LN_2).sqrt()).abs() < 1e-6);
        assert_eq!(largest_z(FloatFormat::F16), r32);
    }

    #[test]
    fn rejects_parameters_whose_samples_overflow() {
        let ok = |loc, scale, f| Normal::new(loc, scale).unwrap().check_format(f);
        assert!(ok(7e4, 1.0, FloatFormat::F16).is_err());
        assert!(ok(0.0, 1e4, FloatFormat::F16).is_err()); // 6.76e4 > 65504
        assert!(ok(0.0, 9e3, FloatFormat::F16).is_ok());
        assert!(ok(7e4, 1.0, FloatFormat::Bf16).is_ok());
        assert!(ok(1e308, 1e308, FloatFormat::F64).is_err());
        assert!(ok(0.0, 1e307, FloatFormat::F64).is_ok());
        assert!(ok(0.0, 1e38, FloatFormat::F32).is_err());
        assert!(ok(f64::MAX, 0.0, FloatFormat::F64).is_ok());
        assert!(ok(f64::MAX, 0.0, FloatFormat::F32).is_err());
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Normal::new(0.0, -1.0).is_err());
        assert!(Normal::new(f64::NAN, 1.0).is_err());
        assert!(Normal::new(0.0, f64::INFINITY).is_err());
        assert!(Normal::new(0.0, 0.0).is_ok());
    }
}
