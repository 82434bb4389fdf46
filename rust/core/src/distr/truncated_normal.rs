//! The normal distribution truncated to [a, b] by inverting its CDF, one uniform per
//! element, no rejection. Spec: docs/spec.md#truncated-normal-v1.
//!
//! With `alpha = (a - loc) / scale`, `beta = (b - loc) / scale` (clamped to +-2^100), the
//! sample is `z = Phi^-1(Phi(alpha) + u (Phi(beta) - Phi(alpha)))`, computed so that neither
//! tail loses precision:
//! - `q = p - 1/2` comes from per-draw constants as `c0 + u w`; where |q| <= 0.425 the
//!   central AS 241 approximation applies;
//! - otherwise the side's own probability is formed multiplicatively and in logs,
//!   `ln p = ln Phi(beta) + ln(u + (1 - u) Phi(alpha)/Phi(beta))` below the median and
//!   `ln(1 - p) = ln Q(alpha) + ln((1 - u) + u Q(beta)/Q(alpha))` above it, so a lower
//!   bound of -8 sigma or an upper one of +8 sigma keeps full relative precision;
//! - when the whole interval lies beyond 30 sigma on one side, the tail equation is solved
//!   by Newton's method in the offset from the near bound (`detmath::ndtri::far_tail_offset`),
//!   within about half an ulp of the exact quantile however far out the interval is.
//!
//! Then `x = loc + scale * z`, clamped to [lo, hi], the smallest and largest values of the
//! output format inside [a, b], and rounded: samples never leave [a, b].

#![forbid(unsafe_code)]

use half::{bf16, f16};

use crate::detmath::ndtr::{mills_asymptotic_scaled, NormalCdfAt};
use crate::detmath::ndtri::{
    far_tail_offset, ndtri_central_parts, ndtri_tail_parts, CENTRAL_LIMIT,
};
use crate::detmath::{exp_f64, ln_f64};
use crate::distr::bits::join_u64;
use crate::distr::float::{FloatFormat, FloatSlice, FromF32};
use crate::error::{Error, Repr, Result};
use crate::fill::{fill_elements, WordMap, BATCH_BLOCKS};
use crate::stream::BlockFn;

/// Standardised bounds are clamped to +-2^100: beyond it every output rounds to the bound.
pub const BOUND_LIMIT: f64 = 1_267_650_600_228_229_401_496_703_205_376.0; // 2^100
/// An interval entirely beyond this many standard deviations uses the far-tail solver.
pub const FAR_TAIL: f64 = 30.0;

const TWO_POW_M32: f64 = 1.0 / 4_294_967_296.0;
const TWO_POW_M52: f64 = 1.0 / 4_503_599_627_370_496.0;

/// Per-draw constants of the general case.
#[derive(Debug, Clone, Copy, PartialEq)]
struct General {
    /// Phi(alpha) - 1/2.
    c0: f64,
    /// Phi(beta) - Phi(alpha).
    w: f64,
    /// ln Phi(beta) and Phi(alpha) / Phi(beta): the lower side.
    log_pb: f64,
    ratio_lower: f64,
    /// ln Q(alpha) and Q(beta) / Q(alpha): the upper side.
    log_qa: f64,
    ratio_upper: f64,
}

/// Per-draw constants of the far tail: `z = sign (t1 + d)` on [t1, t2], t1 >= 30.
#[derive(Debug, Clone, Copy, PartialEq)]
struct FarTail {
    sign: f64,
    t1: f64,
    /// The asymptotic series at 1/t1^2.
    s1: f64,
    /// Q(t2) / Q(t1).
    ratio: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    General(General),
    FarTail(FarTail),
}

/// `truncated_normal(loc, scale, a, b)` for one output format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruncatedNormal {
    loc: f64,
    scale: f64,
    lo: f64,
    hi: f64,
    format: FloatFormat,
    method: Method,
}

fn finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!("expected a finite float, got {}", Repr(v)),
        ))
    }
}

