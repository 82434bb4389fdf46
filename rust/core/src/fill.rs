//! Parallel fill driver. Output is split by element index into chunks of a fixed number of
//! blocks; each chunk opens its own cursor at its first block, so the bits cannot depend on
//! the thread count, the chunk size or the order in which chunks run.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rayon::ThreadPool;

use crate::error::{Error, Result};
use crate::simd::simd_level;
#[cfg(target_arch = "x86_64")]
use crate::simd::SimdLevel;
use crate::stream::{BlockCursor, BlockFn};

/// Blocks produced per inner step: 4 KiB of words, which stay in L1 with the output run;
/// fewer, longer steps amortise the per-step dispatch (measured best of 64, 256 and 512).
pub const BATCH_BLOCKS: usize = 256;

/// The most threads `set_num_threads` accepts.
pub const MAX_THREADS: usize = 1024;

static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);
static CHUNK_BLOCKS: AtomicU64 = AtomicU64::new(1 << 14);
static POOL: Mutex<Option<Pool>> = Mutex::new(None);

/// The fill thread pool and the process that built it. A child made by `fork()` inherits
/// the record but not the threads: a pool from another pid is never used (it would wait
/// forever for its workers) and is leaked rather than dropped (dropping signals threads
/// that do not exist in this process).
struct Pool {
    pid: u32,
    threads: usize,
    pool: Arc<ThreadPool>,
}

/// Threads used for large fills: the value set by [`set_num_threads`], else the number of
/// CPUs available to this process (detected once: on Linux the query reads cgroup files
/// and costs tens of microseconds, more than a small draw itself).
pub fn num_threads() -> usize {
    static DETECTED: OnceLock<usize> = OnceLock::new();
    match NUM_THREADS.load(Ordering::Relaxed) {
        0 => *DETECTED.get_or_init(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
        n => n,
    }
}

/// Sets the number of threads for large fills. Output does not depend on it.
pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 || n > MAX_THREADS {
        return Err(Error::invalid(
            "n",
            format!("expected 1 to {MAX_THREADS} threads, got {n}"),
        ));
    }
    NUM_THREADS.store(n, Ordering::Relaxed);
    Ok(())
}

/// Sets the chunk size of parallel fills in blocks (for tests and tuning). Output does not
/// depend on it.
pub fn set_chunk_blocks(blocks: u64) -> Result<()> {
    if blocks == 0 {
        return Err(Error::invalid(
            "blocks",
            "expected a positive chunk size, got 0",
        ));
    }
    CHUNK_BLOCKS.store(blocks, Ordering::Relaxed);
    Ok(())
}

pub fn chunk_blocks() -> u64 {
    CHUNK_BLOCKS.load(Ordering::Relaxed)
}

fn pool(threads: usize) -> Option<Arc<ThreadPool>> {
    let pid = std::process::id();
    {
        let mut guard = POOL.lock().unwrap_or_else(|e| e.into_inner());
        match guard.take() {
            Some(p) if p.pid == pid && p.threads == threads => {
                let pool = Arc::clone(&p.pool);
                *guard = Some(p);
                return Some(pool);
            }
            Some(p) if p.pid != pid => std::mem::forget(p),
            _ => {}
        }
    }
    // Built outside the lock, so that a fork() from another thread never finds it held
    // for the time it takes to start threads. A pool that cannot be built (no threads
    // left) degrades to a serial fill, same bits.
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()?,
    );
    let mut guard = POOL.lock().unwrap_or_else(|e| e.into_inner());
    *guard = Some(Pool {
        pid,
        threads,
        pool: Arc::clone(&pool),
    });
    Some(pool)
}

