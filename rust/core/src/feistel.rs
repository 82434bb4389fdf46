//! A keyed random-access permutation of `0..n` in O(1) memory: a balanced Feistel network
//! on the smallest even-width power-of-two domain `2^(2h) >= n`, with cycle walking to
//! stay inside `0..n`. Used by the epoch order of `ShuffleSampler`.
//! Spec: docs/spec.md#feistel-permutation-v1.
//!
//! The round function is MurmurHash3's 64-bit finalizer of `right ^ round_key`, so each
//! index costs a few multiplies instead of a Philox block; the permutation is a pure
//! function of (round keys, n), so any position of an epoch can be produced alone.

#![forbid(unsafe_code)]

use crate::error::{Error, Result};

/// Rounds of the Feistel network.
pub const FEISTEL_ROUNDS: usize = 6;

/// MurmurHash3 `fmix64`: a bijective 64-bit mixer.
#[inline(always)]
pub fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// A bijection of `0..n` chosen by `FEISTEL_ROUNDS` 64-bit round keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeistelPermutation {
    n: u64,
    half_bits: u32,
    keys: [u64; FEISTEL_ROUNDS],
}

impl FeistelPermutation {
    /// The permutation of `0..n` for these round keys. `n` may be 0 (an empty permutation).
    pub fn new(n: u64, keys: [u64; FEISTEL_ROUNDS]) -> Self {
        // Smallest h >= 1 with 4^h >= n; 4^32 = 2^64 covers every u64 n.
        let mut half_bits = 1u32;
        while half_bits < 32 && (1u128 << (2 * half_bits)) < u128::from(n) {
            half_bits += 1;
        }
        FeistelPermutation { n, half_bits, keys }
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// One pass of the network over the domain `0..4^h`.
    #[inline(always)]
    fn network(&self, x: u64) -> u64 {
        let h = self.half_bits;
        let mask = if h == 32 {
            u64::from(u32::MAX)
        } else {
            (1u64 << h) - 1
        };
        let (mut left, mut right) = ((x >> h) & mask, x & mask);
        for &k in &self.keys {
            let next = left ^ (fmix64(right ^ k) & mask);
            left = right;
            right = next;
        }
        (left << h) | right
    }

    /// The item at position `i` of the permutation (`i < n`); cycle walking re-applies the
    /// network until the value falls in `0..n`, which ends because the network is a
    /// bijection of a finite domain containing `0..n`.
    pub fn get(&self, i: u64) -> Result<u64> {
        if i >= self.n {
            return Err(Error::invalid(
                "index",
                format!("{i} is out of range for a permutation of {}", self.n),
            ));
        }
        Ok(self.get_unchecked_range(i))
    }

    #[inline(always)]
    fn get_unchecked_range(&self, i: u64) -> u64 {
        let mut x = self.network(i);
        while x >= self.n {
            x = self.network(x);
        }
        x
    }

    /// `out[k] = self.get((offset + (first + k) * stride) mod n)` — the positions of one
    /// replica's share of an epoch, wrapping past the end as DistributedSampler pads.
    pub fn fill_strided(
        &self,
        first: u64,
        stride: u64,
        offset: u64,
        out: &mut [i64],
    ) -> Result<()> {
        walk_strided(self.n, first, stride, offset, out, |pos| {
            self.get_unchecked_range(pos)
        })
    }
}

/// `out[k] = (offset + (first + k) * stride) mod n`: the same positions in the unshuffled
/// order (a sampler with `shuffle=False`).
pub fn fill_strided_identity(
    n: u64,
    first: u64,
    stride: u64,
    offset: u64,
    out: &mut [i64],
) -> Result<()> {
    walk_strided(n, first, stride, offset, out, |pos| pos)
}

fn walk_strided(
    n: u64,
    first: u64,
    stride: u64,
    offset: u64,
    out: &mut [i64],
    item: impl Fn(u64) -> u64,
) -> Result<()> {
    if n == 0 {
        return if out.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid("out", "permutation of 0 items"))
        };
    }
    let step = stride % n;
    let start = (u128::from(offset) + u128::from(first) * u128::from(stride)) % u128::from(n);
    let mut pos = start as u64;
    for o in out.iter_mut() {
        *o = item(pos) as i64;
        // pos, step < n, so one subtraction brings pos + step back below n.
        let (next, wrapped) = pos.overflowing_add(step);
        pos = if wrapped || next >= n {
            next.wrapping_sub(n)
        } else {
            next
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_bijection_for_small_n() {
        for n in [1u64, 2, 3, 4, 5, 15, 16, 17, 100, 1000, 4097] {
            let p = FeistelPermutation::new(n, [1, 2, 3, 4, 5, 6]);
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let v = p.get(i).unwrap();
                assert!(!seen[v as usize], "n={n} repeats {v}");
                seen[v as usize] = true;
            }
            assert!(p.get(n).is_err());
        }
    }

    #[test]
    fn keys_change_the_order() {
        let a = FeistelPermutation::new(1000, [1, 2, 3, 4, 5, 6]);
        let b = FeistelPermutation::new(1000, [7, 8, 9, 10, 11, 12]);
        let same = (0..1000)
            .filter(|&i| a.get(i).unwrap() == b.get(i).unwrap())
            .count();
        assert!(same < 20, "{same} fixed points in common");
    }

    #[test]
    fn huge_domains_work() {
        let p = FeistelPermutation::new(u64::MAX, [9; 6]);
        assert!(p.get(u64::MAX - 1).unwrap() < u64::MAX);
        let q = FeistelPermutation::new(1_000_000_000, [9; 6]);
        assert!(q.get(999_999_999).unwrap() < 1_000_000_000);
    }

    #[test]
    fn strided_positions_wrap_without_overflow() {
        let n = u64::MAX - 2;
        let p = FeistelPermutation::new(n, [3; 6]);
        let mut out = [0i64; 3];
        p.fill_strided(1, u64::MAX - 5, n - 4, &mut out).unwrap();
        let pos = |k: u128| {
            ((u128::from(n - 4) + (1 + k) * u128::from(u64::MAX - 5)) % u128::from(n)) as u64
        };
        for (k, &o) in out.iter().enumerate() {
            assert_eq!(o, p.get(pos(k as u128)).unwrap() as i64);
        }
    }

    #[test]
    fn strided_wraps_like_padding() {
        let p = FeistelPermutation::new(10, [5; 6]);
        let mut out = [0i64; 4];
        p.fill_strided(0, 3, 2, &mut out).unwrap(); // positions 2, 5, 8, 11 -> 1
        let want: Vec<i64> = [2u64, 5, 8, 1]
            .iter()
            .map(|&i| p.get(i).unwrap() as i64)
            .collect();
        assert_eq!(out.to_vec(), want);
    }
}
