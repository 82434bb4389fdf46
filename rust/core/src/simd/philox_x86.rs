//! Hand-scheduled Philox4x32-10 for x86-64 AVX2 and AVX-512. The scalar
//! `philox::philox4x32_10` is the definition; this computes the same integer operations on
//! many blocks at a time, and tests compare it with the definition block by block.
//!
//! Layout: each 32-bit counter word of a block sits in a 64-bit lane, so one `vpmuludq`
//! gives the high and the low half of a product: four blocks per 256-bit register, eight
//! per 512-bit one. A step runs independent groups of blocks side by side so that the
//! multiplies' latency is hidden: two groups with AVX2, the most that keep every value in
//! 16 registers (a third spills one each round; on a Zen 5 core held to AVX2 it was still
//! about 10% faster, but this level is for AVX2-only CPUs, which were not measured), and
//! four with AVX-512 (32 registers; on Zen 5 two were about 15% slower, six no faster).
//! The lanes of a group are ordered so that two in-lane unpacks leave the output words in
//! stream order, with no cross-lane permute. The upper counter words are the same for
//! every block, which folds most of round 1 into constants; round 10 is merged with the
//! packing of the output words. With AVX-512 the compiler merges each pair of xors into
//! one `vpternlogq`.

use crate::fill::WordMap;
use crate::philox::{PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1};

/// The vector operations the kernel needs, on 64-bit lanes that each hold one block's word
/// in their low half.
///
/// # Safety
/// Implementations use instructions of one target feature level; the functions may only be
/// reached from code compiled with that level (the `level!` wrappers below), after the CPU
/// was found to have it.
unsafe trait Lanes: Copy {
    /// Blocks per register.
    const BLOCKS: usize;
    /// `x` zero-extended into every 64-bit lane.
    fn splat(x: u32) -> Self;
    /// The lanes' block indices for a group whose first block is `n`, in the lane order
    /// that [`Lanes::unpack`] turns into stream order; 64-bit wrapping like the block index.
    fn first_lanes(n: u64) -> Self;
    fn add(a: Self, b: Self) -> Self;
    /// Low half of `a` times low half of `b`, the full 64-bit product (`vpmuludq`).
    fn mul(a: Self, b: Self) -> Self;
    /// The high half moved to the low half, zeros above.
    fn hi(a: Self) -> Self;
    fn xor(a: Self, b: Self) -> Self;
    /// The two halves of each lane swapped.
    fn swap_halves(a: Self) -> Self;
    /// The high half of each lane cleared.
    fn low_halves(a: Self) -> Self;
    /// Interleaves lane pairs (words 0-1 of a block, words 2-3 of the same block) into two
    /// registers of whole blocks in stream order.
    fn unpack(w01: Self, w23: Self) -> [Self; 2];
}

mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi64, _mm256_blend_epi32, _mm256_mul_epu32, _mm256_set1_epi64x,
        _mm256_set_epi64x, _mm256_setzero_si256, _mm256_shuffle_epi32, _mm256_srli_epi64,
        _mm256_unpackhi_epi64, _mm256_unpacklo_epi64, _mm256_xor_si256,
    };

    // SAFETY: AVX2 instructions only; see the trait's contract. Every `unsafe` block below
    // relies on it: the caller was compiled with AVX2 and the CPU has it.
    unsafe impl super::Lanes for __m256i {
        const BLOCKS: usize = 4;
        #[inline(always)]
        fn splat(x: u32) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm256_set1_epi64x(i64::from(x)) }
        }
        /// Lanes (n, n+2, n+1, n+3): the in-lane unpacks then give blocks (n, n+1) and
        /// (n+2, n+3).
        #[inline(always)]
        fn first_lanes(n: u64) -> Self {
            let b = |i: u64| n.wrapping_add(i) as i64;
            // SAFETY: see the impl.
            unsafe { _mm256_set_epi64x(b(3), b(1), b(2), b(0)) }
        }
        #[inline(always)]
        fn add(a: Self, b: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm256_add_epi64(a, b) }
        }
        #[inline(always)]
        fn mul(a: Self, b: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm256_mul_epu32(a, b) }
        }
        #[inline(always)]
        fn hi(a: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm256_srli_epi64::<32>(a) }
        }
        #[inline(always)]
        fn xor(a: Self, b: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm256_xor_si256(a, b) }
        }
        #[inline(always)]
        fn swap_halves(a: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm256_shuffle_epi32::<0b1011_0001>(a) }
        }
        #[inline(always)]
        fn low_halves(a: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm256_blend_epi32::<0b1010_1010>(a, _mm256_setzero_si256()) }
        }
        #[inline(always)]
        fn unpack(w01: Self, w23: Self) -> [Self; 2] {
            // SAFETY: see the impl.
            unsafe {
                [
                    _mm256_unpacklo_epi64(w01, w23),
                    _mm256_unpackhi_epi64(w01, w23),
                ]
            }
        }
    }
}

