//! Hand-scheduled Philox4x32-10 for x86-64 with 256-bit vectors. The scalar
//! `philox::philox4x32_10` is the definition; this computes the same integer operations on
//! eight blocks at a time, and tests compare it with the definition block by block.
//!
//! Layout: each 32-bit counter word of a block sits in a 64-bit lane, so one `vpmuludq`
//! gives the high and the low half of a product; four blocks per register and two
//! independent groups of four per step (a third group no longer fits in 16 registers).
//! The lanes of a group hold blocks (n, n+2, n+1, n+3), so that two in-lane unpacks leave
//! 32 bytes in stream order and no cross-lane permute is needed. The upper counter words
//! are the same for every block, which folds most of round 1 into constants; round 10 is
//! merged with the packing of the output words.
//!
//! The same code is compiled for the AVX2 and the AVX-512 level: with AVX-512VL the
//! compiler merges the xor pairs into `vpternlogq` and has 32 registers.

use std::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_blend_epi32, _mm256_mul_epu32, _mm256_set1_epi64x,
    _mm256_set_epi64x, _mm256_setzero_si256, _mm256_shuffle_epi32, _mm256_srli_epi64,
    _mm256_storeu_si256, _mm256_unpackhi_epi64, _mm256_unpacklo_epi64, _mm256_xor_si256,
};

use crate::fill::WordMap;
use crate::philox::{
    counter, philox4x32_10, PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1,
};

/// Blocks computed per step: two groups of four.
pub(crate) const STEP_BLOCKS: usize = 8;

/// Everything that does not depend on the block index, computed once per call.
struct Consts {
    m0: __m256i,
    m1: __m256i,
    /// Round 1: word 0 becomes `c1 ^ r1_w0`, word 1 the constant `r1_w1`, word 2
    /// `hi(p0) ^ r1_w2` (the upper counter words and round key 0 folded in).
    r1_w0: __m256i,
    r1_w2: __m256i,
    /// Round 2: word 0 becomes `hi(p1) ^ r2_w0`, the round-1 constant word 1 and round
    /// key 1 folded together.
    r2_w0: __m256i,
    /// Round keys 1..10, word 0 and word 1 (index 0 unused: round 1 is folded above).
    k0: [__m256i; PHILOX_ROUNDS],
    k1: [__m256i; PHILOX_ROUNDS],
}

impl Consts {
    #[inline(always)]
    fn new(key: [u32; 2], counter_hi: [u32; 2]) -> Consts {
        let mut k0 = [0u32; PHILOX_ROUNDS];
        let mut k1 = [0u32; PHILOX_ROUNDS];
        let mut k = key;
        for r in 0..PHILOX_ROUNDS {
            if r > 0 {
                k = [k[0].wrapping_add(PHILOX_W0), k[1].wrapping_add(PHILOX_W1)];
            }
            k0[r] = k[0];
            k1[r] = k[1];
        }
        // Round 1 on the constant words: the product of counter word 2 is the same for
        // every block.
        let p1 = u64::from(PHILOX_M1) * u64::from(counter_hi[0]);
        let (p1_hi, p1_lo) = ((p1 >> 32) as u32, p1 as u32);
        Consts {
            m0: splat(PHILOX_M0),
            m1: splat(PHILOX_M1),
            r1_w0: splat(p1_hi ^ k0[0]),
            r1_w2: splat(counter_hi[1] ^ k1[0]),
            r2_w0: splat(p1_lo ^ k0[1]),
            k0: k0.map(splat),
            k1: k1.map(splat),
        }
    }
}

/// `x` zero-extended into every 64-bit lane.
#[inline(always)]
fn splat(x: u32) -> __m256i {
    // SAFETY: (for every `unsafe` block in this file) the functions here are only reached
    // through the `level!` wrappers, which are compiled with AVX2 and called only after
    // the CPU was found to have it.
    unsafe { _mm256_set1_epi64x(i64::from(x)) }
}

