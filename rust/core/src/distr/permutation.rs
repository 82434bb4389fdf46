//! Fisher-Yates shuffle driven by the word stream: step `s` (s = 0, 1, ..., n - 2) swaps
//! position `i = n - 1 - s` with `j`, element `s` of an `integers` draw of range `i + 1`
//! (two words per step, same unbiased mapping). Spec: docs/spec.md#permutation-v1.
//!
//! The swaps are inherently sequential; this is the one method that does not run in
//! parallel.

#![forbid(unsafe_code)]

use std::ops::Range;

use crate::distr::bits::join_u64;
use crate::distr::integers::{bounded, extension_u64, WORDS_INTEGER};
use crate::error::{Error, Result};
use crate::fill::BATCH_BLOCKS;
use crate::stream::{BlockCursor, BlockFn};

/// Blocks used to shuffle `n` items: two words for each of the `n - 1` steps.
pub fn blocks_for_permutation(n: u64) -> u64 {
    n.saturating_sub(1).div_ceil(2)
}

/// Steps of a shuffle per piece of an interruptible shuffle (see [`step_pieces`]): a
/// fraction of a second of random-access swaps.
pub const PIECE_STEPS: usize = 1 << 20;

/// Splits the `n - 1` steps of a shuffle of `n` items into ranges of at most
/// [`PIECE_STEPS`] steps, each starting at a block boundary. Running them in order, with
/// pauses in between (to check for Ctrl-C), is one shuffle; between two pieces the data
/// holds its items in some order.
pub fn step_pieces(n: usize) -> impl Iterator<Item = Range<usize>> {
    let steps = n.saturating_sub(1);
    (0..steps.div_ceil(PIECE_STEPS)).map(move |k| k * PIECE_STEPS..steps.min((k + 1) * PIECE_STEPS))
}

/// Calls `swap(i, j)` for Fisher-Yates steps `steps` over `n` items, `j <= i`; the range
/// starts at a block boundary (an even step). Steps past the last (`n - 2`) are ignored.
fn fisher_yates<B: BlockFn>(
    src: &B,
    ext: &B,
    first_block: u64,
    n: usize,
    steps: Range<usize>,
    mut swap: impl FnMut(usize, usize),
) {
    const STEPS_PER_BLOCK: usize = 4 / WORDS_INTEGER;
    debug_assert!(steps.start.is_multiple_of(STEPS_PER_BLOCK));
    let steps = steps.start..steps.end.min(n.saturating_sub(1));
    let mut cursor = src.cursor(first_block.wrapping_add((steps.start / STEPS_PER_BLOCK) as u64));
    let mut buf = [[0u32; 4]; BATCH_BLOCKS];
    let mut block = first_block.wrapping_add((steps.start / STEPS_PER_BLOCK) as u64);
    let mut step = steps.start;
    while step < steps.end {
        let run = (steps.end - step).min(BATCH_BLOCKS * STEPS_PER_BLOCK);
        let blocks = run.div_ceil(STEPS_PER_BLOCK);
        cursor.next_blocks(&mut buf[..blocks]);
        let words = buf.as_flattened();
        for k in 0..run {
            let i = n - 1 - (step + k);
            // i + 1 <= n fits in u128; the result is below i + 1, so it fits back in usize.
            let x = join_u64(words[2 * k], words[2 * k + 1]);
            let j = bounded(i as u128 + 1, x, || extension_u64(ext, block, k)) as usize;
            swap(i, j);
        }
        step += run;
        block = block.wrapping_add(blocks as u64);
    }
}

/// Shuffles `data` in place.
pub fn shuffle<B: BlockFn, T>(src: &B, ext: &B, first_block: u64, data: &mut [T]) {
    for steps in step_pieces(data.len()) {
        shuffle_steps(src, ext, first_block, data, steps);
    }
}

/// Runs steps `steps` (one of [`step_pieces`]) of the shuffle of `data`.
pub fn shuffle_steps<B: BlockFn, T>(
    src: &B,
    ext: &B,
    first_block: u64,
    data: &mut [T],
    steps: Range<usize>,
) {
    fisher_yates(src, ext, first_block, data.len(), steps, |i, j| {
        data.swap(i, j)
    });
}

/// Writes `start, start + 1, ...` to `out`: the items a permutation shuffles, from item
/// `start` on.
pub fn fill_identity(out: &mut [i64], start: usize) {
    for (k, o) in out.iter_mut().enumerate() {
        *o = (start + k) as i64;
    }
}

/// Writes a random permutation of `0..out.len()` to `out`.
pub fn fill_permutation<B: BlockFn>(src: &B, ext: &B, first_block: u64, out: &mut [i64]) {
    fill_identity(out, 0);
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
    for steps in step_pieces(row_count(data, row_bytes)?) {
        shuffle_rows_steps(src, ext, first_block, data, row_bytes, steps)?;
    }
    Ok(())
}

/// The number of `row_bytes`-byte rows in `data`; rows of zero bytes count as none
/// (nothing can move).
pub fn row_count(data: &[u8], row_bytes: usize) -> Result<usize> {
    if row_bytes == 0 {
        return Ok(0);
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
    Ok(data.len() / row_bytes)
}

/// Runs steps `steps` (one of [`step_pieces`] of the row count) of [`shuffle_rows`].
pub fn shuffle_rows_steps<B: BlockFn>(
    src: &B,
    ext: &B,
    first_block: u64,
    data: &mut [u8],
    row_bytes: usize,
    steps: Range<usize>,
) -> Result<()> {
    let rows = row_count(data, row_bytes)?;
    if rows == 0 {
        return Ok(());
    }
    fisher_yates(src, ext, first_block, rows, steps, |i, j| {
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
    fn step_pieces_cover_the_shuffle() {
        for n in [
            0usize,
            1,
            2,
            PIECE_STEPS,
            PIECE_STEPS + 1,
            2 * PIECE_STEPS + 2,
        ] {
            let pieces: Vec<_> = step_pieces(n).collect();
            let mut next = 0;
            for p in &pieces {
                assert_eq!(p.start, next);
                assert!(p.start % 2 == 0 && p.end > p.start && p.end - p.start <= PIECE_STEPS);
                next = p.end;
            }
            assert_eq!(next, n.saturating_sub(1));
        }
        // Pieces of the first steps, then the rest, equal the whole shuffle.
        let key = Key::from_seed(&Name::Int(2));
        let (s, e) = (PhiloxStream::new(&key), PhiloxStream::new(&key.extension()));
        let n = 3 * BATCH_BLOCKS + 7;
        let mut whole = vec![0i64; n];
        fill_permutation(&s, &e, 9, &mut whole);
        let mut split = vec![0i64; n];
        fill_identity(&mut split, 0);
        for steps in [0..10, 10..2 * BATCH_BLOCKS + 4, 2 * BATCH_BLOCKS + 4..n - 1] {
            fisher_yates(&s, &e, 9, n, steps, |i, j| split.swap(i, j));
        }
        assert_eq!(split, whole);
    }

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
