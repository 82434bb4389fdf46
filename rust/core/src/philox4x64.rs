//! Philox4x64-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3",
//! SC 2011), bit-identical to Random123's `philox4x64_R(10, ctr, key)`, and NumPy's `Philox`
//! bit generator built on it.
//!
//! Spec: docs/spec.md#philox4x64-10 and docs/spec.md#numpy-philox.

#![forbid(unsafe_code)]

use crate::bitgen::Raw64;

pub const PHILOX4X64_M0: u64 = 0xD2E7_470E_E14C_6C93; // Random123 PHILOX_M4x64_0
pub const PHILOX4X64_M1: u64 = 0xCA5A_8263_9512_1157; // Random123 PHILOX_M4x64_1
pub const PHILOX4X64_W0: u64 = 0x9E37_79B9_7F4A_7C15; // Random123 PHILOX_W64_0, golden ratio
pub const PHILOX4X64_W1: u64 = 0xBB67_AE85_84CA_A73B; // Random123 PHILOX_W64_1, sqrt(3) - 1

/// Rounds of the variant NumPy uses (`philox4x64_rounds` in numpy/random/src/philox/philox.h).
pub const PHILOX4X64_ROUNDS: usize = 10;

#[inline(always)]
fn mulhilo(a: u64, b: u64) -> (u64, u64) {
    let p = u128::from(a) * u128::from(b);
    ((p >> 64) as u64, p as u64)
}

#[inline(always)]
fn round(ctr: [u64; 4], key: [u64; 2]) -> [u64; 4] {
    let (hi0, lo0) = mulhilo(PHILOX4X64_M0, ctr[0]);
    let (hi1, lo1) = mulhilo(PHILOX4X64_M1, ctr[2]);
    [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0]
}

/// The Philox4x64-10 block function: 256-bit counter and 128-bit key to 256 output bits.
///
/// Word 0 of `counter` and of `key` is the least significant. Same inputs, same output, on
/// every platform.
#[inline]
pub fn philox4x64_10(counter: [u64; 4], key: [u64; 2]) -> [u64; 4] {
    let mut ctr = counter;
    let mut k = key;
    for r in 0..PHILOX4X64_ROUNDS {
        if r > 0 {
            k = [
                k[0].wrapping_add(PHILOX4X64_W0),
                k[1].wrapping_add(PHILOX4X64_W1),
            ];
        }
        ctr = round(ctr, k);
    }
    ctr
}

/// `a + b` on 256-bit little-endian word arrays, mod 2^256.
fn add_256(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s, c1) = a[i].overflowing_add(b[i]);
        let (s, c2) = s.overflowing_add(u64::from(carry));
        out[i] = s;
        carry = c1 || c2;
    }
    out
}

/// Words per block, which is also the size of NumPy's output buffer (`PHILOX_BUFFER_SIZE`).
pub const PHILOX4X64_BUFFER: usize = 4;

/// NumPy's `Philox` bit generator: a 256-bit counter, a 128-bit key and a buffer of the
/// four words of the last block.
///
/// Before each block the counter is incremented (mod 2^256), so a fresh generator's first
/// block is `philox4x64_10(counter + 1, key)`; the block's words are returned in index
/// order. `Clone` but not `Copy`: a silent copy would repeat numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Philox4x64Engine {
    counter: [u64; 4],
    key: [u64; 2],
    buffer: [u64; PHILOX4X64_BUFFER],
    /// Index of the next buffered word; `PHILOX4X64_BUFFER` means the buffer is used up.
    buffer_pos: usize,
}

impl Philox4x64Engine {
    /// A generator with this key and counter and an empty buffer, as NumPy's
    /// `Philox(key=..., counter=...)`.
    pub fn new(key: [u64; 2], counter: [u64; 4]) -> Self {
        Philox4x64Engine {
            counter,
            key,
            buffer: [0; PHILOX4X64_BUFFER],
            buffer_pos: PHILOX4X64_BUFFER,
        }
    }

    /// NumPy's seeding: the key is `SeedSequence(seed).generate_state(2, uint64)` and the
    /// counter starts at 0.
    pub fn from_seed_words(words: [u64; 2]) -> Self {
        Philox4x64Engine::new(words, [0; 4])
    }

    /// A generator with every field of NumPy's state dict; `None` when `buffer_pos` is
    /// not in `0..=4` (NumPy would read outside its buffer).
    pub fn from_parts(
        counter: [u64; 4],
        key: [u64; 2],
        buffer: [u64; PHILOX4X64_BUFFER],
        buffer_pos: usize,
    ) -> Option<Self> {
        (buffer_pos <= PHILOX4X64_BUFFER).then_some(Philox4x64Engine {
            counter,
            key,
            buffer,
            buffer_pos,
        })
    }

    pub fn counter(&self) -> [u64; 4] {
        self.counter
    }

    pub fn key(&self) -> [u64; 2] {
        self.key
    }

    pub fn buffer(&self) -> [u64; PHILOX4X64_BUFFER] {
        self.buffer
    }

    pub fn buffer_pos(&self) -> usize {
        self.buffer_pos
    }

