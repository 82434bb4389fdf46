//! NumPy's `SeedSequence` (O'Neill's seed_seq design as implemented in
//! numpy/random/bit_generator.pyx): entropy words hashed into a pool, from which any number
//! of well-mixed state words are drawn. Spec: docs/spec.md#seedsequence.
//!
//! The same entropy, spawn key and pool size give the same words on every platform, and the
//! same words as NumPy's `SeedSequence`; construction never panics.

#![forbid(unsafe_code)]

use crate::error::{Error, Result};

/// NumPy's `DEFAULT_POOL_SIZE`, also the smallest pool it accepts.
pub const SEED_SEQUENCE_POOL_SIZE: usize = 4;

// NumPy bit_generator.pyx constants (from the C++ reference in O'Neill's randutils).
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;

/// The little-endian 32-bit words of a non-negative integer given by its little-endian
/// bytes: at least one word (0 gives `[0]`), no high zero words (NumPy
/// `_int_to_uint32_array`).
pub fn int_words(le_bytes: &[u8]) -> Vec<u32> {
    let used = le_bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let mut words: Vec<u32> = le_bytes[..used]
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect();
    if words.is_empty() {
        words.push(0);
    }
    words
}

/// A hash whose multiplier evolves with every call (`hashmix` in NumPy).
struct HashMix(u32);

impl HashMix {
    #[inline]
    fn mix(&mut self, value: u32) -> u32 {
        let mut v = value ^ self.0;
        self.0 = self.0.wrapping_mul(MULT_A);
        v = v.wrapping_mul(self.0);
        v ^ (v >> XSHIFT)
    }
}

#[inline]
fn mix(x: u32, y: u32) -> u32 {
    let r = MIX_MULT_L
        .wrapping_mul(x)
        .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^ (r >> XSHIFT)
}

/// NumPy's `SeedSequence`: entropy words and a spawn key, hashed into a pool.
///
/// The entropy and spawn key are held as the concatenated 32-bit words NumPy derives
/// from them (each integer split by [`int_words`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSequence {
    entropy: Vec<u32>,
    spawn_key: Vec<u32>,
    n_children_spawned: u64,
    pool: Vec<u32>,
}

impl SeedSequence {
    /// NumPy `SeedSequence(seed)` for an integer seed with the default pool size.
    pub fn from_u128(seed: u128) -> Self {
        let words = int_words(&seed.to_le_bytes());
        Self::with_pool(&words, &[], vec![0; SEED_SEQUENCE_POOL_SIZE])
    }

    /// A sequence from entropy words and spawn-key words (each NumPy integer already split
    /// by [`int_words`] and concatenated). `pool_size` must be at least 4.
    pub fn from_words(entropy: &[u32], spawn_key: &[u32], pool_size: usize) -> Result<Self> {
        if pool_size < SEED_SEQUENCE_POOL_SIZE {
            return Err(Error::invalid(
                "pool_size",
                format!("the entropy pool needs at least {SEED_SEQUENCE_POOL_SIZE} words, got {pool_size}"),
            ));
        }
        let mut pool = Vec::new();
        pool.try_reserve_exact(pool_size)
            .map_err(|_| Error::OutOfMemory {
                name: "pool_size",
                bytes: 4 * pool_size as u128,
            })?;
        pool.resize(pool_size, 0);
        Ok(Self::with_pool(entropy, spawn_key, pool))
    }

    /// Mixes the entropy into `pool`, whose length (at least 4) is the pool size.
    fn with_pool(entropy: &[u32], spawn_key: &[u32], mut pool: Vec<u32>) -> Self {
        let assembled = assemble(entropy, spawn_key, pool.len());
        mix_entropy(&mut pool, &assembled);
        SeedSequence {
            entropy: entropy.to_vec(),
            spawn_key: spawn_key.to_vec(),
            n_children_spawned: 0,
            pool,
        }
    }

    /// NumPy `SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size)` where each
    /// element of `entropy` and `spawn_key` is a non-negative integer given by its
    /// little-endian bytes (split into words by [`int_words`] and concatenated).
    pub fn from_int_bytes(
        entropy: &[&[u8]],
        spawn_key: &[&[u8]],
        pool_size: usize,
    ) -> Result<Self> {
        let words = |ints: &[&[u8]]| ints.iter().flat_map(|b| int_words(b)).collect::<Vec<u32>>();
        Self::from_words(&words(entropy), &words(spawn_key), pool_size)
    }

