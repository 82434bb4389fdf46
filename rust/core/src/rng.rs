//! `rand_core` 0.9 adapters: [`RngCore`] and [`SeedableRng`] for seedstream's generators, so
//! Rust code can draw from them with `rand` and `rand_distr`. Nothing else in the crate
//! depends on `rand_core`. Spec: docs/spec.md#rust-rngs.
//!
//! - [`StreamRng`]: a named seedstream stream (key + position), block-based. It reads the
//!   stream's word stream in order: `next_u32` takes one word, `next_u64` two (low first),
//!   `fill_bytes` whole words as little-endian bytes. `StreamRng::seed_from_u64(42)` reads
//!   the same words as Python's `seedstream.Generator(42).bits(...)`.
//! - [`Pcg64`], [`Pcg64Dxsm`], [`Philox4x64`]: NumPy's bit generators, with NumPy's
//!   `next_uint32` (the two halves of one 64-bit output, low first). `seed_from_u64(s)` seeds
//!   through NumPy's `SeedSequence(s)`, so `Pcg64::seed_from_u64(42)` is `np.random.PCG64(42)`.
//!
//! ```
//! use rand_core::{RngCore, SeedableRng};
//! use rand_distr::{Distribution, Normal};
//! use seedstream_core::rng::{Pcg64, StreamRng};
//!
//! // The stream of Python's `seedstream.Generator(42)`: its first word is 0x521f8f59.
//! let mut rng = StreamRng::seed_from_u64(42);
//! assert_eq!(rng.next_u32(), 0x521f8f59);
//! let normal = Normal::new(0.0, 0.02).unwrap();
//! let weights: Vec<f32> = (0..8).map(|_| normal.sample(&mut rng)).collect();
//! assert!(weights.iter().all(|w| w.abs() < 1.0));
//!
//! // NumPy's `np.random.PCG64(42).random_raw()`.
//! let mut pcg = Pcg64::seed_from_u64(42);
//! assert_eq!(pcg.next_u64(), 0xc621fbcd16d92688);
//! ```

#![forbid(unsafe_code)]

use rand_core::block::{BlockRng, BlockRngCore};
use rand_core::{impls, RngCore, SeedableRng};

use crate::bitgen::BitGen;
use crate::key::{Key, Name};
use crate::pcg64::{Pcg64Engine, Pcg64Variant};
use crate::philox4x64::Philox4x64Engine;
use crate::seed_sequence::SeedSequence;
use crate::stream::{Algorithm, AnyStream, BlockReader, READER_BLOCKS};

/// Blocks produced per `generate` call of [`StreamBlocks`], as for the stream reader.
const STREAM_RNG_BLOCKS: usize = READER_BLOCKS;

/// The words of one batch of blocks (a newtype because `BlockRngCore::Results`
/// needs `Default`, which arrays this long lack).
#[derive(Debug, Clone)]
pub struct StreamWords([[u32; 4]; STREAM_RNG_BLOCKS]);

impl Default for StreamWords {
    fn default() -> Self {
        StreamWords([[0; 4]; STREAM_RNG_BLOCKS])
    }
}

impl AsRef<[u32]> for StreamWords {
    fn as_ref(&self) -> &[u32] {
        self.0.as_flattened()
    }
}

impl AsMut<[u32]> for StreamWords {
    fn as_mut(&mut self) -> &mut [u32] {
        self.0.as_flattened_mut()
    }
}

/// The [`BlockRngCore`] of [`StreamRng`]: consecutive blocks of one stream.
#[derive(Debug, Clone)]
pub struct StreamBlocks {
    reader: BlockReader,
}

impl BlockRngCore for StreamBlocks {
    type Item = u32;
    type Results = StreamWords;

    fn generate(&mut self, results: &mut Self::Results) {
        self.reader.read(&mut results.0);
    }
}

/// A seedstream stream (algorithm, key, block position) as a `rand` RNG.
///
/// It reads the word stream from its position in order (docs/spec.md#blocks). `Clone`, so
/// a deliberate copy repeats the numbers; never `Copy`, and no `Default`.
#[derive(Debug, Clone)]
pub struct StreamRng(BlockRng<StreamBlocks>);

impl StreamRng {
    /// The stream with this algorithm and key, starting at block `position`.
    pub fn new(algorithm: Algorithm, key: Key, position: u64) -> Self {
        let reader = BlockReader::new(AnyStream::new(algorithm, &key), position);
        StreamRng(BlockRng::new(StreamBlocks { reader }))
    }

