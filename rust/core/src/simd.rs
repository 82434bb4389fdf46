//! Run-time choice of the widest SIMD level for the Philox batch. Every level computes the
//! same integer operations in the same order, so the bits never depend on the level; a
//! test forces each level and compares it with the scalar reference.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::fill::WordMap;
use crate::philox;
use crate::stream::PhiloxStream;

#[cfg(target_arch = "x86_64")]
mod philox_x86;

/// An instruction-set level for block generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdLevel {
    /// The scalar reference function, one block at a time.
    Scalar,
    /// Portable batched code compiled for the baseline target (SSE2 on x86-64, NEON on aarch64).
    Baseline,
    /// x86-64 AVX2.
    Avx2,
    /// x86-64 AVX-512 (F, VL, DQ, BW).
    Avx512,
}

impl SimdLevel {
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Baseline => "baseline",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            SimdLevel::Scalar,
            SimdLevel::Baseline,
            SimdLevel::Avx2,
            SimdLevel::Avx512,
        ]
        .into_iter()
        .find(|l| l.name() == name)
    }

    fn code(self) -> u8 {
        self as u8 + 1
    }

    fn from_code(c: u8) -> Option<Self> {
        match c {
            1 => Some(SimdLevel::Scalar),
            2 => Some(SimdLevel::Baseline),
            3 => Some(SimdLevel::Avx2),
            4 => Some(SimdLevel::Avx512),
            _ => None,
        }
    }

    /// Whether this CPU can run the level.
    pub fn is_supported(self) -> bool {
        match self {
            SimdLevel::Scalar | SimdLevel::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512bw")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// 0 means "not chosen yet": detect on first use.
static LEVEL: AtomicU8 = AtomicU8::new(0);

fn detect() -> SimdLevel {
    [SimdLevel::Avx512, SimdLevel::Avx2]
        .into_iter()
        .find(|l| l.is_supported())
        .unwrap_or(SimdLevel::Baseline)
}

/// The level in use: the widest this CPU supports unless [`set_simd_level`] chose another.
pub fn simd_level() -> SimdLevel {
    if let Some(level) = SimdLevel::from_code(LEVEL.load(Ordering::Relaxed)) {
        return level;
    }
    let level = detect();
    LEVEL.store(level.code(), Ordering::Relaxed);
    level
}

/// Forces a level (for tests and benchmarks). Returns false, changing nothing, when the CPU
/// lacks it. Output bits are the same at every level.
pub fn set_simd_level(level: SimdLevel) -> bool {
    if !level.is_supported() {
        return false;
    }
    LEVEL.store(level.code(), Ordering::Relaxed);
    true
}

/// Philox4x32-10 blocks `first_block..first_block + out.len()` at the current level.
pub fn philox_blocks(key: [u32; 2], counter_hi: [u32; 2], first_block: u64, out: &mut [[u32; 4]]) {
    match simd_level() {
        SimdLevel::Scalar => philox::philox_blocks_scalar(key, counter_hi, first_block, out),
        SimdLevel::Baseline => {
            philox::philox_blocks_generic::<16>(key, counter_hi, first_block, out)
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level is only ever set after `is_supported` confirmed the CPU has AVX2.
        SimdLevel::Avx2 => unsafe { philox_x86::blocks_avx2(key, counter_hi, first_block, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level is only ever set after `is_supported` confirmed AVX-512 F/VL/DQ/BW.
        SimdLevel::Avx512 => unsafe {
            philox_x86::blocks_avx512(key, counter_hi, first_block, out)
        },
        #[cfg(not(target_arch = "x86_64"))]
        _ => philox::philox_blocks_generic::<16>(key, counter_hi, first_block, out),
    }
}

/// Fills `out` from `stream`'s blocks `first_block..` with `map` applied inside the block
/// kernel, before the words leave the registers, where the current level has such a kernel
/// (AVX2 and AVX-512); returns false, writing nothing, at the other levels. The bits are
/// those of the staged path: the same `map` sees the same words and block indices.
pub fn fill_philox_mapped<T, M: WordMap<T>>(
    stream: &PhiloxStream,
    first_block: u64,
    words_per_element: usize,
    out: &mut [T],
    map: &M,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let (key, hi) = (stream.key, stream.counter_hi);
        match simd_level() {
            // SAFETY: the level is only ever set after `is_supported` confirmed AVX2.
            SimdLevel::Avx2 => unsafe {
                philox_x86::fill_mapped_avx2(key, hi, first_block, words_per_element, out, map);
                true
            },
            // SAFETY: the level is only ever set after `is_supported` confirmed AVX-512
            // F/VL/DQ/BW (which imply AVX2).
            SimdLevel::Avx512 => unsafe {
                philox_x86::fill_mapped_avx512(key, hi, first_block, words_per_element, out, map);
                true
            },
            _ => false,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        // The portable batched path (NEON on aarch64) stays staged.
        let _ = (stream, first_block, words_per_element, out, map);
        false
    }
}

/// Rounds binary32 values to binary16 bit patterns, to nearest with ties to even.
///
/// At the AVX2 and AVX-512 levels this uses the F16C conversion instruction, eight lanes at
/// a time, when the CPU has it (every AVX2 CPU does); at the scalar and baseline levels it
/// uses `half`'s software rounding. Both are IEEE round-to-nearest-even, so the bits are
/// the same, and forcing a level in the tests compares the two.
pub fn f32_to_f16_bits(src: &[f32], dst: &mut [u16]) {
    #[cfg(target_arch = "x86_64")]
    {
        static F16C: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let wide = matches!(simd_level(), SimdLevel::Avx2 | SimdLevel::Avx512);
        if wide && *F16C.get_or_init(|| std::arch::is_x86_feature_detected!("f16c")) {
            // SAFETY: the CPU has AVX (implied by the AVX2 / AVX-512 level) and F16C.
            unsafe { f32_to_f16_bits_f16c(src, dst) };
            return;
        }
    }
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = half::f16::from_f32_const(s).to_bits();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,f16c")]
unsafe fn f32_to_f16_bits_f16c(src: &[f32], dst: &mut [u16]) {
    use std::arch::x86_64::{
        _mm256_cvtps_ph, _mm256_loadu_ps, _mm_storeu_si128, _MM_FROUND_TO_NEAREST_INT,
    };
    let n = src.len().min(dst.len());
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n bounds both the 8-float load and the 8-u16 (16-byte) store;
        // both intrinsics accept unaligned addresses.
        unsafe {
            let v = _mm256_loadu_ps(src.as_ptr().add(i));
            let h = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(v);
            _mm_storeu_si128(dst.as_mut_ptr().add(i).cast(), h);
        }
        i += 8;
    }
    for (d, &s) in dst[i..n].iter_mut().zip(&src[i..n]) {
        *d = half::f16::from_f32_const(s).to_bits();
    }
}
