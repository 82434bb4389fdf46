//! Fisher-Yates shuffle driven by the word stream: step `s` (s = 0, 1, ..., n - 2) swaps
//! position `i = n - 1 - s` with `j`, element `s` of an `integers` draw of range `i + 1`
//! (two words per step, same unbiased mapping). Spec: docs/spec.md#permutation-v1.
//!
//! The swaps are inherently sequential; this is the one method that does not run in
//! parallel.

#![forbid(unsafe_code)]

use crate::distr::bits::join_u64;
use crate::distr::integers::{bounded, extension_u64, WORDS_INTEGER};
use crate::error::{Error, Result};
use crate::fill::BATCH_BLOCKS;
use crate::stream::{BlockCursor, BlockFn};

/// Blocks used to shuffle `n` items: two words for each of the `n - 1` steps.
pub fn blocks_for_permutation(n: u64) -> u64 {
    n.saturating_sub(1).div_ceil(2)
}

/// Calls `swap(i, j)` for each Fisher-Yates step over `n` items, `j <= i`.
fn fisher_yates<B: BlockFn>(
    src: &B,
    ext: &B,
    first_block: u64,
    n: usize,
    mut swap: impl FnMut(usize, usize),
) {
    if n <= 1 {
        return;
    }
    const STEPS_PER_BLOCK: usize = 4 / WORDS_INTEGER;
    let mut cursor = src.cursor(first_block);
    let mut buf = [[0u32; 4]; BATCH_BLOCKS];
    let mut block = first_block;
    let mut i = n - 1;
    while i > 0 {
        let steps = i.min(BATCH_BLOCKS * STEPS_PER_BLOCK);
        let blocks = steps.div_ceil(STEPS_PER_BLOCK);
        cursor.next_blocks(&mut buf[..blocks]);
        let words = buf.as_flattened();
        for k in 0..steps {
            // i + 1 <= n fits in u128; the result is below i + 1, so it fits back in usize.
            let x = join_u64(words[2 * k], words[2 * k + 1]);
            let j = bounded(i as u128 + 1, x, || extension_u64(ext, block, k)) as usize;
            swap(i, j);
            i -= 1;
        }
        block = block.wrapping_add(blocks as u64);
    }
}

/// Shuffles `data` in place.
pub fn shuffle<B: BlockFn, T>(src: &B, ext: &B, first_block: u64, data: &mut [T]) {
    fisher_yates(src, ext, first_block, data.len(), |i, j| data.swap(i, j));
}

/// Writes a random permutation of `0..out.len()` to `out`.
pub fn fill_permutation<B: BlockFn>(src: &B, ext: &B, first_block: u64, out: &mut [i64]) {
    for (k, o) in out.iter_mut().enumerate() {
        *o = k as i64;
    }
    shuffle(src, ext, first_block, out);
}

/// Shuffles the rows of a row-major buffer of `row_bytes`-byte rows in place.
pub fn shuffle_rows<B: BlockFn>(
    src: &B,
    ext: &B,
    first_block: u64,
    data: &mut [u8],
    row_bytes: usize,
) -> Result<()> {
    if row_bytes == 0 {
        return Ok(()); // rows of zero bytes: nothing can move
    }
    if !data.len().is_multiple_of(row_bytes) {
        return Err(Error::invalid(
            "x",
            format!(
                "buffer of {} bytes is not whole rows of {row_bytes}",
                data.len()
            ),
        ));
    }
    let rows = data.len() / row_bytes;
    fisher_yates(src, ext, first_block, rows, |i, j| {
        if i != j {
            let (head, tail) = data.split_at_mut(i * row_bytes);
            head[j * row_bytes..(j + 1) * row_bytes].swap_with_slice(&mut tail[..row_bytes]);
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{Key, Name};
    use crate::stream::PhiloxStream;

    #[test]
    fn is_a_permutation_and_rows_follow_it() {
        let key = Key::from_seed(&Name::Int(1));
        let (s, e) = (PhiloxStream::new(&key), PhiloxStream::new(&key.extension()));
        for n in [0usize, 1, 2, 3, 65, 1000] {
            let mut p = vec![0i64; n];
            fill_permutation(&s, &e, 5, &mut p);
            let mut sorted = p.clone();
            sorted.sort();
            assert_eq!(sorted, (0..n as i64).collect::<Vec<_>>());
            let mut rows: Vec<u8> = (0..n)
                .flat_map(|k| [(k % 251) as u8, (k / 251) as u8, 7])
                .collect();
            shuffle_rows(&s, &e, 5, &mut rows, 3).unwrap();
            for (r, &k) in rows.chunks(3).zip(&p) {
                assert_eq!(r, [(k % 251) as u8, (k / 251) as u8, 7]);
            }
        }
    }
}