    /// The Philox stream of `seed` and the child path `names`: the stream of Python's
    /// `seedstream.Generator(seed).child(*names)` at position 0. The same seed and names
    /// give the same bits on every platform and release.
    pub fn from_names(seed: &Name<'_>, names: &[Name<'_>]) -> Self {
        StreamRng::new(Algorithm::Philox, Key::from_seed(seed).child_path(names), 0)
    }

    /// The index of the next word in the stream's word stream, counted from block 0:
    /// `4 * position + words used of the current block`.
    pub fn word_position(&self) -> u128 {
        let buffered = (4 * STREAM_RNG_BLOCKS).saturating_sub(self.0.index());
        (4 * u128::from(self.0.core.reader.next_block()))
            .wrapping_sub(buffered as u128)
            .rem_euclid(4u128 << 64)
    }
}

impl RngCore for StreamRng {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
}

impl SeedableRng for StreamRng {
    /// The 256-bit stream key `K` (docs/spec.md#keys); the algorithm is Philox.
    type Seed = [u8; 32];

    /// The Philox stream with key `seed` at position 0.
    fn from_seed(seed: Self::Seed) -> Self {
        StreamRng::new(Algorithm::Philox, Key(seed), 0)
    }

    /// The root stream of the integer seed `state`, as Python's `seedstream.Generator(state)`
    /// (not `rand_core`'s generic expansion of `state`).
    fn seed_from_u64(state: u64) -> Self {
        StreamRng::from_names(&Name::Int(state), &[])
    }
}

/// Implements the `rand_core` traits for a NumPy bit generator newtype over `BitGen<E>`.
macro_rules! numpy_rng {
    ($name:ident, $engine:ty) => {
        impl $name {
            /// The bit generator state: the engine and NumPy's 32-bit buffer.
            pub fn bitgen(&self) -> &BitGen<$engine> {
                &self.0
            }

            /// The bit generator state, mutable (for `advance` and `jump`).
            pub fn bitgen_mut(&mut self) -> &mut BitGen<$engine> {
                &mut self.0
            }
        }

        impl RngCore for $name {
            /// NumPy's `next_uint32`: the low half of a new output, then its high half.
            #[inline]
            fn next_u32(&mut self) -> u32 {
                self.0.next_u32()
            }

            /// NumPy's `next_uint64` (and `random_raw`).
            #[inline]
            fn next_u64(&mut self) -> u64 {
                self.0.next_u64()
            }

            fn fill_bytes(&mut self, dest: &mut [u8]) {
                impls::fill_bytes_via_next(self, dest)
            }
        }
    };
}

/// NumPy's `PCG64` (XSL-RR) as a `rand` RNG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcg64(BitGen<Pcg64Engine>);

/// NumPy's `PCG64DXSM` as a `rand` RNG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcg64Dxsm(BitGen<Pcg64Engine>);

/// NumPy's `Philox` (Philox4x64-10, counter incremented before each block) as a `rand` RNG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Philox4x64(BitGen<Philox4x64Engine>);

numpy_rng!(Pcg64, Pcg64Engine);
numpy_rng!(Pcg64Dxsm, Pcg64Engine);
numpy_rng!(Philox4x64, Philox4x64Engine);

fn seed_words<const N: usize>(seed: &SeedSequence) -> [u64; N] {
    let mut words = [0u64; N];
    seed.fill_state_u64(&mut words);
    words
}

fn le_u128(bytes: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    u128::from_le_bytes(b)
}

macro_rules! pcg_seeding {
    ($name:ident, $variant:expr) => {
        impl $name {
            /// NumPy's seeding from a `SeedSequence`: `PCG64(seed_seq)` in Python.
            pub fn from_seed_sequence(seed: &SeedSequence) -> Self {
                $name(BitGen::new(Pcg64Engine::from_seed_words(
                    seed_words(seed),
                    $variant,
                )))
            }
        }

        impl SeedableRng for $name {
            /// `initstate` (bytes 0..16) and `initseq` (bytes 16..32), little-endian, seeded
            /// as NumPy's `pcg_setseq_128_srandom_r`: the same outputs as seedstream's
            /// `pcg64` blocks for key `seed` (docs/spec.md#blocks).
            type Seed = [u8; 32];

            fn from_seed(seed: Self::Seed) -> Self {
                let engine =
                    Pcg64Engine::seed(le_u128(&seed[..16]), le_u128(&seed[16..]), $variant);
                $name(BitGen::new(engine))
            }

            /// NumPy's `SeedSequence(state)` seeding, so the outputs equal NumPy's for the
            /// same integer seed.
            fn seed_from_u64(state: u64) -> Self {
                Self::from_seed_sequence(&SeedSequence::from_u128(u128::from(state)))
            }
        }
    };
}

pcg_seeding!(Pcg64, Pcg64Variant::XslRr);
pcg_seeding!(Pcg64Dxsm, Pcg64Variant::Dxsm);