/// Runs `f(i, chunk)` on each chunk `i` of `out.chunks_mut(chunk)` (`chunk > 0`): on the
/// fill pool when `parallel` and more than one thread is set, else in order on this thread.
/// For work whose chunks are pure functions of their index, so the result is the same.
pub fn for_each_chunk<T: Send>(
    out: &mut [T],
    chunk: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    debug_assert!(chunk > 0);
    let threads = num_threads();
    if parallel && threads > 1 && out.len() > chunk {
        if let Some(pool) = pool(threads) {
            pool.install(|| {
                out.par_chunks_mut(chunk)
                    .enumerate()
                    .for_each(|(i, c)| f(i, c))
            });
            return;
        }
    }
    for (i, c) in out.chunks_mut(chunk).enumerate() {
        f(i, c);
    }
}

/// Blocks used by `elements` elements of `words_per_element` words each: ceil(e * w / 4).
pub fn blocks_for(elements: u64, words_per_element: u64) -> Option<u64> {
    let words = u128::from(elements) * u128::from(words_per_element);
    u64::try_from(words.div_ceil(4)).ok()
}

/// The position after a draw of `blocks` blocks at `position`; an error if it would pass
/// 2^64 - 1 (positions never wrap, so no block is ever used twice).
pub fn reserve(position: u64, blocks: u64) -> Result<u64> {
    position.checked_add(blocks).ok_or_else(|| {
        Error::invalid(
            "size",
            format!(
                "a draw of {blocks} blocks at position {position} would pass position 2**64 - 1"
            ),
        )
    })
}

/// Blocks per piece of an interruptible draw: small enough that a piece takes well under
/// a second on one core, large enough that the pauses between pieces cost nothing.
pub const PIECE_BLOCKS: u64 = 1 << 20;

/// Splits a draw of `len` elements of `words_per_element` words (1, 2 or 4) from
/// `first_block` into pieces of whole blocks: `(first block, element range)` in order.
/// Element `i` depends only on its block and index, so filling the pieces one by one, with
/// pauses in between (to check for Ctrl-C), gives the bits of one fill.
pub fn pieces(
    first_block: u64,
    len: usize,
    words_per_element: usize,
) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> {
    debug_assert!(matches!(words_per_element, 1 | 2 | 4));
    let step = PIECE_BLOCKS as usize * (4 / words_per_element);
    (0..len.div_ceil(step)).map(move |k| {
        let start = k * step;
        let block = first_block.wrapping_add((k as u64).wrapping_mul(PIECE_BLOCKS));
        (block, start..len.min(start + step))
    })
}

/// Whether [`run_pieces`] can place a run whose first element is element `element` of the
/// draw and goes to place `out_element`, with elements of `words_per_element` words: the
/// elements of its block before it (`element mod (4 / words_per_element)`) need as many
/// places before its own.
pub fn run_fits(element: u64, out_element: u64, words_per_element: usize) -> bool {
    debug_assert!(matches!(words_per_element, 1 | 2 | 4));
    out_element >= element % (4 / words_per_element) as u64
}

/// The pieces `(first block, element range of the output)` that fill runs of elements of a
/// draw at `position` (docs/spec.md#element-ranges). `runs` holds rows `(first element in
/// the draw, first element in the output, elements)`, by increasing output place. A run
/// whose first element is not the first of its block is filled from that block's first
/// element, `lead` places before its own place: those places belong to earlier runs, so
/// the pieces go from the last run to the first and each earlier run overwrites what a
/// later one left there. A run with fewer than `lead` places before it is refused.
pub fn run_pieces(
    position: u64,
    out_len: usize,
    words_per_element: usize,
    runs: &[u64],
) -> Result<Vec<(u64, std::ops::Range<usize>)>> {
    debug_assert!(matches!(words_per_element, 1 | 2 | 4));
    if !runs.len().is_multiple_of(3) {
        return Err(Error::invalid(
            "runs",
            "expected rows of (start, offset, length)",
        ));
    }
    let per_block = (4 / words_per_element) as u64;
    let mut out = Vec::new();
    for row in runs.chunks_exact(3).rev() {
        let (element, out_element, elements) = (row[0], row[1], row[2]);
        let bad = || Error::invalid("runs", format!("run {row:?} does not fit out"));
        if !run_fits(element, out_element, words_per_element) {
            return Err(bad());
        }
        let lo = out_element - element % per_block;
        let hi = out_element
            .checked_add(elements)
            .filter(|&h| h <= out_len as u64)
            .ok_or_else(bad)?;
        let block = position
            .checked_add(element / per_block)
            .filter(|&b| {
                blocks_for(hi - lo, words_per_element as u64)
                    .and_then(|k| b.checked_add(k))
                    .is_some()
            })
            .ok_or_else(|| Error::invalid("runs", "passes position 2**64 - 1"))?;
        if elements == 0 {
            continue;
        }
        let (lo, hi) = (lo as usize, hi as usize);
        out.extend(
            pieces(block, hi - lo, words_per_element).map(|(b, r)| (b, r.start + lo..r.end + lo)),
        );
    }
    Ok(out)
}

