//! Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3",
//! SC 2011), bit-identical to Random123's `philox4x32_R(10, ctr, key)`.
//!
//! Spec: docs/spec.md#philox4x32-10. The scalar function is the reference; the batched
//! function computes the same bits with each 32-bit word held in a u64 lane so that the
//! 32x32->64 multiplies vectorise (`vpmuludq`) on every x86 SIMD level.

#![forbid(unsafe_code)]

pub const PHILOX_M0: u32 = 0xD251_1F53; // Random123 PHILOX_M4x32_0
pub const PHILOX_M1: u32 = 0xCD9E_8D57; // Random123 PHILOX_M4x32_1
pub const PHILOX_W0: u32 = 0x9E37_79B9; // Random123 PHILOX_W32_0, golden ratio
pub const PHILOX_W1: u32 = 0xBB67_AE85; // Random123 PHILOX_W32_1, sqrt(3) - 1

/// Number of rounds of the Philox variant used everywhere in seedstream.
pub const PHILOX_ROUNDS: usize = 10;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

#[inline(always)]
fn round(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (hi0, lo0) = mulhilo(PHILOX_M0, ctr[0]);
    let (hi1, lo1) = mulhilo(PHILOX_M1, ctr[2]);
    [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0]
}

/// The Philox4x32-10 block function: 128-bit counter and 64-bit key to 128 output bits.
///
/// Word 0 of `counter` is the least significant. Same inputs, same output, on every platform.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut ctr = counter;
    let mut k = key;
    for r in 0..PHILOX_ROUNDS {
        if r > 0 {
            k = [k[0].wrapping_add(PHILOX_W0), k[1].wrapping_add(PHILOX_W1)];
        }
        ctr = round(ctr, k);
    }
    ctr
}

/// Computes `L` consecutive blocks `first_block, first_block + 1, ...` of one stream.
///
/// `key` is the Philox key, `counter_hi` the upper two counter words; the block index fills
/// the lower two (word 0 = low 32 bits). `out.len()` must equal `L`.
#[inline(always)]
pub(crate) fn philox_batch<const L: usize>(
    key: [u32; 2],
    counter_hi: [u32; 2],
    first_block: u64,
    out: &mut [[u32; 4]],
) {
    const LO: u64 = 0xFFFF_FFFF;
    let (m0, m1) = (u64::from(PHILOX_M0), u64::from(PHILOX_M1));
    let mut c0 = [0u64; L];
    let mut c1 = [0u64; L];
    let mut c2 = [0u64; L];
    let mut c3 = [0u64; L];
    for l in 0..L {
        let n = first_block.wrapping_add(l as u64);
        c0[l] = n & LO;
        c1[l] = n >> 32;
        c2[l] = u64::from(counter_hi[0]);
        c3[l] = u64::from(counter_hi[1]);
    }
    let mut k = key;
    for r in 0..PHILOX_ROUNDS {
        if r > 0 {
            k = [k[0].wrapping_add(PHILOX_W0), k[1].wrapping_add(PHILOX_W1)];
        }
        let (k0, k1) = (u64::from(k[0]), u64::from(k[1]));
        for l in 0..L {
            // Only the low 32 bits of each lane are meaningful. The masks sit at the
            // multiplies, where `vpmuludq` ignores the high half anyway, so they cost nothing.
            let p0 = (c0[l] & LO) * m0;
            let p1 = (c2[l] & LO) * m1;
            let n0 = (p1 >> 32) ^ c1[l] ^ k0;
            let n2 = (p0 >> 32) ^ c3[l] ^ k1;
            c0[l] = n0;
            c1[l] = p1;
            c2[l] = n2;
            c3[l] = p0;
        }
    }
    // Pair the words into little-endian u64s first: a 2-way interleave of 64-bit lanes is
    // cheaper than a 4-way one of 32-bit lanes.
    let mut lo = [0u64; L];
    let mut hi = [0u64; L];
    for l in 0..L {
        lo[l] = (c0[l] & LO) | (c1[l] << 32);
        hi[l] = (c2[l] & LO) | (c3[l] << 32);
    }
    for (l, o) in out.iter_mut().enumerate().take(L) {
        *o = [
            lo[l] as u32,
            (lo[l] >> 32) as u32,
            hi[l] as u32,
            (hi[l] >> 32) as u32,
        ];
    }
}

/// Fills `out` with blocks `first_block..` using the batched form with `L` lanes and the
/// scalar reference for the tail.
#[inline(always)]
pub(crate) fn philox_blocks_generic<const L: usize>(
    key: [u32; 2],
    counter_hi: [u32; 2],
    first_block: u64,
    out: &mut [[u32; 4]],
) {
    let mut block = first_block;
    let mut chunks = out.chunks_exact_mut(L);
    for chunk in &mut chunks {
        philox_batch::<L>(key, counter_hi, block, chunk);
        block = block.wrapping_add(L as u64);
    }
    for o in chunks.into_remainder() {
        *o = philox4x32_10(counter(block, counter_hi), key);
        block = block.wrapping_add(1);
    }
}

/// The counter of block `block` of a stream whose upper counter words are `counter_hi`.
#[inline(always)]
pub fn counter(block: u64, counter_hi: [u32; 2]) -> [u32; 4] {
    [
        block as u32,
        (block >> 32) as u32,
        counter_hi[0],
        counter_hi[1],
    ]
}

/// Fills `out` block by block with the scalar reference function.
pub fn philox_blocks_scalar(
    key: [u32; 2],
    counter_hi: [u32; 2],
    first_block: u64,
    out: &mut [[u32; 4]],
) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = philox4x32_10(counter(first_block.wrapping_add(i as u64), counter_hi), key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_random123_kat_rounds_10() {
        // Random123 tests/kat_vectors, the three "philox4x32 10" lines (counter, key, expected).
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn batched_equals_scalar_on_awkward_lengths() {
        let key = [0xdead_beef, 0x0123_4567];
        let hi = [7, 0xffff_ffff];
        for &first in &[0u64, 1, 0xffff_fff0, u64::MAX - 40] {
            for &len in &[0usize, 1, 3, 4, 5, 31, 32, 33, 1023, 4097] {
                let mut a = vec![[0u32; 4]; len];
                let mut b = vec![[0u32; 4]; len];
                philox_blocks_scalar(key, hi, first, &mut a);
                philox_blocks_generic::<16>(key, hi, first, &mut b);
                assert_eq!(a, b, "first={first} len={len}");
                philox_blocks_generic::<32>(key, hi, first, &mut b);
                assert_eq!(a, b, "first={first} len={len}");
            }
        }
    }
}