    /// The entropy words (before the spawn key and any padding).
    pub fn entropy(&self) -> &[u32] {
        &self.entropy
    }

    /// The entropy pool after mixing.
    pub fn pool(&self) -> &[u32] {
        &self.pool
    }

    pub fn spawn_key(&self) -> &[u32] {
        &self.spawn_key
    }

    pub fn n_children_spawned(&self) -> u64 {
        self.n_children_spawned
    }

    /// `generate_state(out.len(), uint32)`.
    pub fn fill_state_u32(&self, out: &mut [u32]) {
        let mut hash_const = INIT_B;
        for (o, &word) in out.iter_mut().zip(self.pool.iter().cycle()) {
            let mut v = word ^ hash_const;
            hash_const = hash_const.wrapping_mul(MULT_B);
            v = v.wrapping_mul(hash_const);
            *o = v ^ (v >> XSHIFT);
        }
    }

    /// `generate_state(out.len(), uint64)`: twice as many 32-bit words, paired little-endian.
    pub fn fill_state_u64(&self, out: &mut [u64]) {
        let mut hash_const = INIT_B;
        let mut words = self.pool.iter().cycle().map(|&word| {
            let mut v = word ^ hash_const;
            hash_const = hash_const.wrapping_mul(MULT_B);
            v = v.wrapping_mul(hash_const);
            v ^ (v >> XSHIFT)
        });
        for o in out.iter_mut() {
            let lo = words.next().unwrap_or(0);
            let hi = words.next().unwrap_or(0);
            *o = u64::from(lo) | (u64::from(hi) << 32);
        }
    }

    /// `generate_state(n, uint32)` as a vector.
    pub fn generate_state_u32(&self, n: usize) -> Vec<u32> {
        let mut out = vec![0; n];
        self.fill_state_u32(&mut out);
        out
    }

    /// `generate_state(n, uint64)` as a vector.
    pub fn generate_state_u64(&self, n: usize) -> Vec<u64> {
        let mut out = vec![0; n];
        self.fill_state_u64(&mut out);
        out
    }

    /// NumPy `spawn(n)`: children with spawn keys `spawn_key + (i,)` for the next `n`
    /// values of `i`, continuing after the children spawned before.
    pub fn spawn(&mut self, n: usize) -> Vec<SeedSequence> {
        let first = self.n_children_spawned;
        self.n_children_spawned = first.saturating_add(n as u64);
        (first..self.n_children_spawned)
            .map(|i| {
                let mut key = self.spawn_key.clone();
                key.extend(int_words(&i.to_le_bytes()));
                Self::with_pool(&self.entropy, &key, vec![0; self.pool.len()])
            })
            .collect()
    }
}

/// NumPy `get_assembled_entropy`: the run entropy, zero-padded to the pool size only when a
/// spawn key follows (NumPy 1.19, gh-16539, kept small unspawned seeds unchanged), then the
/// spawn key.
fn assemble(entropy: &[u32], spawn_key: &[u32], pool_size: usize) -> Vec<u32> {
    let mut words = entropy.to_vec();
    if !spawn_key.is_empty() && words.len() < pool_size {
        words.resize(pool_size, 0);
    }
    words.extend_from_slice(spawn_key);
    words
}