impl TruncatedNormal {
    /// All parameters finite, `scale > 0`, `a < b`, and some value of `format` in [a, b].
    pub fn new(loc: f64, scale: f64, a: f64, b: f64, format: FloatFormat) -> Result<Self> {
        finite("loc", loc)?;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::invalid(
                "scale",
                format!("expected a finite float > 0, got {}", Repr(scale)),
            ));
        }
        finite("a", a)?;
        finite("b", b)?;
        if a >= b {
            return Err(Error::invalid(
                "b",
                format!("expected a < b, got a={}, b={}", Repr(a), Repr(b)),
            ));
        }
        let (lo, hi) = (format.round_up(a), format.round_down(b));
        if lo > hi {
            return Err(Error::invalid(
                "b",
                format!(
                    "no {} value lies in [a, b] = [{}, {}]",
                    format.name(),
                    Repr(a),
                    Repr(b)
                ),
            ));
        }
        let clamp = |x: f64| x.clamp(-BOUND_LIMIT, BOUND_LIMIT);
        let alpha = clamp((a - loc) / scale);
        let beta = clamp((b - loc) / scale);
        let method = if alpha >= FAR_TAIL {
            Method::FarTail(FarTail::new(1.0, alpha, beta))
        } else if beta <= -FAR_TAIL {
            Method::FarTail(FarTail::new(-1.0, -beta, -alpha))
        } else {
            Method::General(General::new(alpha, beta))
        };
        Ok(TruncatedNormal {
            loc,
            scale,
            lo,
            hi,
            format,
            method,
        })
    }

    pub fn format(&self) -> FloatFormat {
        self.format
    }

    /// The per-draw values a device kernel takes: whether the far-tail method applies, and
    /// `(loc, scale, lo, hi)` followed by the method's constants (general: `c0, w, log_pb,
    /// ratio_lower, log_qa, ratio_upper`; far tail: `sign, t1, s1, ratio`, then zeros).
    pub fn kernel_constants(&self) -> (bool, [f64; 10]) {
        let head = [self.loc, self.scale, self.lo, self.hi];
        let (far, tail) = match self.method {
            Method::General(g) => (
                false,
                [g.c0, g.w, g.log_pb, g.ratio_lower, g.log_qa, g.ratio_upper],
            ),
            Method::FarTail(f) => (true, [f.sign, f.t1, f.s1, f.ratio, 0.0, 0.0]),
        };
        let mut all = [0.0; 10];
        all[..4].copy_from_slice(&head);
        all[4..].copy_from_slice(&tail);
        (far, all)
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
        match self.method {
            Method::General(g) => self.fill_with(src, first_block, out, g),
            Method::FarTail(f) => self.fill_with(src, first_block, out, f),
        }
        Ok(())
    }

    fn fill_with<B: BlockFn, S: Sampler>(
        &self,
        src: &B,
        first_block: u64,
        out: FloatSlice<'_>,
        sampler: S,
    ) {
        let map = TruncMap {
            sampler,
            loc: self.loc,
            scale: self.scale,
            lo: self.lo,
            hi: self.hi,
        };
        match out {
            FloatSlice::F64(o) => fill_elements(src, first_block, 2, o, &map),
            FloatSlice::F32(o) => fill_elements(src, first_block, 1, o, &map),
            FloatSlice::F16(o) => fill_elements::<B, f16, _>(src, first_block, 1, o, &map),
            FloatSlice::Bf16(o) => fill_elements::<B, bf16, _>(src, first_block, 1, o, &map),
        }
    }
}

/// Elements per run in binary64 (two words each) and in the binary32 family (one word).
const RUN_F64: usize = 2 * BATCH_BLOCKS;
const RUN_F32: usize = 4 * BATCH_BLOCKS;

/// The standard-normal quantile function of the interval.
trait Sampler: Copy + Sync {
    /// `z[i] = quantile(u[i])` for a whole run (`u.len() == z.len() <= RUN_F32`); each
    /// element depends on its own `u` only.
    fn quantiles(&self, u: &[f64], z: &mut [f64]);
}

/// The mapping of one draw: quantile, affine map, clamp, rounding.
struct TruncMap<S> {
    sampler: S,
    loc: f64,
    scale: f64,
    lo: f64,
    hi: f64,
}

impl<S: Sampler> TruncMap<S> {
    /// `loc + scale z`, clamped to [lo, hi]. Clamping before the rounding equals clamping
    /// after it: lo and hi are values of the output format and rounding is monotonic.
    #[inline(always)]
    fn value(&self, z: f64) -> f64 {
        let x = self.loc + self.scale * z;
        let x = if x < self.lo { self.lo } else { x };
        if x > self.hi {
            self.hi
        } else {
            x
        }
    }
}

impl<S: Sampler> WordMap<f64> for TruncMap<S> {
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [f64]) {
        let n = o.len();
        let mut u = [0.5f64; RUN_F64];
        for (u, p) in u.iter_mut().zip(w.chunks_exact(2)) {
            *u = uniform_open_f64(join_u64(p[0], p[1]));
        }
        let mut z = [0f64; RUN_F64];
        self.sampler.quantiles(&u[..n], &mut z[..n]);
        for (o, &z) in o.iter_mut().zip(&z) {
            *o = self.value(z);
        }
    }
}

