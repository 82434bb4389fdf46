//! Deterministic math: the elementary and special functions that the float distributions
//! need, built only from IEEE-754 operations whose results are exactly specified.
//!
//! Rules every function here follows (docs/spec.md#deterministic-math):
//! - only `+ - * /`, `sqrt`, exact conversions, comparisons and integer bit manipulation;
//!   no platform libm (`f64::ln`, `exp`, `sin`, ...), no fused multiply-add, no
//!   reassociation: each expression is written in the order the spec gives, and Rust never
//!   contracts `a * b + c` on its own;
//! - polynomials are evaluated by Horner's rule, highest coefficient first;
//! - per-element functions are branch-free (both sides computed, then selected) and
//!   `#[inline(always)]`, so that the fill loops that call them vectorise at every SIMD
//!   level with the same operations in the same order, hence the same bits.
//!
//! The coefficients were fitted by `scripts/fit_detmath.py`; each is written as a decimal
//! literal that parses to exactly the binary64 (or binary32) value in its hex comment.
//! Accuracy is measured against mpmath and f64 references in the tests of each file and
//! in `benches/detmath_accuracy.py`; the bounds are stated in docs/spec.md.

#![forbid(unsafe_code)]

pub mod exp;
pub mod ln;
pub mod ndtr;
pub mod ndtri;
pub mod sincos;

pub use exp::exp_f64;
pub use ln::{ln_f32, ln_f64};
pub use sincos::{cos_sin_octant_f32, cos_sin_octant_f64};

/// `c[0] + x * (c[1] + x * (... + x * c[N - 1]))`, evaluated from the highest coefficient.
#[inline(always)]
pub(crate) fn horner_f64<const N: usize>(c: &[f64; N], x: f64) -> f64 {
    let mut acc = c[N - 1];
    let mut i = N - 1;
    while i > 0 {
        i -= 1;
        acc = acc * x + c[i];
    }
    acc
}

/// [`horner_f64`] in binary32.
#[inline(always)]
pub(crate) fn horner_f32<const N: usize>(c: &[f32; N], x: f32) -> f32 {
    let mut acc = c[N - 1];
    let mut i = N - 1;
    while i > 0 {
        i -= 1;
        acc = acc * x + c[i];
    }
    acc
}

/// Test helpers: distance in units in the last place of the reference value.
#[cfg(test)]
pub(crate) mod ulp {
    /// |got - want| in ulps of `want` rounded to f32 (the reference is f64).
    pub fn f32_err(got: f32, want: f64) -> f64 {
        let w = want as f32;
        let spacing = next_up_f32(w.abs()) - w.abs();
        (f64::from(got) - want).abs() / f64::from(spacing)
    }

    fn next_up_f32(x: f32) -> f32 {
        f32::from_bits(x.to_bits() + 1)
    }
}
