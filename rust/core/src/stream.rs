//! Block sources: the one interface distributions need. Block `n` of a stream is a pure
//! function of the stream's key and `n`; a cursor reads consecutive blocks from any start.
//! Spec: docs/spec.md#blocks.

#![forbid(unsafe_code)]

use crate::bitgen::Raw64;
use crate::distr::bits::join_u64;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::pcg64::{Pcg64Engine, Pcg64Variant};
use crate::simd;

/// A keyed map from a block index to 128 bits (four u32 words).
pub trait BlockFn: Sync {
    type Cursor: BlockCursor;
    /// Block `n`, computed alone.
    fn block(&self, n: u64) -> [u32; 4];
    /// A reader of blocks `first_block, first_block + 1, ...`.
    fn cursor(&self, first_block: u64) -> Self::Cursor;
    /// The Philox stream behind this source, if it is one: fills may then run the block
    /// kernel and the element mapping together (`simd::fill_philox_mapped`).
    fn philox(&self) -> Option<PhiloxStream> {
        None
    }
}

/// Reads consecutive blocks; the only state is where it is.
pub trait BlockCursor {
    fn next_blocks(&mut self, out: &mut [[u32; 4]]);
}

/// The generator algorithm behind a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Philox4x32-10, counter-based (the default).
    Philox,
    /// PCG64 XSL-RR with O(log n) jump-ahead for random access.
    Pcg64,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Philox => "philox",
            Algorithm::Pcg64 => "pcg64",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "philox" => Some(Algorithm::Philox),
            "pcg64" => Some(Algorithm::Pcg64),
            _ => None,
        }
    }
}

/// Philox stream: key words 0-1 are the Philox key, words 2-3 the upper counter words.
#[derive(Debug, Clone, Copy)]
pub struct PhiloxStream {
    pub key: [u32; 2],
    pub counter_hi: [u32; 2],
}

impl PhiloxStream {
    pub fn new(key: &Key) -> Self {
        PhiloxStream {
            key: [key.word(0), key.word(1)],
            counter_hi: [key.word(2), key.word(3)],
        }
    }
}

#[derive(Debug, Clone)]
pub struct PhiloxCursor {
    stream: PhiloxStream,
    next_block: u64,
}

impl BlockFn for PhiloxStream {
    type Cursor = PhiloxCursor;
    fn block(&self, n: u64) -> [u32; 4] {
        crate::philox::philox4x32_10(crate::philox::counter(n, self.counter_hi), self.key)
    }
    fn cursor(&self, first_block: u64) -> PhiloxCursor {
        PhiloxCursor {
            stream: *self,
            next_block: first_block,
        }
    }
    fn philox(&self) -> Option<PhiloxStream> {
        Some(*self)
    }
}

impl BlockCursor for PhiloxCursor {
    fn next_blocks(&mut self, out: &mut [[u32; 4]]) {
        simd::philox_blocks(
            self.stream.key,
            self.stream.counter_hi,
            self.next_block,
            out,
        );
        self.next_block = self.next_block.wrapping_add(out.len() as u64);
    }
}

/// PCG64 stream: seeded as NumPy does from initstate = key half 0, initseq = key half 1;
/// block `n` holds outputs `2n` and `2n + 1`, each as (low word, high word).
#[derive(Debug, Clone)]
pub struct Pcg64Stream {
    seeded: Pcg64Engine,
}