impl<S: Sampler, T: FromF32> WordMap<T> for TruncMap<S> {
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [T]) {
        let n = o.len();
        let mut u = [0.5f64; RUN_F32];
        for (u, &w) in u.iter_mut().zip(w) {
            *u = uniform_open_f32_word(w);
        }
        let mut z = [0f64; RUN_F32];
        self.sampler.quantiles(&u[..n], &mut z[..n]);
        let mut x = [0f32; RUN_F32];
        for (x, &z) in x.iter_mut().zip(&z[..n]) {
            *x = self.value(z) as f32;
        }
        T::store(o, &x[..n]);
    }
}

/// `(f64(w) + 1/2) 2^-32`: in (0, 1), exact, symmetric (`1 - u` is exact too).
#[inline(always)]
pub fn uniform_open_f32_word(w: u32) -> f64 {
    (f64::from(w) + 0.5) * TWO_POW_M32
}

/// `(f64(x >> 12) + 1/2) 2^-52`: in (0, 1), exact, symmetric.
#[inline(always)]
pub fn uniform_open_f64(x: u64) -> f64 {
    ((x >> 12) as f64 + 0.5) * TWO_POW_M52
}

impl General {
    fn new(alpha: f64, beta: f64) -> Self {
        let (at_a, at_b) = (NormalCdfAt::new(alpha), NormalCdfAt::new(beta));
        let (pa, pb) = (at_a.phi(), at_b.phi());
        let (qa, qb) = (at_a.upper(), at_b.upper());
        // Phi(beta) - Phi(alpha) from the side where the two terms do not cancel.
        let w = if alpha >= 0.0 {
            qa - qb
        } else if beta <= 0.0 {
            pb - pa
        } else {
            at_b.minus_half() - at_a.minus_half()
        };
        General {
            c0: at_a.minus_half(),
            w,
            log_pb: ln_f64(pb),
            ratio_lower: pa / pb,
            log_qa: ln_f64(qa),
            ratio_upper: qb / qa,
        }
    }
}

impl General {
    /// The quantile of one element: [`Self::central`] or [`Self::tail`] by |q|.
    #[cfg(test)]
    fn quantile(&self, u: f64) -> f64 {
        if (self.c0 + u * self.w).abs() <= CENTRAL_LIMIT {
            self.central(u)
        } else {
            self.tail(u)
        }
    }

    /// Phi^-1(1/2 + q) for |q| <= 0.425.
    #[inline(always)]
    fn central(&self, u: f64) -> f64 {
        let (num, den) = ndtri_central_parts(self.c0 + u * self.w);
        num / den
    }

    /// The tail quantile for |q| > 0.425, from the side's own probability in logs.
    #[inline(always)]
    fn tail(&self, u: f64) -> f64 {
        let lower = self.c0 + u * self.w < 0.0;
        let v = if lower {
            u + (1.0 - u) * self.ratio_lower
        } else {
            (1.0 - u) + u * self.ratio_upper
        };
        let base = if lower { self.log_pb } else { self.log_qa };
        let (num, den) = ndtri_tail_parts((0.0 - (base + ln_f64(v))).sqrt());
        // -(C/D) = (-C)/D exactly.
        let num = if lower { -num } else { num };
        num / den
    }
}

impl Sampler for General {
    /// Every element is first given its central value; the elements whose |q| exceeds 0.425
    /// (about 15% for [-2, 2]) are then gathered into a dense array, mapped by `tail`, and
    /// written back. Only the work is split; each element's value is that of its branch.
    #[inline(always)]
    fn quantiles(&self, u: &[f64], z: &mut [f64]) {
        for (z, &u) in z.iter_mut().zip(u) {
            *z = self.central(u);
        }
        let mut index = [0u16; RUN_F32];
        let mut tails = 0;
        for (j, &u) in u.iter().enumerate() {
            index[tails] = j as u16;
            tails += usize::from((self.c0 + u * self.w).abs() > CENTRAL_LIMIT);
        }
        if tails == 0 {
            return;
        }
        // Whole vectors of 8 (padding 0.5 is a valid input whose result is dropped).
        let padded = tails.next_multiple_of(8);
        let mut ut = [0.5f64; RUN_F32];
        for (ut, &j) in ut.iter_mut().zip(&index[..tails]) {
            *ut = u[usize::from(j)];
        }
        let mut zt = [0f64; RUN_F32];
        for (zt, &ut) in zt[..padded].iter_mut().zip(&ut[..padded]) {
            *zt = self.tail(ut);
        }
        for (&j, &zt) in index[..tails].iter().zip(&zt) {
            z[usize::from(j)] = zt;
        }
    }
}