#[inline(always)]
fn add_lanes(a: __m256i, b: __m256i) -> __m256i {
    // SAFETY: see `splat`.
    unsafe { _mm256_add_epi64(a, b) }
}

/// One group's four counter words, each in the low half of a 64-bit lane; the high halves
/// hold leftovers that `vpmuludq` ignores and the output packing drops.
#[derive(Clone, Copy)]
struct Group([__m256i; 4]);

/// A Philox round on every lane: the 64-bit-lane form of `philox::round`.
#[inline(always)]
fn round(g: Group, c: &Consts, r: usize) -> Group {
    // SAFETY: see `splat`.
    unsafe {
        let [c0, c1, c2, c3] = g.0;
        let p0 = _mm256_mul_epu32(c0, c.m0);
        let p1 = _mm256_mul_epu32(c2, c.m1);
        // c1 ^ k0 does not wait for the multiply.
        let n0 = _mm256_xor_si256(_mm256_srli_epi64::<32>(p1), _mm256_xor_si256(c1, c.k0[r]));
        let n2 = _mm256_xor_si256(_mm256_srli_epi64::<32>(p0), _mm256_xor_si256(c3, c.k1[r]));
        Group([n0, p1, n2, p0])
    }
}

/// Rounds 1 and 2 with the constant counter words folded in. `blocks` holds the lanes'
/// 64-bit block indices (counter words 0 and 1).
#[inline(always)]
fn first_rounds(blocks: __m256i, c: &Consts) -> Group {
    // SAFETY: see `splat`.
    unsafe {
        // Round 1: counter words 2 and 3 are constants.
        let p0 = _mm256_mul_epu32(blocks, c.m0);
        let n0 = _mm256_xor_si256(_mm256_srli_epi64::<32>(blocks), c.r1_w0);
        let n2 = _mm256_xor_si256(_mm256_srli_epi64::<32>(p0), c.r1_w2);
        // Round 2: word 1 is the constant low product of round 1.
        let q0 = _mm256_mul_epu32(n0, c.m0);
        let q1 = _mm256_mul_epu32(n2, c.m1);
        let m0 = _mm256_xor_si256(_mm256_srli_epi64::<32>(q1), c.r2_w0);
        let m2 = _mm256_xor_si256(_mm256_srli_epi64::<32>(q0), _mm256_xor_si256(p0, c.k1[1]));
        Group([m0, q1, m2, q0])
    }
}

/// Round 10 and the packing: returns the group's 16 output words in stream order, blocks
/// (n, n+1) then (n+2, n+3).
#[inline(always)]
fn last_round(g: Group, c: &Consts) -> [__m256i; 2] {
    // SAFETY: see `splat`.
    unsafe {
        const R: usize = PHILOX_ROUNDS - 1;
        let [c0, c1, c2, c3] = g.0;
        let p0 = _mm256_mul_epu32(c0, c.m0);
        let p1 = _mm256_mul_epu32(c2, c.m1);
        // Swapping the halves of a product puts hi(p) in the low half, where it is xored into
        // output word 0 (or 2), and lo(p), output word 1 (or 3), in the high half.
        let zero = _mm256_setzero_si256();
        let x0 = _mm256_blend_epi32::<0b1010_1010>(_mm256_xor_si256(c1, c.k0[R]), zero);
        let x2 = _mm256_blend_epi32::<0b1010_1010>(_mm256_xor_si256(c3, c.k1[R]), zero);
        let words01 = _mm256_xor_si256(_mm256_shuffle_epi32::<0b1011_0001>(p1), x0);
        let words23 = _mm256_xor_si256(_mm256_shuffle_epi32::<0b1011_0001>(p0), x2);
        [
            _mm256_unpacklo_epi64(words01, words23),
            _mm256_unpackhi_epi64(words01, words23),
        ]
    }
}