/// Turns a run of words into the matching run of elements; see [`fill_elements`].
///
/// Every closure `Fn(u64, &[u32], &mut [T])` is one. Heavy mappings implement it on a type
/// whose `map` is `#[inline(always)]` instead: that guarantees the mapping is compiled
/// inside the per-SIMD-level copies of the fill loop (a closure body is its own function
/// and may stay outside them, compiled for the baseline target only).
pub trait WordMap<T>: Sync {
    /// Whether Philox fills call `map` from inside the block kernel, eight blocks at a
    /// time (`simd::fill_philox_mapped`): for cheap element-wise mappings only.
    const FUSE: bool = false;
    /// Whether the fused kernel calls [`WordMap::map_pairs`] instead of `map` for two-word
    /// elements: reading each element as one `u64` keeps vector code from deinterleaving
    /// the words.
    const PAIRS: bool = false;
    fn map(&self, block: u64, words: &[u32], out: &mut [T]);
    /// `map` for two-word elements, given as `join_u64(words[2k], words[2k + 1])`: the same
    /// elements. Implemented where `PAIRS` is true.
    fn map_pairs(&self, block: u64, pairs: &[u64], out: &mut [T]) {
        let _ = (block, pairs, out);
        unreachable!("map_pairs of a WordMap without PAIRS");
    }
}

impl<T, F: Fn(u64, &[u32], &mut [T]) + Sync> WordMap<T> for F {
    #[inline(always)]
    fn map(&self, block: u64, words: &[u32], out: &mut [T]) {
        self(block, words, out)
    }
}

/// Fills `out` from blocks `first_block..`, element `i` taking words
/// `i * words_per_element ..` of the word stream; `map(block, words, elements)` turns a run
/// of words that starts at block `block` into the matching run of elements.
/// `words_per_element` is 1, 2 or 4. `words` holds the whole blocks that cover the run, so
/// it may be longer than `elements.len() * words_per_element` (a Box-Muller pair reads the
/// other word of its pair, in the same block, even for the last element of an odd draw).
pub fn fill_elements<B, T, F>(
    src: &B,
    first_block: u64,
    words_per_element: usize,
    out: &mut [T],
    map: &F,
) where
    B: BlockFn,
    T: Send,
    F: WordMap<T>,
{
    debug_assert!(matches!(words_per_element, 1 | 2 | 4));
    let per_block = 4 / words_per_element;
    let chunk_blocks = chunk_blocks();
    let total_blocks = blocks_for(out.len() as u64, words_per_element as u64).unwrap_or(u64::MAX);
    let threads = num_threads();
    let chunk_elements = usize::try_from(chunk_blocks)
        .unwrap_or(usize::MAX / 4)
        .saturating_mul(per_block);
    if threads > 1 && total_blocks > chunk_blocks {
        if let Some(pool) = pool(threads) {
            pool.install(|| {
                out.par_chunks_mut(chunk_elements)
                    .enumerate()
                    .for_each(|(i, chunk)| {
                        let first = first_block.wrapping_add((i as u64).wrapping_mul(chunk_blocks));
                        fill_serial(src, first, words_per_element, chunk, map)
                    })
            });
            return;
        }
    }
    fill_serial(src, first_block, words_per_element, out, map)
}

