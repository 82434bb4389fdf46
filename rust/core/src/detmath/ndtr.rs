//! The standard normal CDF and its upper tail, for the per-draw constants of the truncated
//! normal. Spec: docs/spec.md#normal-cdf.
//!
//! These run once per draw, not per element, so they favour accuracy and a simple exact
//! definition over speed: a power series near 0, Laplace's continued fraction for the Mills
//! ratio beyond 0.5 (1600 terms below 1.5, 200 above, evaluated bottom-up), and an
//! asymptotic series for the far tail. `exp(-t^2 / 2)` is computed as `exp(-th^2 / 2) exp(-(t - th)(t + th) / 2)`
//! with `th` the leading 26 bits of `t`, so that `th^2` is exact and the rounding of `t^2`
//! does not grow with `t`.

#![forbid(unsafe_code)]

use super::{exp_f64, horner_f64};

/// 1 / sqrt(2 pi).
pub const INV_SQRT_2PI: f64 = 0.3989422804014327; // 0x1.9884533d43651p-2
/// `Phi(t) - 1/2` is `pdf * series` below this argument (no cancellation there).
pub const SERIES_LIMIT: f64 = 1.5;
/// The upper tail is `0.5 - pdf * series` below this argument, where the subtraction loses
/// under one bit; above it, `pdf` times the continued fraction.
pub const TAIL_SERIES_LIMIT: f64 = 0.5;
/// Terms of the power series (converges to below 2^-60 of the sum for t < 1.5).
pub const SERIES_TERMS: u32 = 30;
/// Depths of the continued fraction: below 2^-53 of the ratio from t = 0.5 with the deep
/// one, from t = 1.5 with the shallow one.
pub const CF_TERMS_NEAR: u32 = 1600;
pub const CF_TERMS_FAR: u32 = 200;
/// Coefficients (-1)^n (2n - 1)!! of the asymptotic series of t * Mills ratio in 1/t^2.
/// With ten terms it is within 2e-21 for t >= 30, where the far-tail sampler uses it.
pub const ASYMPTOTIC: [f64; 10] = [
    1.0,
    -1.0,
    3.0,
    -15.0,
    105.0,
    -945.0,
    10395.0,
    -135135.0,
    2027025.0,
    -34459425.0,
];

/// exp(-t^2 / 2) for t >= 0, with the split that keeps t^2 exact.
pub fn gauss(t: f64) -> f64 {
    let th = f64::from_bits(t.to_bits() & !((1u64 << 27) - 1));
    let d = (t - th) * (t + th);
    exp_f64(-0.5 * th * th) * exp_f64(-0.5 * d)
}

/// The standard normal density at `t >= 0`.
pub fn pdf(t: f64) -> f64 {
    gauss(t) * INV_SQRT_2PI
}

/// sum_{n < 30} t^(2n+1) / (2n+1)!!, so that Phi(t) - 1/2 = pdf(t) * series(t).
fn series(t: f64) -> f64 {
    let t2 = t * t;
    let mut term = t;
    let mut sum = t;
    for n in 1..SERIES_TERMS {
        term = term * t2 / f64::from(2 * n + 1);
        sum += term;
    }
    sum
}

/// The Mills ratio Q(t) / pdf(t) = 1/(t + 1/(t + 2/(t + 3/(t + ...)))), `depth` levels.
fn mills_cf(t: f64, depth: u32) -> f64 {
    let mut r = t;
    for n in (1..=depth).rev() {
        r = t + f64::from(n) / r;
    }
    1.0 / r
}

/// t * Mills ratio by its asymptotic series in w = 1/t^2 (accurate for t >= 30).
pub fn mills_asymptotic_scaled(w: f64) -> f64 {
    horner_f64(&ASYMPTOTIC, w)
}

/// Q(t) = Phi(-t) = P(Z > t) for t >= 0 (t may be +inf: 0).
pub fn upper_tail(t: f64) -> f64 {
    if t < TAIL_SERIES_LIMIT {
        0.5 - pdf(t) * series(t)
    } else if t < SERIES_LIMIT {
        pdf(t) * mills_cf(t, CF_TERMS_NEAR)
    } else if t == f64::INFINITY {
        0.0
    } else {
        pdf(t) * mills_cf(t, CF_TERMS_FAR)
    }
}

/// The normal CDF at one point `x`, in the three forms the truncated normal needs, all
/// from one evaluation of `Q(|x|)` (the continued fraction is the costly part of a draw's
/// setup).
#[derive(Debug, Clone, Copy)]
pub struct NormalCdfAt {
    x: f64,
    /// Q(|x|).
    q: f64,
}

impl NormalCdfAt {
    pub fn new(x: f64) -> Self {
        NormalCdfAt {
            x,
            q: upper_tail(x.abs()),
        }
    }

    /// Phi(x), with relative accuracy for x < 0.
    pub fn phi(&self) -> f64 {
        if self.x < 0.0 {
            self.q
        } else {
            1.0 - self.q
        }
    }

    /// Q(x) = Phi(-x) = 1 - Phi(x), with relative accuracy for x > 0.
    pub fn upper(&self) -> f64 {
        if self.x >= 0.0 {
            self.q
        } else {
            1.0 - self.q
        }
    }

    /// Phi(x) - 1/2, with relative accuracy near 0 (odd in x).
    pub fn minus_half(&self) -> f64 {
        let t = self.x.abs();
        let d = if t < SERIES_LIMIT {
            pdf(t) * series(t)
        } else {
            0.5 - self.q
        };
        if self.x < 0.0 {
            -d
        } else {
            d
        }
    }
}

/// Phi(x) - 1/2, with relative accuracy near 0 (odd in x).
pub fn ndtr_minus_half(x: f64) -> f64 {
    NormalCdfAt::new(x).minus_half()
}

/// Phi(x), with relative accuracy for x < 0.
pub fn ndtr(x: f64) -> f64 {
    NormalCdfAt::new(x).phi()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_the_specified_bits() {
        assert_eq!(INV_SQRT_2PI.to_bits(), 0x3FD9_8845_33D4_3651);
    }

    #[test]
    fn known_values() {
        // Phi(-1), Phi(-8), Phi(-30) and Phi(-37) to 17 digits (mpmath, 50 digits).
        let cases = [
            (1.0, 0.15865525393145705),
            (8.0, 6.220960574271784e-16),
            (30.0, 4.906713927148187e-198),
            (37.0, 5.725571222524577e-300),
        ];
        for (t, want) in cases {
            let got = upper_tail(t);
            assert!(
                ((got - want) / want).abs() < 2e-15,
                "Q({t}) = {got}, want {want}"
            );
        }
        assert_eq!(upper_tail(40.0), 0.0);
        assert_eq!(upper_tail(f64::INFINITY), 0.0);
        assert_eq!(ndtr_minus_half(0.0), 0.0);
        assert_eq!(ndtr(0.0), 0.5);
        assert!((ndtr_minus_half(1e-10) - 1e-10 * INV_SQRT_2PI).abs() < 1e-26);
    }

    #[test]
    fn series_and_fraction_agree_at_the_switches() {
        let t = TAIL_SERIES_LIMIT;
        let (a, b) = (
            0.5 - pdf(t) * series(t),
            pdf(t) * mills_cf(t, CF_TERMS_NEAR),
        );
        assert!(((a - b) / b).abs() < 1e-15, "{a} {b}");
        let t = SERIES_LIMIT;
        let (a, b) = (mills_cf(t, CF_TERMS_NEAR), mills_cf(t, CF_TERMS_FAR));
        assert!(((a - b) / b).abs() < 2e-16, "{a} {b}");
    }
}