/// Blocks `n .. n + 8` given `lanes` = (n, n+2, n+1, n+3) as 64-bit indices: 32 words in
/// stream order.
#[inline(always)]
fn step(lanes: __m256i, c: &Consts) -> [__m256i; 4] {
    let mut a = first_rounds(lanes, c);
    let mut b = first_rounds(add_lanes(lanes, splat(4)), c);
    for r in 2..PHILOX_ROUNDS - 1 {
        a = round(a, c, r);
        b = round(b, c, r);
    }
    let [a0, a1] = last_round(a, c);
    let [b0, b1] = last_round(b, c);
    [a0, a1, b0, b1]
}

/// Lane indices (n, n+2, n+1, n+3), wrapping past 2^64 - 1 like the block index.
#[inline(always)]
fn first_lanes(first_block: u64) -> __m256i {
    // SAFETY: see `splat`.
    unsafe {
        let n = |i: u64| first_block.wrapping_add(i) as i64;
        _mm256_set_epi64x(n(3), n(1), n(2), n(0))
    }
}

/// Blocks `first_block..` into `out`, eight at a time, the rest with the scalar definition.
#[inline(always)]
fn blocks(key: [u32; 2], counter_hi: [u32; 2], first_block: u64, out: &mut [[u32; 4]]) {
    let c = Consts::new(key, counter_hi);
    let eight = splat(STEP_BLOCKS as u32);
    let mut lanes = first_lanes(first_block);
    let done = (out.len() - out.len() % STEP_BLOCKS) as u64;
    let mut chunks = out.chunks_exact_mut(STEP_BLOCKS);
    for chunk in &mut chunks {
        let v = step(lanes, &c);
        let dst = chunk.as_mut_ptr().cast::<__m256i>();
        for (i, v) in v.into_iter().enumerate() {
            // SAFETY: `chunk` is 8 blocks = 128 bytes = four 32-byte stores; `storeu`
            // accepts any alignment.
            unsafe { _mm256_storeu_si256(dst.add(i), v) };
        }
        lanes = add_lanes(lanes, eight);
    }
    for (i, o) in chunks.into_remainder().iter_mut().enumerate() {
        let block = first_block.wrapping_add(done).wrapping_add(i as u64);
        *o = philox4x32_10(counter(block, counter_hi), key);
    }
}

/// Fills `out` (elements of `WORDS` words each) from blocks `first_block..`, calling `map`
/// on each step's eight blocks while they are still in registers, so no pass over a
/// staging buffer follows. A short last step computes all eight blocks and hands `map`
/// only the ones that cover its elements.
#[inline(always)]
fn fill_mapped<T, M: WordMap<T>, const WORDS: usize>(
    key: [u32; 2],
    counter_hi: [u32; 2],
    first_block: u64,
    out: &mut [T],
    map: &M,
) {
    let per_step = 4 * STEP_BLOCKS / WORDS;
    let c = Consts::new(key, counter_hi);
    let eight = splat(STEP_BLOCKS as u32);
    let mut lanes = first_lanes(first_block);
    let mut block = first_block;
    // Whole steps have constant lengths, so the mapping compiles to straight vector code
    // on the words as they come out of `step`.
    let mut pieces = out.chunks_exact_mut(per_step);
    for piece in &mut pieces {
        // SAFETY: four 32-byte vectors are 32 u32 words; every bit pattern is a valid u32.
        let words: [u32; 4 * STEP_BLOCKS] = unsafe { std::mem::transmute(step(lanes, &c)) };
        map.map(block, &words, piece);
        lanes = add_lanes(lanes, eight);
        block = block.wrapping_add(STEP_BLOCKS as u64);
    }
    let rest = pieces.into_remainder();
    if !rest.is_empty() {
        // SAFETY: as above.
        let words: [u32; 4 * STEP_BLOCKS] = unsafe { std::mem::transmute(step(lanes, &c)) };
        let blocks = (rest.len() * WORDS).div_ceil(4);
        map.map(block, &words[..4 * blocks], rest);
    }
}

