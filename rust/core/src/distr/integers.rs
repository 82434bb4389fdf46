//! Bounded integers without modulo bias: `low + floor(range * X / 2^128)` for a 128-bit
//! random X, so each value's probability is off by less than range / 2^128 <= 2^-64.
//! One block per element keeps it element-local. Spec: docs/spec.md#integers-v1.

#![forbid(unsafe_code)]

use crate::error::{Error, Result};
use crate::fill::fill_elements;
use crate::stream::BlockFn;

pub const WORDS_INTEGER: usize = 4;

/// The largest range (`high - low`, endpoint excluded): every 64-bit value.
pub const MAX_RANGE: u128 = 1 << 64;

/// `floor(range * X / 2^128)` where X is the little-endian 128-bit value of `w[0..4]`;
/// `range` is in [1, 2^64].
#[inline(always)]
pub fn bounded(range: u128, w: &[u32]) -> u64 {
    let x_lo = u128::from(w[0]) | (u128::from(w[1]) << 32);
    let x_hi = u128::from(w[2]) | (u128::from(w[3]) << 32);
    // range <= 2^64 and x_* < 2^64, so each product and the sum stay below 2^128.
    let low_product = range * x_lo;
    let high = range * x_hi + (low_product >> 64);
    (high >> 64) as u64
}

/// A fixed-width integer that a bounded value can be written to.
pub trait IntElement: Copy + Send + Sync {
    /// Two's-complement truncation of a 64-bit value.
    fn from_u64_wrapping(v: u64) -> Self;
}

macro_rules! int_element {
    ($($t:ty),*) => {$(
        impl IntElement for $t {
            #[inline(always)]
            fn from_u64_wrapping(v: u64) -> Self { v as $t }
        }
    )*};
}
int_element!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Checks `range` (number of possible values) is in [1, 2^64].
pub fn check_range(range: u128) -> Result<()> {
    if range == 0 || range > MAX_RANGE {
        return Err(Error::invalid(
            "high",
            format!("range high - low must be in [1, 2**64], got {range}"),
        ));
    }
    Ok(())
}

/// Fills `out` with `low + bounded(range, block)`. The caller guarantees every value in
/// `[low, low + range)` fits `T`; the sum is computed mod 2^64 and truncated, which is exact
/// for such values.
pub fn fill_integers<B: BlockFn, T: IntElement>(
    src: &B,
    first_block: u64,
    low: i128,
    range: u128,
    out: &mut [T],
) -> Result<()> {
    check_range(range)?;
    let low = low as u64;
    fill_elements(
        src,
        first_block,
        WORDS_INTEGER,
        out,
        &|w: &[u32], o: &mut [T]| {
            for (o, x) in o.iter_mut().zip(w.chunks_exact(4)) {
                *o = T::from_u64_wrapping(low.wrapping_add(bounded(range, x)));
            }
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_extremes() {
        let max = [u32::MAX; 4];
        let zero = [0u32; 4];
        assert_eq!(bounded(1, &max), 0);
        assert_eq!(bounded(1000, &zero), 0);
        assert_eq!(bounded(1000, &max), 999);
        assert_eq!(bounded(MAX_RANGE, &max), u64::MAX);
        assert_eq!(bounded(MAX_RANGE, &[1, 2, 3, 4]), 3 | (4 << 32));
        // X = 2^127 is exactly half way.
        assert_eq!(bounded(10, &[0, 0, 0, 0x8000_0000]), 5);
    }

    #[test]
    fn rejects_bad_ranges() {
        assert!(check_range(0).is_err());
        assert!(check_range(MAX_RANGE + 1).is_err());
        assert!(check_range(MAX_RANGE).is_ok());
    }
}