mod avx512 {
    use std::arch::x86_64::{
        __m512i, _mm512_add_epi64, _mm512_maskz_mov_epi32, _mm512_mul_epu32, _mm512_set1_epi64,
        _mm512_set_epi64, _mm512_shuffle_epi32, _mm512_srli_epi64, _mm512_unpackhi_epi64,
        _mm512_unpacklo_epi64, _mm512_xor_si512, _MM_PERM_CDAB,
    };

    // SAFETY: AVX-512F instructions only; see the trait's contract. Every `unsafe` block
    // below relies on it: the caller was compiled with AVX-512F and the CPU has it.
    unsafe impl super::Lanes for __m512i {
        const BLOCKS: usize = 8;
        #[inline(always)]
        fn splat(x: u32) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm512_set1_epi64(i64::from(x)) }
        }
        /// Lanes (n, n+4, n+1, n+5, n+2, n+6, n+3, n+7): the in-lane unpacks then give
        /// blocks n..n+3 and n+4..n+7.
        #[inline(always)]
        fn first_lanes(n: u64) -> Self {
            let b = |i: u64| n.wrapping_add(i) as i64;
            // SAFETY: see the impl.
            unsafe { _mm512_set_epi64(b(7), b(3), b(6), b(2), b(5), b(1), b(4), b(0)) }
        }
        #[inline(always)]
        fn add(a: Self, b: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm512_add_epi64(a, b) }
        }
        #[inline(always)]
        fn mul(a: Self, b: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm512_mul_epu32(a, b) }
        }
        #[inline(always)]
        fn hi(a: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm512_srli_epi64::<32>(a) }
        }
        #[inline(always)]
        fn xor(a: Self, b: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm512_xor_si512(a, b) }
        }
        #[inline(always)]
        fn swap_halves(a: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm512_shuffle_epi32::<_MM_PERM_CDAB>(a) }
        }
        #[inline(always)]
        fn low_halves(a: Self) -> Self {
            // SAFETY: see the impl.
            unsafe { _mm512_maskz_mov_epi32(0x5555, a) }
        }
        #[inline(always)]
        fn unpack(w01: Self, w23: Self) -> [Self; 2] {
            // SAFETY: see the impl.
            unsafe {
                [
                    _mm512_unpacklo_epi64(w01, w23),
                    _mm512_unpackhi_epi64(w01, w23),
                ]
            }
        }
    }
}

/// Everything that does not depend on the block index, computed once per call.
struct Consts<V> {
    m0: V,
    m1: V,
    /// Round 1: word 0 becomes `c1 ^ r1_w0`, word 1 a constant, word 2 `hi(p0) ^ r1_w2`
    /// (the upper counter words and round key 0 folded in).
    r1_w0: V,
    r1_w2: V,
    /// Round 2: word 0 becomes `hi(p1) ^ r2_w0`, the round-1 constant word 1 and round
    /// key 1 folded together.
    r2_w0: V,
    /// Round keys, word 0 and word 1 (round 1's are folded above).
    k0: [V; PHILOX_ROUNDS],
    k1: [V; PHILOX_ROUNDS],
}

impl<V: Lanes> Consts<V> {
    #[inline(always)]
    fn new(key: [u32; 2], counter_hi: [u32; 2]) -> Consts<V> {
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
            m0: V::splat(PHILOX_M0),
            m1: V::splat(PHILOX_M1),
            r1_w0: V::splat(p1_hi ^ k0[0]),
            r1_w2: V::splat(counter_hi[1] ^ k1[0]),
            r2_w0: V::splat(p1_lo ^ k0[1]),
            k0: splat_all(k0),
            k1: splat_all(k1),
        }
    }
}

// Loops rather than `array::map`: a closure passed to std is compiled without the
// caller's target features and would not inline the vector code.
#[inline(always)]
fn splat_all<V: Lanes>(x: [u32; PHILOX_ROUNDS]) -> [V; PHILOX_ROUNDS] {
    let mut v = [V::splat(0); PHILOX_ROUNDS];
    for (v, &x) in v.iter_mut().zip(&x) {
        *v = V::splat(x);
    }
    v
}

