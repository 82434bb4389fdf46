//! Raw bits. Spec: docs/spec.md#bits-v1.

#![forbid(unsafe_code)]

use crate::fill::{fill_elements, WordMap};
use crate::stream::BlockFn;

pub const WORDS_U32: usize = 1;
pub const WORDS_U64: usize = 2;

/// Element `i` is word `i`.
pub struct BitsU32Map;

impl WordMap<u32> for BitsU32Map {
    const FUSE: bool = true;
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [u32]) {
        o.copy_from_slice(&w[..o.len()]);
    }
}

/// Element `i` is `word(2i) | word(2i + 1) << 32`.
pub struct BitsU64Map;

impl WordMap<u64> for BitsU64Map {
    const FUSE: bool = true;
    #[inline(always)]
    fn map(&self, _block: u64, w: &[u32], o: &mut [u64]) {
        for (o, p) in o.iter_mut().zip(w.chunks_exact(2)) {
            *o = join_u64(p[0], p[1]);
        }
    }
}

pub fn fill_u32<B: BlockFn>(src: &B, first_block: u64, out: &mut [u32]) {
    fill_elements(src, first_block, WORDS_U32, out, &BitsU32Map);
}

pub fn fill_u64<B: BlockFn>(src: &B, first_block: u64, out: &mut [u64]) {
    fill_elements(src, first_block, WORDS_U64, out, &BitsU64Map);
}

#[inline(always)]
pub fn join_u64(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}
