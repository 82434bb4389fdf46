//! Bernoulli(p) as a bool mask written straight from the raw words: element `i` is
//! `word(i) < t` with `t = round_half_even(p * 2^32)`. Spec: docs/spec.md#bernoulli-v1.

#![forbid(unsafe_code)]

use crate::error::{Error, Repr, Result};
use crate::fill::{fill_elements, WordMap};
use crate::stream::BlockFn;

pub const WORDS_BERNOULLI: usize = 1;

/// The threshold `t` in [0, 2^32] for `p` in [0, 1]: `p * 2^32` is exact in f64, then it is
/// rounded to the nearest integer, ties to even.
pub fn threshold(p: f64) -> Result<u64> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            "p",
            format!("expected a probability in [0, 1], got {}", Repr(p)),
        ));
    }
    let scaled = p * 4_294_967_296.0;
    let floor = scaled as u64; // scaled is in [0, 2^32]: truncation is floor
    let frac = scaled - floor as f64; // exact: both are integers or dyadic below 2^32
    let t = if frac > 0.5 || (frac == 0.5 && floor % 2 == 1) {
        floor + 1
    } else {
        floor
    };
    Ok(t)
}

pub fn fill_bernoulli<B: BlockFn>(
    src: &B,
    first_block: u64,
    p: f64,
    out: &mut [bool],
) -> Result<()> {
    let t = threshold(p)?;
    fill_elements(
        src,
        first_block,
        WORDS_BERNOULLI,
        out,
        &BernoulliMap(Below::new(t)),
    );
    Ok(())
}

/// `word < t` for a threshold `t` in [0, 2^32], in 32-bit operations: `word <= t - 1`
/// when `t > 0`, never when `t = 0`. The same test as the 64-bit compare, which AVX2 has
/// only in a signed form that costs several instructions more per vector.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Below {
    last: u32,
    any: bool,
}

impl Below {
    pub(crate) fn new(t: u64) -> Below {
        debug_assert!(t <= 1 << 32);
        Below {
            last: t.saturating_sub(1) as u32,
            any: t > 0,
        }
    }

    #[inline(always)]
    pub(crate) fn test(self, word: u32) -> bool {
        (word <= self.last) & self.any
    }
}

/// Element `i` is `word(i) < t`.
struct BernoulliMap(Below);

impl WordMap<bool> for BernoulliMap {
    const FUSE: bool = true;
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [bool]) {
        for (o, &w) in o.iter_mut().zip(w) {
            *o = self.0.test(w);
        }
    }
}

/// Bernoulli with a probability per element: element `i` is `word(i) < threshold(probs[i])`.
/// Every probability is checked before anything is written.
pub fn fill_bernoulli_per_element<B: BlockFn>(
    src: &B,
    first_block: u64,
    probs: &[f64],
    out: &mut [bool],
) -> Result<()> {
    if probs.len() != out.len() {
        return Err(Error::invalid(
            "out",
            format!("has {} elements but p has {}", out.len(), probs.len()),
        ));
    }
    if let Some(bad) = probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(Error::invalid(
            "p",
            format!("expected probabilities in [0, 1], got {}", Repr(*bad)),
        ));
    }
    fill_elements(
        src,
        first_block,
        WORDS_BERNOULLI,
        out,
        &|block: u64, w: &[u32], o: &mut [bool]| {
            // A run starting at block `block` starts at element 4 * (block - first_block).
            let start = ((block - first_block) * 4) as usize;
            let ps = &probs[start..start + o.len()];
            for ((o, &w), &p) in o.iter_mut().zip(w).zip(ps) {
                // Checked above, so threshold cannot fail.
                *o = u64::from(w) < threshold(p).unwrap_or(0);
            }
        },
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // powi builds exact powers of two for the test inputs
mod tests {
    use super::*;

    #[test]
    fn below_is_the_64_bit_compare() {
        let ts = [
            0u64,
            1,
            2,
            3,
            1 << 31,
            (1 << 32) - 2,
            (1 << 32) - 1,
            1 << 32,
        ];
        for t in ts.into_iter().chain((0..1000).map(|k| k * 4_294_967 + 17)) {
            let b = Below::new(t);
            let t32 = t.min(u64::from(u32::MAX)) as u32;
            let words = [
                0,
                1,
                2,
                t32.wrapping_sub(1),
                t32,
                t32.wrapping_add(1),
                u32::MAX - 1,
                u32::MAX,
            ];
            for w in words {
                assert_eq!(b.test(w), u64::from(w) < t, "t={t} w={w}");
            }
        }
    }

    #[test]
    fn per_element_equals_scalar_draws() {
        use crate::key::{Key, Name};
        use crate::stream::PhiloxStream;
        let s = PhiloxStream::new(&Key::from_seed(&Name::Int(2)));
        let n = 1001;
        let mut scalar = vec![false; n];
        fill_bernoulli(&s, 3, 0.3, &mut scalar).unwrap();
        let mut per = vec![false; n];
        fill_bernoulli_per_element(&s, 3, &vec![0.3; n], &mut per).unwrap();
        assert_eq!(scalar, per);
        let probs: Vec<f64> = (0..n).map(|i| (i % 3) as f64 / 2.0).collect();
        fill_bernoulli_per_element(&s, 3, &probs, &mut per).unwrap();
        for (i, &v) in per.iter().enumerate() {
            match i % 3 {
                0 => assert!(!v),
                2 => assert!(v),
                _ => {}
            }
        }
        assert!(fill_bernoulli_per_element(&s, 3, &[0.5, f64::NAN], &mut per[..2]).is_err());
        assert!(fill_bernoulli_per_element(&s, 3, &[0.5], &mut per[..2]).is_err());
    }

    #[test]
    fn thresholds() {
        assert_eq!(threshold(0.0).unwrap(), 0);
        assert_eq!(threshold(1.0).unwrap(), 1 << 32);
        assert_eq!(threshold(0.5).unwrap(), 1 << 31);
        // 2^-33 is exactly half of one step: ties go to even (0); 3 * 2^-33 rounds to 2.
        assert_eq!(threshold(2f64.powi(-33)).unwrap(), 0);
        assert_eq!(threshold(3.0 * 2f64.powi(-33)).unwrap(), 2);
        assert!(threshold(f64::NAN).is_err());
        assert!(threshold(-0.1).is_err());
        assert!(threshold(1.0 + f64::EPSILON).is_err());
    }
}