/// One group's four counter words, each in the low half of a 64-bit lane; the high halves
/// hold leftovers that `vpmuludq` ignores and the output packing drops.
#[derive(Clone, Copy)]
struct Group<V>([V; 4]);

/// A Philox round on every lane: the 64-bit-lane form of `philox::round`.
#[inline(always)]
fn round<V: Lanes>(g: Group<V>, c: &Consts<V>, r: usize) -> Group<V> {
    let [c0, c1, c2, c3] = g.0;
    let p0 = V::mul(c0, c.m0);
    let p1 = V::mul(c2, c.m1);
    // c1 ^ k0 does not wait for the multiply.
    let n0 = V::xor(V::hi(p1), V::xor(c1, c.k0[r]));
    let n2 = V::xor(V::hi(p0), V::xor(c3, c.k1[r]));
    Group([n0, p1, n2, p0])
}

/// Rounds 1 and 2 with the constant counter words folded in. `blocks` holds the lanes'
/// 64-bit block indices (counter words 0 and 1).
#[inline(always)]
fn first_rounds<V: Lanes>(blocks: V, c: &Consts<V>) -> Group<V> {
    // Round 1: counter words 2 and 3 are constants.
    let p0 = V::mul(blocks, c.m0);
    let n0 = V::xor(V::hi(blocks), c.r1_w0);
    let n2 = V::xor(V::hi(p0), c.r1_w2);
    // Round 2: word 1 is the constant low product of round 1.
    let q0 = V::mul(n0, c.m0);
    let q1 = V::mul(n2, c.m1);
    let m0 = V::xor(V::hi(q1), c.r2_w0);
    let m2 = V::xor(V::hi(q0), V::xor(p0, c.k1[1]));
    Group([m0, q1, m2, q0])
}

/// Round 10 and the packing: the group's output words in stream order, in two registers.
#[inline(always)]
fn last_round<V: Lanes>(g: Group<V>, c: &Consts<V>) -> [V; 2] {
    const R: usize = PHILOX_ROUNDS - 1;
    let [c0, c1, c2, c3] = g.0;
    let p0 = V::mul(c0, c.m0);
    let p1 = V::mul(c2, c.m1);
    // Swapping the halves of a product puts hi(p) in the low half, where it is xored into
    // output word 0 (or 2), and lo(p), output word 1 (or 3), in the high half.
    let x0 = V::low_halves(V::xor(c1, c.k0[R]));
    let x2 = V::low_halves(V::xor(c3, c.k1[R]));
    V::unpack(
        V::xor(V::swap_halves(p1), x0),
        V::xor(V::swap_halves(p0), x2),
    )
}

/// Blocks `n .. n + G * V::BLOCKS`, given `lanes` = `V::first_lanes(n)`: the output words
/// in stream order.
#[inline(always)]
fn step<V: Lanes, const G: usize>(lanes: V, c: &Consts<V>) -> [[V; 2]; G] {
    let mut groups = [Group([lanes; 4]); G];
    let mut offset = lanes;
    let width = V::splat(V::BLOCKS as u32);
    for g in groups.iter_mut() {
        *g = first_rounds(offset, c);
        offset = V::add(offset, width);
    }
    for r in 2..PHILOX_ROUNDS - 1 {
        for g in groups.iter_mut() {
            *g = round(*g, c, r);
        }
    }
    let mut out = [[lanes; 2]; G];
    for (o, g) in out.iter_mut().zip(&groups) {
        *o = last_round(*g, c);
    }
    out
}

/// Blocks `first_block..` into `out`, a step at a time.
#[inline(always)]
fn blocks<V: Lanes, const G: usize>(
    key: [u32; 2],
    counter_hi: [u32; 2],
    first_block: u64,
    out: &mut [[u32; 4]],
) {
    let step_blocks = G * V::BLOCKS;
    let c = Consts::<V>::new(key, counter_hi);
    let advance = V::splat(step_blocks as u32);
    let mut lanes = V::first_lanes(first_block);
    let mut chunks = out.chunks_exact_mut(step_blocks);
    for chunk in &mut chunks {
        let v = step::<V, G>(lanes, &c);
        // SAFETY: `chunk` holds G * BLOCKS blocks of 16 bytes, the size of `v`; an
        // unaligned copy of plain integers.
        unsafe { chunk.as_mut_ptr().cast::<[[V; 2]; G]>().write_unaligned(v) };
        lanes = V::add(lanes, advance);
    }
    // A short tail: one more whole step, of which only the first blocks are kept.
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let v = step::<V, G>(lanes, &c);
        let n = 4 * rest.len();
        rest.as_flattened_mut().copy_from_slice(&words(&v)[..n]);
    }
}

