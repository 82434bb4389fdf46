//! Bernoulli(p) as a bool mask written straight from the raw words: element `i` is
//! `word(i) < t` with `t = round_half_even(p * 2^32)`. Spec: docs/spec.md#bernoulli-v1.

#![forbid(unsafe_code)]

use crate::error::{Error, Result};
use crate::fill::fill_elements;
use crate::stream::BlockFn;

pub const WORDS_BERNOULLI: usize = 1;

/// The threshold `t` in [0, 2^32] for `p` in [0, 1]: `p * 2^32` is exact in f64, then it is
/// rounded to the nearest integer, ties to even.
pub fn threshold(p: f64) -> Result<u64> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            "p",
            format!("expected a probability in [0, 1], got {p}"),
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
        &|_, w: &[u32], o: &mut [bool]| {
            for (o, &w) in o.iter_mut().zip(w) {
                *o = u64::from(w) < t;
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
