//! Dropout applied straight from the word stream: element `i` is dropped when
//! `word(i) < t`, `t = bernoulli::threshold(p)` (the mask is `bernoulli(p)`), and kept
//! elements are multiplied by `1 / (1 - p)`. The backward pass applies the same function to
//! the gradient, so the mask is regenerated instead of stored. Spec: docs/spec.md#dropout-v1.

#![forbid(unsafe_code)]

use half::{bf16, f16};

use crate::distr::bernoulli::{threshold, Below, WORDS_BERNOULLI};
use crate::error::{Error, Result};
use crate::fill::{fill_elements, WordMap};
use crate::stream::{BlockCursor, BlockFn};

pub const WORDS_DROPOUT: usize = WORDS_BERNOULLI;

/// A float type dropout can scale: the product is computed in `Self::Compute` and rounded
/// to nearest-even back to `Self`.
pub trait DropoutElement: Copy + Send + Sync {
    type Compute: Copy + Send + Sync;
    fn scale(p: f64) -> Self::Compute;
    fn scaled(self, scale: Self::Compute) -> Self;
    fn zero() -> Self;
}

/// `1 / (1 - p)` in binary64; 0 when every element is dropped.
fn scale_f64(p: f64) -> f64 {
    if p >= 1.0 {
        0.0
    } else {
        1.0 / (1.0 - p)
    }
}

macro_rules! dropout_native {
    ($($t:ty => $from_f64:expr),*) => {$(
        impl DropoutElement for $t {
            type Compute = $t;
            fn scale(p: f64) -> $t {
                $from_f64(scale_f64(p))
            }
            #[inline(always)]
            fn scaled(self, s: $t) -> $t {
                self * s
            }
            fn zero() -> $t {
                0.0
            }
        }
    )*};
}
dropout_native!(f64 => |s: f64| s, f32 => |s: f64| s as f32);

// 16-bit formats: widen to binary32, multiply, round to nearest-even back.
macro_rules! dropout_half {
    ($($t:ty),*) => {$(
        impl DropoutElement for $t {
            type Compute = f32;
            fn scale(p: f64) -> f32 {
                scale_f64(p) as f32
            }
            #[inline(always)]
            fn scaled(self, s: f32) -> $t {
                <$t>::from_f32(self.to_f32() * s)
            }
            fn zero() -> $t {
                <$t>::ZERO
            }
        }
    )*};
}
dropout_half!(f16, bf16);

/// `out[i] = if word(i) < t { 0 } else { input[i] * scale }`, for a draw at `first_block`.
pub fn fill_dropout<B: BlockFn, T: DropoutElement>(
    src: &B,
    first_block: u64,
    p: f64,
    input: &[T],
    out: &mut [T],
) -> Result<()> {
    let scale = T::scale(p);
    fill_masked(src, first_block, p, input, out, T::zero(), |x: T| {
        x.scaled(scale)
    })
}

/// A 16-bit float format, for buffers passed as raw `u16` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HalfFormat {
    F16,
    Bf16,
}

/// [`fill_dropout`] over raw 16-bit float bits.
pub fn fill_dropout_half_bits<B: BlockFn>(
    src: &B,
    first_block: u64,
    p: f64,
    format: HalfFormat,
    input: &[u16],
    out: &mut [u16],
) -> Result<()> {
    let scale = f32::scale(p);
    match format {
        HalfFormat::F16 => fill_masked(src, first_block, p, input, out, 0, |x: u16| {
            f16::from_bits(x).scaled(scale).to_bits()
        }),
        HalfFormat::Bf16 => fill_masked(src, first_block, p, input, out, 0, |x: u16| {
            bf16::from_bits(x).scaled(scale).to_bits()
        }),
    }
}

/// The dropout mask applied to `input`: `zero` where dropped, `keep(input[i])` elsewhere.
fn fill_masked<B: BlockFn, I: Copy + Sync, O: Copy + Send + Sync>(
    src: &B,
    first_block: u64,
    p: f64,
    input: &[I],
    out: &mut [O],
    zero: O,
    keep: impl Fn(I) -> O + Sync,
) -> Result<()> {
    let t = threshold(p)?;
    if input.len() != out.len() {
        return Err(Error::invalid(
            "out",
            format!(
                "has {} elements but the input has {}",
                out.len(),
                input.len()
            ),
        ));
    }
    let map = MaskMap {
        input,
        first_block,
        dropped: Below::new(t),
        zero,
        keep,
    };
    fill_elements(src, first_block, WORDS_DROPOUT, out, &map);
    Ok(())
}

/// Runs of at most this many blocks are drawn into a buffer on the stack.
const SHORT_RUN_BLOCKS: usize = 64;

