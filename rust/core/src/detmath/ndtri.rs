//! The inverse of the standard normal CDF, per element. Spec: docs/spec.md#normal-quantile.
//!
//! Wichura's algorithm AS 241 (PPND16, Applied Statistics 37 (1988) 477-484): a rational
//! function of `q = p - 1/2` for |q| <= 0.425 and rational functions of
//! `r = sqrt(-ln p)` in the tails. Here the tail takes `ln p` itself rather than `p`, so
//! that the truncated normal can pass a probability far below the binary64 range, and the
//! branches are computed side by side and selected so that the loop vectorises.
//!
//! For the far tail (both bounds beyond 30 sigma on one side) the quantile is found by
//! Newton's method on the exact tail equation instead, see [`far_tail_offset`].

#![forbid(unsafe_code)]

use super::ndtr::mills_asymptotic_scaled;
use super::{horner_f64, ln_f64};

// AS 241 coefficients as published (Wichura 1988), lowest degree first. The decimals are
// kept as printed there, so they can be checked against the paper; each parses to the
// binary64 value listed in docs/spec.md#normal-quantile.
#[allow(clippy::excessive_precision)]
pub(crate) const A: [f64; 8] = [
    3.3871328727963666080e0,
    1.3314166789178437745e+2,
    1.9715909503065514427e+3,
    1.3731693765509461125e+4,
    4.5921953931549871457e+4,
    6.7265770927008700853e+4,
    3.3430575583588128105e+4,
    2.5090809287301226727e+3,
];
#[allow(clippy::excessive_precision)]
pub(crate) const B: [f64; 8] = [
    1.0,
    4.2313330701600911252e+1,
    6.8718700749205790830e+2,
    5.3941960214247511077e+3,
    2.1213794301586595867e+4,
    3.9307895800092710610e+4,
    2.8729085735721942674e+4,
    5.2264952788528545610e+3,
];
#[allow(clippy::excessive_precision)]
pub(crate) const C: [f64; 8] = [
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
];
#[allow(clippy::excessive_precision)]
pub(crate) const D: [f64; 8] = [
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
];
#[allow(clippy::excessive_precision)]
pub(crate) const E: [f64; 8] = [
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
];
#[allow(clippy::excessive_precision)]
pub(crate) const F: [f64; 8] = [
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
];

/// |q| at or below which the central approximation is used.
pub const CENTRAL_LIMIT: f64 = 0.425;
pub(crate) const CENTRAL_R0: f64 = 0.180625; // 0.425^2
/// r = sqrt(-ln p) at or below which the first tail approximation is used.
pub(crate) const TAIL_SPLIT: f64 = 5.0;
pub(crate) const TAIL_SHIFT_NEAR: f64 = 1.6;

/// Phi^-1(1/2 + q) for |q| <= 0.425.
#[inline(always)]
pub fn ndtri_central(q: f64) -> f64 {
    let (num, den) = ndtri_central_parts(q);
    num / den
}

/// Numerator and denominator of the tail approximation at `r = sqrt(-ln p)`:
/// `C(r - 1.6), D(r - 1.6)` for r <= 5, else `E(r - 5), F(r - 5)`. The coefficients are
/// selected per element before one Horner evaluation: the same operations on the same
/// values as evaluating the chosen branch alone, without computing the other.
#[inline(always)]
pub fn ndtri_tail_parts(r: f64) -> (f64, f64) {
    let near = r <= TAIL_SPLIT;
    let x = r - if near { TAIL_SHIFT_NEAR } else { TAIL_SPLIT };
    let pick = |a: f64, b: f64| if near { a } else { b };
    let mut num = pick(C[7], E[7]);
    let mut den = pick(D[7], F[7]);
    let mut i = 7;
    while i > 0 {
        i -= 1;
        num = num * x + pick(C[i], E[i]);
        den = den * x + pick(D[i], F[i]);
    }
    (num, den)
}

/// -Phi^-1(p) >= 0 from `log_p = ln p` for p <= 0.075 (the lower tail, as a magnitude).
#[inline(always)]
pub fn ndtri_tail_magnitude(log_p: f64) -> f64 {
    let (num, den) = ndtri_tail_parts((0.0 - log_p).sqrt());
    num / den
}

/// Numerator and denominator of the central approximation: `q A(r), B(r)` with
/// `r = 0.180625 - q^2`.
#[inline(always)]
pub fn ndtri_central_parts(q: f64) -> (f64, f64) {
    let r = CENTRAL_R0 - q * q;
    (q * horner_f64(&A, r), horner_f64(&B, r))
}

/// Phi^-1(p) for p in (0, 1), computed as AS 241 does (for tests and the accuracy sweep).
pub fn ndtri(p: f64) -> f64 {
    let q = p - 0.5;
    if q.abs() <= CENTRAL_LIMIT {
        return ndtri_central(q);
    }
    let m = if q < 0.0 {
        ndtri_tail_magnitude(ln_f64(p))
    } else {
        ndtri_tail_magnitude(ln_f64(1.0 - p))
    };
    if q < 0.0 {
        -m
    } else {
        m
    }
}

/// Newton steps of the far-tail solver (each roughly squares the relative error; two
/// already reach 2^-53 from the starting value, the third leaves margin).
pub const FAR_TAIL_STEPS: usize = 3;

/// The offset `d >= 0` with `Q(t1 + d) = Q(t1) * g_ratio`, where `g = -ln(g_ratio)` is
/// given, `Q` is the normal upper tail and `t1 >= 30`. `s1` is
/// [`mills_asymptotic_scaled`]`(1 / t1^2)`.
///
/// With `Q(t) = pdf(t) S(1/t^2) / t` (the asymptotic series, exact to 2e-21 here) the
/// equation is `h(d) = d (t1 + d/2) + ln((t / t1) (s1 / S(1/t^2))) = g` with `t = t1 + d`.
/// The start `2g / (t1 + sqrt(t1^2 + 2g))` solves the quadratic part exactly; each step is
/// `d -= (h(d) - g) / (t + 1/t)`.
#[inline(always)]
pub fn far_tail_offset(t1: f64, s1: f64, g: f64) -> f64 {
    let mut d = 2.0 * g / (t1 + (t1 * t1 + 2.0 * g).sqrt());
    for _ in 0..FAR_TAIL_STEPS {
        let t = t1 + d;
        let sw = mills_asymptotic_scaled(1.0 / (t * t));
        let h = d * (t1 + 0.5 * d) + ln_f64(t / t1 * (s1 / sw)) - g;
        d -= h / (t + 1.0 / t);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Phi^-1 at a few points (mpmath, 50 digits).
        assert_eq!(ndtri(0.5), 0.0);
        let cases = [
            (0.975, 1.9599639845400542),
            (0.025, -1.9599639845400542),
            (1e-10, -6.361340902404057),
            (1e-300, -37.0470962993612),
        ];
        for (p, want) in cases {
            let got = ndtri(p);
            assert!(
                ((got - want) / want).abs() < 2e-15,
                "ndtri({p}) = {got}, want {want}"
            );
        }
        // ln p = -700, beyond the binary64 range of p.
        assert!((ndtri_tail_magnitude(-700.0) - 37.29507963).abs() < 1e-8);
    }
}