impl Pcg64Stream {
    pub fn new(key: &Key) -> Self {
        Pcg64Stream {
            seeded: Pcg64Engine::seed(key.half(0), key.half(1), Pcg64Variant::XslRr),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pcg64Cursor {
    engine: Pcg64Engine,
}

impl BlockFn for Pcg64Stream {
    type Cursor = Pcg64Cursor;
    fn block(&self, n: u64) -> [u32; 4] {
        let mut out = [[0u32; 4]];
        self.cursor(n).next_blocks(&mut out);
        out[0]
    }
    fn cursor(&self, first_block: u64) -> Pcg64Cursor {
        let mut engine = self.seeded.clone();
        engine.advance(2 * u128::from(first_block));
        Pcg64Cursor { engine }
    }
}

impl BlockCursor for Pcg64Cursor {
    fn next_blocks(&mut self, out: &mut [[u32; 4]]) {
        for o in out.iter_mut() {
            let a = self.engine.next_u64();
            let b = self.engine.next_u64();
            *o = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
        }
    }
}

/// A stream of either algorithm, chosen at run time.
#[derive(Debug, Clone)]
pub enum AnyStream {
    Philox(PhiloxStream),
    Pcg64(Pcg64Stream),
}

impl AnyStream {
    pub fn new(algorithm: Algorithm, key: &Key) -> Self {
        match algorithm {
            Algorithm::Philox => AnyStream::Philox(PhiloxStream::new(key)),
            Algorithm::Pcg64 => AnyStream::Pcg64(Pcg64Stream::new(key)),
        }
    }
}

#[derive(Debug, Clone)]
pub enum AnyCursor {
    Philox(PhiloxCursor),
    Pcg64(Pcg64Cursor),
}

impl BlockFn for AnyStream {
    type Cursor = AnyCursor;
    fn block(&self, n: u64) -> [u32; 4] {
        match self {
            AnyStream::Philox(s) => s.block(n),
            AnyStream::Pcg64(s) => s.block(n),
        }
    }
    fn cursor(&self, first_block: u64) -> AnyCursor {
        match self {
            AnyStream::Philox(s) => AnyCursor::Philox(s.cursor(first_block)),
            AnyStream::Pcg64(s) => AnyCursor::Pcg64(s.cursor(first_block)),
        }
    }
    fn philox(&self) -> Option<PhiloxStream> {
        match self {
            AnyStream::Philox(s) => Some(*s),
            AnyStream::Pcg64(_) => None,
        }
    }
}

impl BlockCursor for AnyCursor {
    fn next_blocks(&mut self, out: &mut [[u32; 4]]) {
        match self {
            AnyCursor::Philox(c) => c.next_blocks(out),
            AnyCursor::Pcg64(c) => c.next_blocks(out),
        }
    }
}

/// Reads consecutive blocks of a stream from any block, continuing with block 0 after
/// block 2^64 - 1 (docs/spec.md#stream-bit-generator). Only reached by a position set near
/// the end: drawing 2^64 blocks takes centuries.
#[derive(Debug, Clone)]
pub struct BlockReader {
    stream: AnyStream,
    cursor: AnyCursor,
    next_block: u64,
}

impl BlockReader {
    /// A reader whose first block is `first_block`.
    pub fn new(stream: AnyStream, first_block: u64) -> Self {
        BlockReader {
            cursor: stream.cursor(first_block),
            stream,
            next_block: first_block,
        }
    }

    /// The block the next read starts with.
    pub fn next_block(&self) -> u64 {
        self.next_block
    }

    /// Reads the next `out.len()` blocks.
    pub fn read(&mut self, out: &mut [[u32; 4]]) {
        let count = out.len() as u64;
        if self.next_block.checked_add(count).is_some() {
            // Cursors are only defined while the block index does not wrap.
            self.cursor.next_blocks(out);
        } else {
            for (i, o) in out.iter_mut().enumerate() {
                *o = self.stream.block(self.next_block.wrapping_add(i as u64));
            }
            self.cursor = self.stream.cursor(self.next_block.wrapping_add(count));
        }
        self.next_block = self.next_block.wrapping_add(count);
    }
}

/// Blocks a [`StreamReader`] computes at a time: a multiple of every Philox kernel's step
/// (16 blocks portable, 8 AVX2, 32 AVX-512), so no refill computes blocks it drops.
pub const READER_BLOCKS: usize = 64;

/// A stream's word stream read as 64-bit values `u64(j) = u32(2j) | u32(2j + 1) << 32`,
/// the raw output of `seedstream.StreamBitGenerator` (docs/spec.md#stream-bit-generator).
#[derive(Debug, Clone)]
pub struct StreamReader {
    algorithm: Algorithm,
    key: Key,
    blocks: BlockReader,
    /// Two values per block, for blocks `first_block ..`.
    values: [u64; 2 * READER_BLOCKS],
    first_block: u64,
    /// Index into `values` of the next output; `values.len()` means used up.
    next: usize,
}

impl StreamReader {
    /// A reader whose first output is words 0 and 1 of block `block`, or words 2 and 3
    /// when `high_half`.
    pub fn new(algorithm: Algorithm, key: Key, block: u64, high_half: bool) -> Self {
        let mut r = StreamReader {
            algorithm,
            key,
            blocks: BlockReader::new(AnyStream::new(algorithm, &key), block),
            values: [0; 2 * READER_BLOCKS],
            first_block: block,
            next: 0,
        };
        r.refill();
        r.next = usize::from(high_half);
        r
    }

    fn refill(&mut self) {
        let mut buf = [[0u32; 4]; READER_BLOCKS];
        self.first_block = self.blocks.next_block();
        self.blocks.read(&mut buf);
        for (pair, b) in self.values.chunks_exact_mut(2).zip(buf.iter()) {
            pair[0] = join_u64(b[0], b[1]);
            pair[1] = join_u64(b[2], b[3]);
        }
        self.next = 0;
    }

    /// The next 64-bit value.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        // `get` rather than indexing: this runs behind NumPy's C calls, where a panic
        // would abort, so no bounds check may remain.
        match self.values.get(self.next) {
            Some(&v) => {
                self.next += 1;
                v
            }
            None => {
                self.refill();
                self.next = 1;
                self.values[0]
            }
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn key(&self) -> Key {
        self.key
    }

    /// Skips `values` outputs. Like a Generator's position it only moves forward and never
    /// past block 2^64 - 1: an error, changing nothing, if it would.
    pub fn advance(&mut self, values: u128) -> Result<()> {
        let (block, word) = self.position();
        let index = 2 * u128::from(block) + u128::from(word / 2);
        let target = index
            .checked_add(values)
            .filter(|t| *t < 1u128 << 65)
            .ok_or_else(|| {
                Error::invalid(
                    "delta",
                    format!("skipping {values} values from block {block} passes block 2**64 - 1"),
                )
            })?;
        *self = StreamReader::new(
            self.algorithm,
            self.key,
            (target / 2) as u64,
            target % 2 == 1,
        );
        Ok(())
    }

    /// Where the next output starts: (block, word within the block: 0 or 2).
    pub fn position(&self) -> (u64, u32) {
        let block = self.first_block.wrapping_add((self.next / 2) as u64);
        (block, 2 * (self.next % 2) as u32)
    }
}

impl Raw64 for StreamReader {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        StreamReader::next_u64(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Name;

    fn streams() -> Vec<(Algorithm, Key, AnyStream)> {
        let key = Key::from_seed(&Name::Int(42));
        [Algorithm::Philox, Algorithm::Pcg64]
            .into_iter()
            .map(|a| (a, key, AnyStream::new(a, &key)))
            .collect()
    }

    #[test]
    fn reader_values_are_block_words_in_order() {
        for (a, k, s) in streams() {
            for (block, high) in [(0u64, false), (5, true), (1000, false)] {
                let mut r = StreamReader::new(a, k, block, high);
                let mut want = Vec::new();
                for b in block..block + 3 * READER_BLOCKS as u64 {
                    let w = s.block(b);
                    want.push(join_u64(w[0], w[1]));
                    want.push(join_u64(w[2], w[3]));
                }
                // Across two refills, ending mid-block.
                let n = 5 * READER_BLOCKS - 3;
                let got: Vec<u64> = (0..n).map(|_| r.next_u64()).collect();
                assert_eq!(&got[..], &want[usize::from(high)..n + usize::from(high)]);
                let consumed = n as u64 + u64::from(high);
                assert_eq!(
                    r.position(),
                    (block + consumed / 2, 2 * (consumed % 2) as u32)
                );
            }
        }
    }

    #[test]
    fn reader_advance_equals_reading() {
        for (a, k, _) in streams() {
            let mut read = StreamReader::new(a, k, 3, true);
            let mut skip = read.clone();
            for _ in 0..301 {
                read.next_u64();
            }
            skip.advance(301).unwrap();
            assert_eq!(skip.position(), read.position());
            assert_eq!(skip.next_u64(), read.next_u64());
        }
    }

    #[test]
    fn reader_advance_stops_at_the_last_block() {
        let (a, k, _) = streams().remove(0);
        let mut r = StreamReader::new(a, k, u64::MAX, false);
        r.advance(1).unwrap();
        assert_eq!(r.position(), (u64::MAX, 2));
        assert!(r.advance(1).is_err());
        assert_eq!(r.position(), (u64::MAX, 2));
        assert!(r.advance(u128::MAX).is_err());
    }

    #[test]
    fn reader_continues_with_block_zero_after_the_last_block() {
        for (a, k, s) in streams() {
            let mut r = StreamReader::new(a, k, u64::MAX - 2, true);
            let mut want = Vec::new();
            for b in [u64::MAX - 2, u64::MAX - 1, u64::MAX, 0, 1] {
                let w = s.block(b);
                want.push(join_u64(w[0], w[1]));
                want.push(join_u64(w[2], w[3]));
            }
            for (i, w) in want.iter().enumerate().skip(1) {
                assert_eq!(r.next_u64(), *w, "value {i}");
            }
            // And far past the boundary, through the reopened cursor.
            let mut far = StreamReader::new(a, k, u64::MAX - 2, false);
            for _ in 0..2 * (READER_BLOCKS + 40) {
                far.next_u64();
            }
            let w = s.block(READER_BLOCKS as u64 + 37);
            assert_eq!(far.next_u64(), join_u64(w[0], w[1]));
        }
    }
}