fn fill_serial<B, T, F>(src: &B, first_block: u64, words_per_element: usize, out: &mut [T], map: &F)
where
    B: BlockFn,
    F: WordMap<T>,
{
    if F::FUSE {
        if let Some(philox) = src.philox() {
            if crate::simd::fill_philox_mapped(&philox, first_block, words_per_element, out, map) {
                return;
            }
        }
    }
    // The mapping loops are compiled once per SIMD level so that conversions such as
    // u64 -> f64 vectorise; integer and exact float operations give the same bits at
    // every level.
    match simd_level() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level is only set after `is_supported` confirmed AVX-512 F/VL/DQ/BW.
        SimdLevel::Avx512 => unsafe {
            fill_serial_avx512(src, first_block, words_per_element, out, map)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level is only set after `is_supported` confirmed AVX2.
        SimdLevel::Avx2 => unsafe {
            fill_serial_avx2(src, first_block, words_per_element, out, map)
        },
        _ => fill_serial_body(src, first_block, words_per_element, out, map),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw")]
unsafe fn fill_serial_avx512<B, T, F>(src: &B, first_block: u64, wpe: usize, out: &mut [T], map: &F)
where
    B: BlockFn,
    F: WordMap<T>,
{
    fill_serial_body(src, first_block, wpe, out, map)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_serial_avx2<B, T, F>(src: &B, first_block: u64, wpe: usize, out: &mut [T], map: &F)
where
    B: BlockFn,
    F: WordMap<T>,
{
    fill_serial_body(src, first_block, wpe, out, map)
}

#[inline(always)]
fn fill_serial_body<B, T, F>(
    src: &B,
    first_block: u64,
    words_per_element: usize,
    out: &mut [T],
    map: &F,
) where
    B: BlockFn,
    F: WordMap<T>,
{
    let per_block = 4 / words_per_element;
    let mut cursor = src.cursor(first_block);
    let mut buf = [[0u32; 4]; BATCH_BLOCKS];
    let mut block = first_block;
    for piece in out.chunks_mut(BATCH_BLOCKS * per_block) {
        let words = piece.len() * words_per_element;
        let blocks = words.div_ceil(4);
        cursor.next_blocks(&mut buf[..blocks]);
        map.map(block, &buf.as_flattened()[..blocks * 4], piece);
        block = block.wrapping_add(blocks as u64);
    }
}

#[cfg(test)]
mod run_tests {
    use super::*;

    #[test]
    fn runs_go_last_to_first_from_their_block_start() {
        // float32 (4 per block): elements 5.. at out 3 (lead 1), elements 0.. at out 0.
        let p = run_pieces(10, 8, 1, &[0, 0, 3, 5, 3, 5]).unwrap();
        assert_eq!(p, vec![(11, 2..8), (10, 0..3)]);
        assert!(run_pieces(0, 4, 1, &[1, 0, 2]).is_err()); // no place for its lead
        assert!(run_pieces(0, 4, 1, &[0, 2, 3]).is_err()); // past the output
        assert!(run_pieces(u64::MAX - 1, 8, 1, &[8, 0, 4]).is_err());
    }

    #[test]
    fn runs_fit_with_a_place_for_each_element_before_them_in_their_block() {
        assert!(run_fits(5, 1, 1) && !run_fits(5, 0, 1) && !run_fits(7, 2, 1));
        assert!(run_fits(3, 1, 2) && !run_fits(3, 0, 2)); // float64: 2 per block
        assert!(run_fits(7, 0, 4)); // 4 words: every element starts a block
        assert!(run_fits(8, 0, 1) && run_fits(0, 0, 2));
    }
}