macro_rules! level {
    ($blocks:ident, $fill:ident, $features:literal) => {
        /// [`blocks`] compiled for this level.
        ///
        /// # Safety
        /// The CPU must have the target features this function is compiled for.
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn $blocks(
            key: [u32; 2],
            counter_hi: [u32; 2],
            first_block: u64,
            out: &mut [[u32; 4]],
        ) {
            blocks(key, counter_hi, first_block, out)
        }

        /// [`fill_mapped`] compiled for this level; `words_per_element` is 1, 2 or 4.
        ///
        /// # Safety
        /// The CPU must have the target features this function is compiled for.
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn $fill<T, M: WordMap<T>>(
            key: [u32; 2],
            counter_hi: [u32; 2],
            first_block: u64,
            words_per_element: usize,
            out: &mut [T],
            map: &M,
        ) {
            match words_per_element {
                1 => fill_mapped::<T, M, 1>(key, counter_hi, first_block, out, map),
                2 => fill_mapped::<T, M, 2>(key, counter_hi, first_block, out, map),
                _ => fill_mapped::<T, M, 4>(key, counter_hi, first_block, out, map),
            }
        }
    };
}

level!(blocks_avx2, fill_mapped_avx2, "avx2");
level!(
    blocks_avx512,
    fill_mapped_avx512,
    "avx2,avx512f,avx512vl,avx512dq,avx512bw"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::philox::philox_blocks_scalar;

    type Blocks = unsafe fn([u32; 2], [u32; 2], u64, &mut [[u32; 4]]);

    /// The levels this CPU can run, with their kernels.
    fn kernels() -> Vec<(&'static str, Blocks)> {
        let mut k: Vec<(&'static str, Blocks)> = Vec::new();
        if crate::simd::SimdLevel::Avx2.is_supported() {
            k.push(("avx2", blocks_avx2));
        }
        if crate::simd::SimdLevel::Avx512.is_supported() {
            k.push(("avx512", blocks_avx512));
        }
        k
    }

    /// splitmix64, for test inputs only.
    fn mix(x: &mut u64) -> u64 {
        *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn check(name: &str, f: Blocks, key: [u32; 2], hi: [u32; 2], first: u64, len: usize) {
        let mut want = vec![[0u32; 4]; len];
        let mut got = vec![[0u32; 4]; len];
        philox_blocks_scalar(key, hi, first, &mut want);
        // SAFETY: `kernels` lists only levels the CPU supports.
        unsafe { f(key, hi, first, &mut got) };
        assert_eq!(got, want, "{name} key={key:x?} hi={hi:x?} first={first:#x} len={len}");
    }

    #[test]
    fn random123_kats_in_every_lane() {
        // Random123 tests/kat_vectors, "philox4x32 10": (counter, key, expected). The
        // counter's low two words are the block index, the high two the stream's words.
        let kats: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
            ([0; 4], [0; 2], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
            (
                [u32::MAX; 4],
                [u32::MAX; 2],
                [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
            ),
            (
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0],
                [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
            ),
        ];
        for (name, f) in kernels() {
            for (ctr, key, want) in kats {
                let block = u64::from(ctr[0]) | (u64::from(ctr[1]) << 32);
                // The KAT block at each of the 8 positions of a step, and in the scalar tail.
                for pos in 0..9u64 {
                    let mut out = [[0u32; 4]; 9];
                    let first = block.wrapping_sub(pos);
                    // SAFETY: `kernels` lists only levels the CPU supports.
                    unsafe { f(key, [ctr[2], ctr[3]], first, &mut out) };
                    assert_eq!(out[pos as usize], want, "{name} pos={pos}");
                }
            }
        }
    }

    #[test]
    fn equals_scalar_across_carries_wraps_and_tails() {
        let mut seed = 1u64;
        for (name, f) in kernels() {
            let keys = [[0, 0], [u32::MAX, u32::MAX], [0xdead_beef, 0x0123_4567]];
            let his = [[0, 0], [7, u32::MAX], [u32::MAX, 0]];
            // Starts where the low counter word carries into the high one inside a step,
            // where the 64-bit block index wraps to 0, and ordinary ones.
            let firsts = [
                0u64,
                1,
                0xFFFF_FFF9,
                0xFFFF_FFFC,
                0x1_FFFF_FFFF,
                u64::MAX - 40,
                u64::MAX - 7,
                u64::MAX - 2,
                u64::MAX,
            ];
            for key in keys {
                for hi in his {
                    for first in firsts {
                        for len in (0..=41).chain([1023, 4097]) {
                            check(name, f, key, hi, first, len);
                        }
                    }
                }
            }
            for _ in 0..2000 {
                let r = [mix(&mut seed), mix(&mut seed), mix(&mut seed)];
                let key = [r[0] as u32, (r[0] >> 32) as u32];
                let hi = [r[1] as u32, (r[1] >> 32) as u32];
                let len = (r[2] % 67) as usize;
                check(name, f, key, hi, mix(&mut seed), len);
            }
        }
    }

    /// Records, for each element, its absolute index (from the `block` argument) and a
    /// fold of its words, so that both are compared with the staged definition.
    struct Probe<const WORDS: usize>;

    impl<const WORDS: usize> WordMap<(u64, u64)> for Probe<WORDS> {
        fn map(&self, block: u64, w: &[u32], o: &mut [(u64, u64)]) {
            assert!(w.len() % 4 == 0 && w.len() >= o.len() * WORDS && w.len() < o.len() * WORDS + 4);
            let first = block.wrapping_mul((4 / WORDS) as u64);
            for (k, o) in o.iter_mut().enumerate() {
                let fold = w[k * WORDS..(k + 1) * WORDS]
                    .iter()
                    .fold(0u64, |a, &x| a.rotate_left(32) ^ u64::from(x));
                *o = (first.wrapping_add(k as u64), fold);
            }
        }
    }

    fn check_fused<const WORDS: usize>(key: [u32; 2], hi: [u32; 2], first: u64, len: usize) {
        let blocks = (len * WORDS).div_ceil(4);
        let mut words = vec![[0u32; 4]; blocks];
        philox_blocks_scalar(key, hi, first, &mut words);
        let mut want = vec![(0, 0); len];
        Probe::<WORDS>.map(first, words.as_flattened(), &mut want);
        let mut got = vec![(0, 0); len];
        if crate::simd::SimdLevel::Avx2.is_supported() {
            // SAFETY: the CPU has AVX2.
            unsafe { fill_mapped_avx2(key, hi, first, WORDS, &mut got, &Probe::<WORDS>) };
            assert_eq!(got, want, "avx2 words={WORDS} first={first:#x} len={len}");
        }
        if crate::simd::SimdLevel::Avx512.is_supported() {
            got.fill((0, 0));
            // SAFETY: the CPU has AVX-512 F/VL/DQ/BW.
            unsafe { fill_mapped_avx512(key, hi, first, WORDS, &mut got, &Probe::<WORDS>) };
            assert_eq!(got, want, "avx512 words={WORDS} first={first:#x} len={len}");
        }
    }

    #[test]
    fn fused_mapping_sees_the_staged_words_and_blocks() {
        let (key, hi) = ([0x0bad_cafe, 0x1357_9bdf], [3, u32::MAX]);
        for first in [0u64, 5, 0xFFFF_FFFB, u64::MAX - 20, u64::MAX] {
            for len in (0..=70).chain([1001, 4097]) {
                check_fused::<1>(key, hi, first, len);
                check_fused::<2>(key, hi, first, len);
                check_fused::<4>(key, hi, first, len);
            }
        }
    }
}