/// Elements `[start, start + out.len())` of the dropout draw at `first_block` whose mask
/// is `dropped` (docs/spec.md#element-ranges): the block holding element `start` is
/// computed alone for the elements of it in the range, the rest is one fill from the next
/// block. `input` and `out` have the same length (checked by the callers).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_masked_range<B, I, O, K>(
    src: &B,
    first_block: u64,
    start: u64,
    dropped: Below,
    input: &[I],
    out: &mut [O],
    zero: O,
    keep: &K,
) where
    B: BlockFn,
    I: Copy + Sync,
    O: Copy + Send + Sync,
    K: Fn(I) -> O + Sync,
{
    debug_assert_eq!(input.len(), out.len());
    let per_block = (4 / WORDS_DROPOUT) as u64;
    let mut block = first_block.wrapping_add(start / per_block);
    let lead = (start % per_block) as usize;
    if lead + out.len() <= 4 * SHORT_RUN_BLOCKS {
        // A short run (a row segment of a sharded sample): its blocks straight from a
        // cursor, without the set-up of a fill, which would cost more than the run.
        let mut buf = [[0u32; 4]; SHORT_RUN_BLOCKS];
        let blocks = (lead + out.len()).div_ceil(4);
        src.cursor(block).next_blocks(&mut buf[..blocks]);
        let words = &buf.as_flattened()[lead..lead + out.len()];
        for ((o, &w), &x) in out.iter_mut().zip(words).zip(input) {
            *o = if dropped.test(w) { zero } else { keep(x) };
        }
        return;
    }
    let mut k = 0;
    if lead != 0 && !out.is_empty() {
        let w = src.block(block);
        k = out.len().min(4 - lead);
        for ((o, &w), &x) in out[..k].iter_mut().zip(&w[lead..]).zip(input) {
            *o = if dropped.test(w) { zero } else { keep(x) };
        }
        block = block.wrapping_add(1);
    }
    if k == out.len() {
        return;
    }
    let map = MaskMap {
        input: &input[k..],
        first_block: block,
        dropped,
        zero,
        keep,
    };
    fill_elements(src, block, WORDS_DROPOUT, &mut out[k..], &map);
}

/// Element `i` is `zero` where `word(i) < t` (`dropped`), else `keep(input[i])`.
struct MaskMap<'a, I, O, K> {
    input: &'a [I],
    first_block: u64,
    dropped: Below,
    zero: O,
    keep: K,
}

impl<I: Copy + Sync, O: Copy + Send + Sync, K: Fn(I) -> O + Sync> WordMap<O>
    for MaskMap<'_, I, O, K>
{
    const FUSE: bool = true;
    #[inline(always)]
    fn map(&self, block: u64, w: &[u32], o: &mut [O]) {
        // A run starting at block `block` starts at element 4 * (block - first_block): one
        // word per element. That offset picks the matching run of `input`.
        let start = ((block - self.first_block) * 4) as usize;
        let x = &self.input[start..start + o.len()];
        for ((o, &w), &x) in o.iter_mut().zip(w).zip(x) {
            *o = if self.dropped.test(w) {
                self.zero
            } else {
                (self.keep)(x)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distr::bernoulli::fill_bernoulli;
    use crate::key::{Key, Name};
    use crate::stream::PhiloxStream;

    #[test]
    fn mask_is_bernoulli_and_scale_is_exact() {
        let s = PhiloxStream::new(&Key::from_seed(&Name::Int(4)));
        let n = 1001;
        let x: Vec<f32> = (0..n).map(|i| i as f32 - 300.5).collect();
        let mut y = vec![0f32; n];
        fill_dropout(&s, 7, 0.25, &x, &mut y).unwrap();
        let mut drop = vec![false; n];
        fill_bernoulli(&s, 7, 0.25, &mut drop).unwrap();
        for i in 0..n {
            let want = if drop[i] {
                0.0
            } else {
                x[i] * (1.0f64 / 0.75) as f32
            };
            assert_eq!(y[i].to_bits(), want.to_bits(), "i={i}");
        }
        let mut all = vec![1f32; n];
        fill_dropout(&s, 7, 1.0, &x, &mut all).unwrap();
        assert!(all.iter().all(|&v| v == 0.0));
        let mut none = vec![0f32; n];
        fill_dropout(&s, 7, 0.0, &x, &mut none).unwrap();
        assert_eq!(none, x);
    }

    #[test]
    fn half_types_round_from_f32() {
        let s = PhiloxStream::new(&Key::from_seed(&Name::Int(4)));
        let x: Vec<bf16> = (0..100).map(|i| bf16::from_f32(i as f32 * 0.37)).collect();
        let mut y = vec![bf16::ZERO; 100];
        fill_dropout(&s, 0, 0.1, &x, &mut y).unwrap();
        let scale = (1.0f64 / 0.9) as f32;
        for (a, b) in x.iter().zip(&y) {
            assert!(*b == bf16::ZERO || *b == bf16::from_f32(a.to_f32() * scale));
        }
        assert!(fill_dropout(&s, 0, 0.1, &x, &mut y[..5]).is_err());
    }
}