/// Fills `out` (elements of `WORDS` words each) from blocks `first_block..`, calling `map`
/// on each step's blocks while they are still in registers, so no pass over a staging
/// buffer follows. A short last step computes a whole step and hands `map` only the blocks
/// that cover its elements.
///
/// Ordinary stores, at every size: non-temporal stores through a one-step buffer gave the
/// same bits but no gain at 10^8 elements on a 2-core Zen 5 with AVX-512 (two threads run
/// this kernel at about the rate their ordinary stores reach memory) and cost one thread
/// about 5% with float32.
#[inline(always)]
fn fill_mapped<V: Lanes, const G: usize, T, M: WordMap<T>, const WORDS: usize>(
    key: [u32; 2],
    counter_hi: [u32; 2],
    first_block: u64,
    out: &mut [T],
    map: &M,
) {
    let step_blocks = G * V::BLOCKS;
    let per_step = 4 * step_blocks / WORDS;
    let c = Consts::<V>::new(key, counter_hi);
    let advance = V::splat(step_blocks as u32);
    let mut lanes = V::first_lanes(first_block);
    let mut block = first_block;
    // Whole steps have constant lengths, so the mapping compiles to straight vector code
    // on the words as they come out of `step`.
    let mut pieces = out.chunks_exact_mut(per_step);
    for piece in &mut pieces {
        let v = step::<V, G>(lanes, &c);
        if WORDS == 2 && M::PAIRS {
            map.map_pairs(block, pairs(&v), piece);
        } else {
            map.map(block, words(&v), piece);
        }
        lanes = V::add(lanes, advance);
        block = block.wrapping_add(step_blocks as u64);
    }
    let rest = pieces.into_remainder();
    if !rest.is_empty() {
        let v = step::<V, G>(lanes, &c);
        let blocks = (rest.len() * WORDS).div_ceil(4);
        if WORDS == 2 && M::PAIRS {
            map.map_pairs(block, &pairs(&v)[..2 * blocks], rest);
        } else {
            map.map(block, &words(&v)[..4 * blocks], rest);
        }
    }
}

/// A step's output as its words in stream order.
#[inline(always)]
fn words<V: Lanes, const G: usize>(v: &[[V; 2]; G]) -> &[u32] {
    // SAFETY: the vectors are 4 * G * BLOCKS plain u32 words, 4-byte aligned or better,
    // borrowed for the lifetime of `v`.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u32>(), 4 * G * V::BLOCKS) }
}

/// A step's output as two-word values in stream order: value `k` is
/// `join_u64(word 2k, word 2k + 1)` (x86-64 is little-endian).
#[inline(always)]
fn pairs<V: Lanes, const G: usize>(v: &[[V; 2]; G]) -> &[u64] {
    // SAFETY: the vectors are 2 * G * BLOCKS plain u64 values, 8-byte aligned or better,
    // borrowed for the lifetime of `v`.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u64>(), 2 * G * V::BLOCKS) }
}

macro_rules! level {
    ($blocks:ident, $fill:ident, $features:literal, $v:ty, $groups:literal) => {
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
            blocks::<$v, $groups>(key, counter_hi, first_block, out)
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
                1 => fill_mapped::<$v, $groups, T, M, 1>(key, counter_hi, first_block, out, map),
                2 => fill_mapped::<$v, $groups, T, M, 2>(key, counter_hi, first_block, out, map),
                _ => fill_mapped::<$v, $groups, T, M, 4>(key, counter_hi, first_block, out, map),
            }
        }
    };
}