impl FarTail {
    /// The interval [t1, t2] (0 < 30 <= t1 < t2) of the upper tail, mirrored when `sign` < 0.
    fn new(sign: f64, t1: f64, t2: f64) -> Self {
        let s1 = mills_asymptotic_scaled(1.0 / (t1 * t1));
        let s2 = mills_asymptotic_scaled(1.0 / (t2 * t2));
        // ln Q(t2) - ln Q(t1), written as a difference so nothing large cancels.
        let log_ratio = -((t2 - t1) * (t2 + t1)) * 0.5 - ln_f64(t2 / t1 * (s1 / s2));
        FarTail {
            sign,
            t1,
            s1,
            ratio: exp_f64(log_ratio),
        }
    }
}

impl FarTail {
    #[inline(always)]
    fn sample(&self, u: f64) -> f64 {
        let g = 0.0 - ln_f64((1.0 - u) + u * self.ratio);
        self.sign * (self.t1 + far_tail_offset(self.t1, self.s1, g))
    }
}

impl Sampler for FarTail {
    #[inline(always)]
    fn quantiles(&self, u: &[f64], z: &mut [f64]) {
        for (z, &u) in z.iter_mut().zip(u) {
            *z = self.sample(u);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_choice_and_validation() {
        let t = TruncatedNormal::new(0.0, 1.0, -2.0, 2.0, FloatFormat::F64).unwrap();
        assert!(matches!(t.method, Method::General(_)));
        let t = TruncatedNormal::new(0.0, 1.0, 30.0, 31.0, FloatFormat::F64).unwrap();
        assert!(matches!(t.method, Method::FarTail(FarTail { sign, .. }) if sign == 1.0));
        let t = TruncatedNormal::new(1.0, 0.5, -1e300, -20.0, FloatFormat::F32).unwrap();
        assert!(
            matches!(t.method, Method::FarTail(FarTail { sign, t1, .. }) if sign == -1.0 && t1 == 42.0)
        );
        assert!(TruncatedNormal::new(0.0, 1.0, 2.0, 2.0, FloatFormat::F64).is_err());
        assert!(TruncatedNormal::new(0.0, 0.0, 1.0, 2.0, FloatFormat::F64).is_err());
        assert!(TruncatedNormal::new(0.0, 1.0, f64::NEG_INFINITY, 2.0, FloatFormat::F64).is_err());
        // No float16 lies in [1 + 2^-12, 1 + 2^-11]: rejected, naming b.
        let e = TruncatedNormal::new(
            0.0,
            1.0,
            1.0 + 1.0 / 4096.0,
            1.0 + 1.0 / 2048.0,
            FloatFormat::F16,
        );
        assert!(matches!(e, Err(Error::InvalidArgument { name: "b", .. })));
    }

    #[test]
    fn gathered_tails_equal_the_element_function() {
        for (a, b) in [
            (-2.0, 2.0),
            (-0.1, 0.1),
            (1.0, 9.0),
            (-40.0, -29.0),
            (8.0, 8.5),
            (-1e9, 3.0),
        ] {
            let t = TruncatedNormal::new(0.0, 1.0, a, b, FloatFormat::F64).unwrap();
            let Method::General(g) = t.method else {
                panic!("{a} {b}")
            };
            for n in [0usize, 1, 7, 8, 9, 100, 256] {
                let u: Vec<f64> = (0..n)
                    .map(|i| uniform_open_f64((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
                    .collect();
                let mut z = vec![0f64; n];
                g.quantiles(&u, &mut z);
                for (i, (&u, &z)) in u.iter().zip(&z).enumerate() {
                    assert_eq!(
                        z.to_bits(),
                        g.quantile(u).to_bits(),
                        "[{a}, {b}] n={n} i={i}"
                    );
                }
            }
        }
    }

    #[test]
    fn samples_stay_inside_and_hit_both_ends() {
        let t = TruncatedNormal::new(0.0, 1.0, -2.0, 2.0, FloatFormat::F64).unwrap();
        let Method::General(g) = t.method else {
            panic!()
        };
        assert!((g.quantile(uniform_open_f64(0)) + 2.0).abs() < 1e-12);
        assert!((g.quantile(uniform_open_f64(u64::MAX)) - 2.0).abs() < 1e-12);
        assert!(g.quantile(0.5).abs() < 1e-16);
        // a = 8 sigma: the smallest uniform maps to 8, the largest to b.
        let t = TruncatedNormal::new(0.0, 1.0, 8.0, 9.0, FloatFormat::F64).unwrap();
        let Method::General(g) = t.method else {
            panic!()
        };
        assert!((g.quantile(uniform_open_f64(0)) - 8.0).abs() < 1e-12);
        assert!((g.quantile(uniform_open_f64(u64::MAX)) - 9.0).abs() < 1e-3);
        let m = g.quantile(0.5);
        // median of N(0,1) on [8, 9]: 8 + ln(2)/8 to first order
        assert!((m - 8.0 - 0.0856).abs() < 0.002, "{m}");
    }
}