impl Philox4x64 {
    /// NumPy's seeding from a `SeedSequence`: `Philox(seed_seq)` in Python.
    pub fn from_seed_sequence(seed: &SeedSequence) -> Self {
        Philox4x64(BitGen::new(Philox4x64Engine::from_seed_words(seed_words(
            seed,
        ))))
    }
}

impl SeedableRng for Philox4x64 {
    /// The 128-bit key, little-endian; the counter starts at 0 (NumPy `Philox(key=...)`).
    type Seed = [u8; 16];

    fn from_seed(seed: Self::Seed) -> Self {
        let key = le_u128(&seed);
        Philox4x64(BitGen::new(Philox4x64Engine::new(
            [key as u64, (key >> 64) as u64],
            [0; 4],
        )))
    }

    /// NumPy's `SeedSequence(state)` seeding, as `np.random.Philox(state)`.
    fn seed_from_u64(state: u64) -> Self {
        Self::from_seed_sequence(&SeedSequence::from_u128(u128::from(state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distr::bits;

    #[test]
    fn stream_rng_reads_the_word_stream() {
        let key = Key::from_seed(&Name::Str("rng")).child(&Name::Int(3));
        for algorithm in [Algorithm::Philox, Algorithm::Pcg64] {
            let stream = AnyStream::new(algorithm, &key);
            let mut words = vec![0u32; 1200];
            bits::fill_u32(&stream, 7, &mut words);
            let mut rng = StreamRng::new(algorithm, key, 7);
            assert_eq!(rng.next_u32(), words[0]);
            let two = rng.next_u64();
            assert_eq!(two, u64::from(words[1]) | (u64::from(words[2]) << 32));
            let mut bytes = [0u8; 12];
            rng.fill_bytes(&mut bytes);
            for (i, chunk) in bytes.chunks(4).enumerate() {
                assert_eq!(chunk, words[3 + i].to_le_bytes());
            }
            assert_eq!(rng.word_position(), 4 * 7 + 6);
            // Past the first generated batch of 256 words.
            for w in &words[6..1101] {
                assert_eq!(rng.next_u32(), *w);
            }
            assert_eq!(rng.word_position(), 4 * 7 + 1101);
            let mut rest = [0u8; 4 * 99];
            rng.fill_bytes(&mut rest);
            assert_eq!(&rest[4 * 98..], words[1199].to_le_bytes());
        }
    }

    #[test]
    fn stream_rng_seeding_matches_generator_spec() {
        // docs/spec.md "Known answers for streams": seed 42, philox, bits(4).
        let mut rng = StreamRng::seed_from_u64(42);
        let got: Vec<u32> = (0..4).map(|_| rng.next_u32()).collect();
        assert_eq!(got, [0x521f8f59, 0x8a4a89ca, 0x5d29f4b9, 0x56923985]);
        let key = Key::from_seed(&Name::Int(42));
        assert_eq!(StreamRng::from_seed(key.0).next_u32(), 0x521f8f59);
    }

    #[test]
    fn numpy_rngs_match_numpy_seeding() {
        // np.random.PCG64(42).random_raw(2), PCG64DXSM(42).random_raw(1), Philox(42).random_raw(2).
        let mut p = Pcg64::seed_from_u64(42);
        assert_eq!(p.next_u64(), 0xc621fbcd16d92688);
        assert_eq!(p.next_u64(), 0x705a5661a791ffc1);
        assert_eq!(Pcg64Dxsm::seed_from_u64(42).next_u64(), 0xab1c50338e63481d);
        let mut x = Philox4x64::seed_from_u64(42);
        assert_eq!(x.next_u64(), 0x16092f00ecdab98a);
        assert_eq!(x.next_u32(), 0x24021070);
        assert_eq!(x.next_u32(), 0x243d19cc);
    }

    #[test]
    fn pcg_from_seed_equals_pcg64_stream_blocks() {
        let key = Key::from_seed(&Name::Int(9));
        let stream = AnyStream::new(Algorithm::Pcg64, &key);
        let mut words = vec![0u64; 10];
        bits::fill_u64(&stream, 0, &mut words);
        let mut rng = Pcg64::from_seed(key.0);
        for w in words {
            assert_eq!(rng.next_u64(), w);
        }
    }

    #[test]
    fn philox_from_seed_is_a_little_endian_key() {
        let seed: [u8; 16] = core::array::from_fn(|i| 16 - i as u8);
        let mut rng = Philox4x64::from_seed(seed);
        let key = u128::from_le_bytes(seed);
        let block =
            crate::philox4x64::philox4x64_10([1, 0, 0, 0], [key as u64, (key >> 64) as u64]);
        assert_eq!(rng.next_u64(), block[0]);
    }
}
