//! Block sources: the one interface distributions need. Block `n` of a stream is a pure
//! function of the stream's key and `n`; a cursor reads consecutive blocks from any start.
//! Spec: docs/spec.md#blocks.

#![forbid(unsafe_code)]

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
}

impl BlockCursor for AnyCursor {
    fn next_blocks(&mut self, out: &mut [[u32; 4]]) {
        match self {
            AnyCursor::Philox(c) => c.next_blocks(out),
            AnyCursor::Pcg64(c) => c.next_blocks(out),
        }
    }
}