/// NumPy `mix_entropy`.
fn mix_entropy(pool: &mut [u32], entropy: &[u32]) {
    let mut h = HashMix(INIT_A);
    for (i, p) in pool.iter_mut().enumerate() {
        *p = h.mix(entropy.get(i).copied().unwrap_or(0));
    }
    // Mix all bits together so that late words affect earlier ones.
    for src in 0..pool.len() {
        for dst in 0..pool.len() {
            if src != dst {
                pool[dst] = mix(pool[dst], h.mix(pool[src]));
            }
        }
    }
    // Entropy beyond the pool size is folded into every pool word.
    for &word in entropy.iter().skip(pool.len()) {
        for p in pool.iter_mut() {
            *p = mix(*p, h.mix(word));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_words_are_little_endian_without_high_zeros() {
        assert_eq!(int_words(&[]), vec![0]);
        assert_eq!(int_words(&0u64.to_le_bytes()), vec![0]);
        assert_eq!(int_words(&0xdeadbeafu64.to_le_bytes()), vec![0xdeadbeaf]);
        assert_eq!(int_words(&(1u128 << 40).to_le_bytes()), vec![0, 0x100]);
        assert_eq!(int_words(&[1, 2, 3, 4, 5]), vec![0x0403_0201, 5]);
    }

    #[test]
    fn matches_numpy_reference_data() {
        // numpy/random/tests/test_seed_sequence.py test_reference_data, first two cases.
        let ss = SeedSequence::from_words(&[3735928559, 195939070, 229505742, 305419896], &[], 4)
            .unwrap();
        assert_eq!(
            ss.generate_state_u32(4),
            [3914649087, 576849849, 3593928901, 2229911004]
        );
        assert_eq!(
            ss.generate_state_u64(2),
            [2477551240072187391, 9577394838764454085]
        );
        let ss =
            SeedSequence::from_words(&[3668361503, 4165561550, 1661411377, 3634257570], &[], 4)
                .unwrap();
        assert_eq!(
            ss.generate_state_u32(4),
            [2240804226, 3691353228, 1365957195, 2654016646]
        );
    }

    #[test]
    fn small_int_seed_is_not_zero_padded() {
        // test_seed_sequence.py test_zero_padding: SeedSequence(42).generate_state(4).
        assert_eq!(
            SeedSequence::from_u128(42).generate_state_u32(4),
            [3444837047, 2669555309, 2046530742, 3581440988]
        );
        // With a spawn key the entropy is padded first, so (42, spawn_key=(0,)) is not
        // the same as entropy [42, 0].
        let padded = SeedSequence::from_words(&[42], &[0], 4).unwrap();
        let plain = SeedSequence::from_words(&[42, 0], &[], 4).unwrap();
        assert_ne!(padded.generate_state_u32(4), plain.generate_state_u32(4));
    }

    #[test]
    fn numpy_seeding_words() {
        // ../shared/reference README section 3: SeedSequence(s).generate_state(4, uint64).
        assert_eq!(
            SeedSequence::from_u128(0xdeadbeaf).generate_state_u64(4),
            [
                0x50312a63d516e24a,
                0x4063bc8bca44dc77,
                0xb780f022ab4ec9e2,
                0x2056086e8249885a
            ]
        );
        assert_eq!(
            SeedSequence::from_u128(0).generate_state_u64(4),
            [
                0xdb2cd7e7b0f478be,
                0xabf4641a2c71ba49,
                0x20c6ed6d9d7b8d41,
                0x2c4099de223c39d4
            ]
        );
    }

    #[test]
    fn u64_state_pairs_u32_state() {
        let ss = SeedSequence::from_words(&[1, 2, 3, 4, 5, 6, 7], &[9], 6).unwrap();
        let w32 = ss.generate_state_u32(14);
        let w64 = ss.generate_state_u64(7);
        for (i, w) in w64.iter().enumerate() {
            assert_eq!(
                *w,
                u64::from(w32[2 * i]) | (u64::from(w32[2 * i + 1]) << 32)
            );
        }
    }

    #[test]
    fn spawn_continues_numbering() {
        let mut parent = SeedSequence::from_u128(7);
        let a = parent.spawn(2);
        let b = parent.spawn(1);
        assert_eq!(parent.n_children_spawned(), 3);
        assert_eq!(a[1].spawn_key(), &[1]);
        assert_eq!(b[0].spawn_key(), &[2]);
        assert_eq!(b[0], SeedSequence::from_words(&[7], &[2], 4).unwrap());
    }

    #[test]
    fn int_bytes_are_split_per_integer() {
        // NumPy coerces each integer separately: [1, 2**40] gives words [1, 0, 0x100].
        let a =
            SeedSequence::from_int_bytes(&[&[1], &(1u64 << 40).to_le_bytes()], &[&[]], 4).unwrap();
        let b = SeedSequence::from_words(&[1, 0, 0x100], &[0], 4).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn pool_size_below_four_is_an_error() {
        assert!(matches!(
            SeedSequence::from_words(&[1], &[], 3),
            Err(Error::InvalidArgument {
                name: "pool_size",
                ..
            })
        ));
    }
}