    /// The next 64-bit output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        // The buffered read stays small enough to inline into NumPy's entry points; the
        // block computation, once per four outputs, is a separate call.
        if let Some(&word) = self.buffer.get(self.buffer_pos) {
            self.buffer_pos += 1;
            return word;
        }
        self.next_block()
    }

    /// Increments the counter, computes its block and returns the block's first word.
    #[inline(never)]
    fn next_block(&mut self) -> u64 {
        let (low, carry) = self.counter[0].overflowing_add(1);
        self.counter[0] = low;
        if carry {
            self.counter = add_256(self.counter, [0, 1, 0, 0]);
        }
        self.buffer = philox4x64_10(self.counter, self.key);
        self.buffer_pos = 1;
        self.buffer[0]
    }

    /// NumPy's `advance(delta)`: adds `delta` (mod 2^256) to the counter, so `delta` counts
    /// blocks of four outputs, and empties the buffer.
    pub fn advance(&mut self, delta: [u64; 4]) {
        self.counter = add_256(self.counter, delta);
        self.buffer = [0; PHILOX4X64_BUFFER];
        self.buffer_pos = PHILOX4X64_BUFFER;
    }

    /// NumPy's `jumped(jumps)` applied in place: `advance(jumps * 2^128)` (mod 2^256).
    pub fn jump(&mut self, jumps: u128) {
        self.advance([0, 0, jumps as u64, (jumps >> 64) as u64]);
    }
}

impl Raw64 for Philox4x64Engine {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        Philox4x64Engine::next_u64(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_random123_kat_rounds_10() {
        // Random123 tests/kat_vectors, the three "philox4x64 10" lines (counter, key, expected).
        assert_eq!(
            philox4x64_10([0; 4], [0; 2]),
            [
                0x16554d9eca36314c,
                0xdb20fe9d672d0fdc,
                0xd7e772cee186176b,
                0x7e68b68aec7ba23b
            ]
        );
        assert_eq!(
            philox4x64_10([u64::MAX; 4], [u64::MAX; 2]),
            [
                0x87b092c3013fe90b,
                0x438c3c67be8d0224,
                0x9cc7d7c69cd777b6,
                0xa09caebf594f0ba0
            ]
        );
        assert_eq!(
            philox4x64_10(
                [
                    0x243f6a8885a308d3,
                    0x13198a2e03707344,
                    0xa4093822299f31d0,
                    0x082efa98ec4e6c89
                ],
                [0x452821e638d01377, 0xbe5466cf34e90c6c]
            ),
            [
                0xa528f45403e61d95,
                0x38c72dbd566e9788,
                0xa5a1610e72fd18b5,
                0x57bd43b5e52b7fe6
            ]
        );
    }

    #[test]
    fn matches_random123_old_kat_rounds_10() {
        // Random123 tests/old_kat_vectors, "philox4x64 10" with counter (1, 0, 0, 0), key (1, 0).
        assert_eq!(
            philox4x64_10([1, 0, 0, 0], [1, 0]),
            [
                0x4db6a27b756282df,
                0xd944fa03babe0e2f,
                0x27f872e577060d32,
                0x07f697696a0482a2
            ]
        );
    }

    #[test]
    fn numpy_increments_before_each_block() {
        let key = [0x1234, 0x5678];
        let mut g = Philox4x64Engine::new(key, [u64::MAX, u64::MAX, 7, 0]);
        let first = philox4x64_10([0, 0, 8, 0], key);
        let second = philox4x64_10([1, 0, 8, 0], key);
        let got: Vec<u64> = (0..8).map(|_| g.next_u64()).collect();
        assert_eq!(&got[..4], &first);
        assert_eq!(&got[4..], &second);
        assert_eq!(g.counter(), [1, 0, 8, 0]);
        assert_eq!(g.buffer_pos(), 4);
    }

    #[test]
    fn counter_wraps_mod_2_256() {
        let mut g = Philox4x64Engine::new([3, 4], [u64::MAX; 4]);
        assert_eq!(g.next_u64(), philox4x64_10([0; 4], [3, 4])[0]);
        g.advance([u64::MAX; 4]);
        assert_eq!(g.counter(), [u64::MAX; 4]);
    }

    #[test]
    fn advance_equals_stepping_whole_blocks() {
        let mut a = Philox4x64Engine::new([9, 10], [5, 0, 0, 0]);
        let mut b = a.clone();
        for _ in 0..4 * 37 {
            a.next_u64();
        }
        b.advance([37, 0, 0, 0]);
        assert_eq!(a.counter(), b.counter());
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn advance_carries_across_words_and_empties_the_buffer() {
        let mut g = Philox4x64Engine::new([0, 0], [u64::MAX, u64::MAX, 0, 0]);
        g.next_u64();
        g.advance([1, 0, 0, 0]);
        assert_eq!(g.counter(), [1, 0, 1, 0]);
        assert_eq!(g.buffer_pos(), PHILOX4X64_BUFFER);
        assert_eq!(g.buffer(), [0; 4]);
        g.jump(u128::MAX);
        assert_eq!(g.counter(), [1, 0, 0, 0]);
    }

    #[test]
    fn from_parts_rejects_out_of_range_buffer_pos() {
        assert!(Philox4x64Engine::from_parts([0; 4], [0; 2], [0; 4], 5).is_none());
        let mut g = Philox4x64Engine::from_parts([0; 4], [0; 2], [1, 2, 3, 4], 2).unwrap();
        assert_eq!(g.next_u64(), 3);
        assert_eq!(g.next_u64(), 4);
        assert_eq!(g.next_u64(), philox4x64_10([1, 0, 0, 0], [0, 0])[0]);
    }
}