level!(
    blocks_avx2,
    fill_mapped_avx2,
    "avx2",
    std::arch::x86_64::__m256i,
    2
);
level!(
    blocks_avx512,
    fill_mapped_avx512,
    "avx2,avx512f,avx512vl,avx512dq,avx512bw",
    std::arch::x86_64::__m512i,
    4
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
        assert_eq!(
            got, want,
            "{name} key={key:x?} hi={hi:x?} first={first:#x} len={len}"
        );
    }

    #[test]
    fn random123_kats_in_every_lane() {
        // Random123 tests/kat_vectors, "philox4x32 10": (counter, key, expected). The
        // counter's low two words are the block index, the high two the stream's words.
        let kats: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
            (
                [0; 4],
                [0; 2],
                [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
            ),
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
                // The KAT block at every position of a step (up to 32 blocks), of a
                // second step, and of a short tail.
                for pos in 0..69u64 {
                    let mut out = [[0u32; 4]; 69];
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
                        for len in (0..=70).chain([1023, 4097]) {
                            check(name, f, key, hi, first, len);
                        }
                    }
                }
            }
            for _ in 0..2000 {
                let r = [mix(&mut seed), mix(&mut seed), mix(&mut seed)];
                let key = [r[0] as u32, (r[0] >> 32) as u32];
                let hi = [r[1] as u32, (r[1] >> 32) as u32];
                let len = (r[2] % 200) as usize;
                check(name, f, key, hi, mix(&mut seed), len);
            }
        }
    }

    /// Records, for each element, its absolute index (from the `block` argument) and a
    /// fold of its words, so that both are compared with the staged definition.
    struct Probe<const WORDS: usize>;

    impl<const WORDS: usize> WordMap<(u64, u64)> for Probe<WORDS> {
        fn map(&self, block: u64, w: &[u32], o: &mut [(u64, u64)]) {
            assert!(w.len().is_multiple_of(4) && w.len() >= o.len() * WORDS);
            assert!(w.len() < o.len() * WORDS + 4);
            let first = block.wrapping_mul((4 / WORDS) as u64);
            for (k, o) in o.iter_mut().enumerate() {
                let fold = w[k * WORDS..(k + 1) * WORDS]
                    .iter()
                    .fold(0u64, |a, &x| a.rotate_left(32) ^ u64::from(x));
                *o = (first.wrapping_add(k as u64), fold);
            }
        }
    }

    /// [`Probe`] of two-word elements through `map_pairs`: the same records.
    struct PairProbe;

    impl WordMap<(u64, u64)> for PairProbe {
        const PAIRS: bool = true;
        fn map(&self, _block: u64, _w: &[u32], _o: &mut [(u64, u64)]) {
            unreachable!("the fused kernel calls map_pairs");
        }
        fn map_pairs(&self, block: u64, p: &[u64], o: &mut [(u64, u64)]) {
            assert!(p.len().is_multiple_of(2) && p.len() >= o.len());
            assert!(p.len() < o.len() + 2);
            let first = block.wrapping_mul(2);
            for (k, o) in o.iter_mut().enumerate() {
                // Probe's fold of words (a, b) is a << 32 ^ b; the pair is a | b << 32.
                *o = (first.wrapping_add(k as u64), p[k].rotate_left(32));
            }
        }
    }

    fn check_fused<const WORDS: usize, M: WordMap<(u64, u64)>>(
        probe: &M,
        key: [u32; 2],
        hi: [u32; 2],
        first: u64,
        len: usize,
    ) {
        let blocks = (len * WORDS).div_ceil(4);
        let mut words = vec![[0u32; 4]; blocks];
        philox_blocks_scalar(key, hi, first, &mut words);
        let mut want = vec![(0, 0); len];
        Probe::<WORDS>.map(first, words.as_flattened(), &mut want);
        let mut got = vec![(0, 0); len];
        if crate::simd::SimdLevel::Avx2.is_supported() {
            // SAFETY: the CPU has AVX2.
            unsafe { fill_mapped_avx2(key, hi, first, WORDS, &mut got, probe) };
            assert_eq!(got, want, "avx2 words={WORDS} first={first:#x} len={len}");
        }
        if crate::simd::SimdLevel::Avx512.is_supported() {
            got.fill((0, 0));
            // SAFETY: the CPU has AVX-512 F/VL/DQ/BW.
            unsafe { fill_mapped_avx512(key, hi, first, WORDS, &mut got, probe) };
            assert_eq!(got, want, "avx512 words={WORDS} first={first:#x} len={len}");
        }
    }

    #[test]
    fn fused_mapping_sees_the_staged_words_and_blocks() {
        let (key, hi) = ([0x0bad_cafe, 0x1357_9bdf], [3, u32::MAX]);
        for first in [0u64, 5, 0xFFFF_FFFB, u64::MAX - 20, u64::MAX] {
            for len in (0..=70).chain([1001, 4097]) {
                check_fused::<1, _>(&Probe::<1>, key, hi, first, len);
                check_fused::<2, _>(&Probe::<2>, key, hi, first, len);
                check_fused::<2, _>(&PairProbe, key, hi, first, len);
                check_fused::<4, _>(&Probe::<4>, key, hi, first, len);
            }
        }
    }
}
