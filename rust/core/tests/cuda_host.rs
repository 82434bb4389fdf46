//! The CUDA source compiled as host C++ and compared bit for bit with the CPU fills.
//!
//! `seedstream_core::cuda::source()` (the exact text NVRTC compiles) is built with the
//! system C++ compiler, contraction off, behind a small shim that defines `blockIdx`,
//! `threadIdx` and `__global__`, and runs every kernel's launch loop on the host. That checks
//! the per-element math and the kernels' indexing, tails and vector stores. What it cannot
//! check is the GPU compiler's code generation: `tests/cuda/test_nvrtc.py` checks the PTX
//! holds no contracted or approximate float operation, and `benches/gpu_check.py` compares a
//! real GPU with the CPU.
//!
//! Exhaustive sweeps are `#[ignore]`d (minutes); `pytest -m slow` runs them.

use std::path::PathBuf;
use std::process::Command;

use half::{bf16, f16};
use libloading::{Library, Symbol};
use seedstream_core::cuda::{self, Draw, IntType, KernelArgs};
use seedstream_core::detmath::{cos_sin_octant_f32, cos_sin_octant_f64, ln_f32, ln_f64};
use seedstream_core::distr::float::{FloatFormat, FloatSlice};
use seedstream_core::distr::normal::{box_muller_f32, box_muller_f64, Normal};
use seedstream_core::distr::sample_dropout::{
    self, fill_kernel_table, kernel_table_words, sample_part,
};
use seedstream_core::distr::truncated_normal::TruncatedNormal;
use seedstream_core::distr::uniform::UniformRange;
use seedstream_core::distr::{bernoulli, dropout, integers};
use seedstream_core::stream::PhiloxStream;
use seedstream_core::{Algorithm, Key, Name};

const SHIM: &str = r#"
#define __host__
#define __device__
#define __global__
#define __forceinline__ inline
struct ss_dim3 { unsigned x, y, z; };
static thread_local ss_dim3 blockIdx, threadIdx, blockDim, gridDim;  // tests run in parallel
"#;

const HOST_API: &str = r#"
typedef void (*ss_kernel)(const ss_args);
struct ss_entry { const char* name; ss_kernel kernel; };
#define SS_ENTRY(name, body) {#name, name},
static const ss_entry ss_table[] = { SS_KERNELS(SS_ENTRY) };

// Runs every thread of a grid of `grid` blocks of `block` threads, one after the other.
extern "C" int ss_host_launch(const char* name, unsigned grid, unsigned block, const ss_args* a) {
    for (const ss_entry& e : ss_table) {
        if (__builtin_strcmp(e.name, name) != 0) continue;
        gridDim = {grid, 1, 1};
        blockDim = {block, 1, 1};
        for (unsigned b = 0; b < grid; ++b)
            for (unsigned t = 0; t < block; ++t) {
                blockIdx = {b, 0, 0};
                threadIdx = {t, 0, 0};
                e.kernel(*a);
            }
        return 0;
    }
    return -1;
}

// Per-element functions over arrays of 64-bit words (results as bit patterns).
extern "C" void ss_host_map(int which, const ss_u64* x, const ss_u64* y, ss_u64 n,
                            ss_u64* r0, ss_u64* r1) {
    for (ss_u64 i = 0; i < n; ++i) {
        float f0 = 0, f1 = 0;
        double d0 = 0, d1 = 0;
        switch (which) {
        case 0: ss_box_muller_f32((ss_u32)x[i], (ss_u32)y[i], &f0, &f1);
                r0[i] = ss_bits_f32(f0); r1[i] = ss_bits_f32(f1); break;
        case 1: ss_box_muller_f64(x[i], y[i], &d0, &d1);
                r0[i] = ss_bits_f64(d0); r1[i] = ss_bits_f64(d1); break;
        case 2: ss_cos_sin_octant_f32((ss_u32)x[i], &f0, &f1);
                r0[i] = ss_bits_f32(f0); r1[i] = ss_bits_f32(f1); break;
        case 3: ss_cos_sin_octant_f64(x[i], &d0, &d1);
                r0[i] = ss_bits_f64(d0); r1[i] = ss_bits_f64(d1); break;
        case 4: r0[i] = ss_bits_f32(ss_ln_f32(ss_f32_bits((ss_u32)x[i]))); break;
        case 5: r0[i] = ss_bits_f64(ss_ln_f64(ss_f64_bits(x[i]))); break;
        case 6: r0[i] = ss_f16_from_f32(ss_f32_bits((ss_u32)x[i]));
                r1[i] = ss_bf16_from_f32(ss_f32_bits((ss_u32)x[i])); break;
        case 7: r0[i] = ss_bits_f32(ss_f32_from_f16((ss_u16)x[i]));
                r1[i] = ss_bits_f32(ss_f32_from_bf16((ss_u16)x[i])); break;
        case 8: r0[i] = ss_bits_f32(ss_random_f32((ss_u32)x[i]));
                r1[i] = ss_bits_f64(ss_random_f64(x[i])); break;
        case 9: r0[i] = ss_bernoulli_threshold(ss_f64_bits(x[i])); break;
        }
    }
}
"#;

const BOX_MULLER_F32: i32 = 0;
const BOX_MULLER_F64: i32 = 1;
const COS_SIN_F32: i32 = 2;
const COS_SIN_F64: i32 = 3;
const LN_F32: i32 = 4;
const LN_F64: i32 = 5;
const NARROW: i32 = 6;
const WIDEN: i32 = 7;
const RANDOM: i32 = 8;
const THRESHOLD: i32 = 9;

/// The exact flags the project requires of host builds of the kernels.
const EXACT: &[&str] = &[
    "-O2",
    "-ffp-contract=off",
    "-fno-fast-math",
    "-fno-math-errno",
];

struct HostKernels {
    lib: Library,
    _dir: PathBuf,
}

impl HostKernels {
    /// Builds the source with the system C++ compiler (`$CXX`, else `c++`); None if there is
    /// none.
    fn build(tag: &str, flags: &[&str]) -> Option<HostKernels> {
        static BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let build = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "seedstream-cuda-host-{}-{tag}-{build}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("kernels.cpp");
        std::fs::write(&src, format!("{SHIM}\n{}\n{HOST_API}", cuda::source())).unwrap();
        let lib = dir.join("libkernels.so");
        let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
        let status = Command::new(&cxx)
            .args(flags)
            .args([
                "-std=c++17",
                "-fno-strict-aliasing",
                "-fPIC",
                "-shared",
                "-o",
            ])
            .arg(&lib)
            .arg(&src)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => panic!("{cxx} failed to compile the CUDA source as host code: {s}"),
            Err(e) => {
                eprintln!("skipped: no C++ compiler ({cxx}: {e})");
                return None;
            }
        }
        // SAFETY: the library is the one just built from our own source; loading runs no
        // initialisers beyond the C++ runtime's.
        let lib = unsafe { Library::new(&lib) }.unwrap();
        Some(HostKernels { lib, _dir: dir })
    }

    /// The exact build, shared by the tests of this process.
    fn exact() -> Option<&'static HostKernels> {
        static EXACT_BUILD: std::sync::OnceLock<Option<HostKernels>> = std::sync::OnceLock::new();
        EXACT_BUILD
            .get_or_init(|| Self::build("exact", EXACT))
            .as_ref()
    }

    fn launch(&self, kernel: &str, grid: u32, block: u32, args: &KernelArgs) {
        type F = unsafe extern "C" fn(*const i8, u32, u32, *const KernelArgs) -> i32;
        let name = std::ffi::CString::new(kernel).unwrap();
        // SAFETY: the signature matches `ss_host_launch` above; the pointers in `args`
        // address live buffers of `n` elements (checked by the callers).
        let rc = unsafe {
            let f: Symbol<F> = self.lib.get(b"ss_host_launch").unwrap();
            f(name.as_ptr().cast(), grid, block, args)
        };
        assert_eq!(rc, 0, "no kernel {kernel}");
    }

    fn map(&self, which: i32, x: &[u64], y: &[u64]) -> (Vec<u64>, Vec<u64>) {
        type F = unsafe extern "C" fn(i32, *const u64, *const u64, u64, *mut u64, *mut u64);
        assert_eq!(x.len(), y.len());
        let (mut r0, mut r1) = (vec![0u64; x.len()], vec![0u64; x.len()]);
        // SAFETY: all four arrays hold `x.len()` elements.
        unsafe {
            let f: Symbol<F> = self.lib.get(b"ss_host_map").unwrap();
            f(
                which,
                x.as_ptr(),
                y.as_ptr(),
                x.len() as u64,
                r0.as_mut_ptr(),
                r1.as_mut_ptr(),
            );
        }
        (r0, r1)
    }
}

impl Drop for HostKernels {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// SplitMix64: test inputs only.
fn words(n: usize, seed: u64) -> Vec<u64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

fn bm32(x: &[u64], y: &[u64]) -> (Vec<u64>, Vec<u64>) {
    x.iter()
        .zip(y)
        .map(|(&a, &b)| {
            let (c, s) = box_muller_f32(a as u32, b as u32);
            (u64::from(c.to_bits()), u64::from(s.to_bits()))
        })
        .unzip()
}

fn bm64(x: &[u64], y: &[u64]) -> (Vec<u64>, Vec<u64>) {
    x.iter()
        .zip(y)
        .map(|(&a, &b)| {
            let (c, s) = box_muller_f64(a, b);
            (c.to_bits(), s.to_bits())
        })
        .unzip()
}

fn mismatches(got: &(Vec<u64>, Vec<u64>), want: &(Vec<u64>, Vec<u64>)) -> usize {
    let count = |g: &[u64], w: &[u64]| g.iter().zip(w).filter(|(a, b)| a != b).count();
    count(&got.0, &want.0) + count(&got.1, &want.1)
}

/// Every per-element function against the Rust core on 2^18 random inputs each, plus edges.
#[test]
fn per_element_functions_equal_the_core_sampled() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    let n = 1 << 18;
    let mut x = words(n, 1);
    let mut y = words(n, 2);
    x.extend([0, u64::MAX, u64::from(u32::MAX), 1, 1 << 63]);
    y.extend([0, u64::MAX, 7, 1 << 61, 3 << 61]);

    assert_eq!(mismatches(&h.map(BOX_MULLER_F32, &x, &y), &bm32(&x, &y)), 0);
    assert_eq!(mismatches(&h.map(BOX_MULLER_F64, &x, &y), &bm64(&x, &y)), 0);

    let (c, s) = h.map(COS_SIN_F32, &x, &y);
    let (c64, s64) = h.map(COS_SIN_F64, &x, &y);
    for (i, &b) in x.iter().enumerate() {
        let (wc, ws) = cos_sin_octant_f32(b as u32);
        assert_eq!(
            (c[i], s[i]),
            (u64::from(wc.to_bits()), u64::from(ws.to_bits())),
            "{b:#x}"
        );
        let (wc, ws) = cos_sin_octant_f64(b);
        assert_eq!((c64[i], s64[i]), (wc.to_bits(), ws.to_bits()), "{b:#x}");
    }

    // ln over positive normal inputs of each format.
    let pos32: Vec<u64> = x
        .iter()
        .map(|&b| (b as u32 % 0x7F00_0000 + 0x0080_0000) as u64)
        .collect();
    let pos64: Vec<u64> = x
        .iter()
        .map(|&b| b % 0x7FE0_0000_0000_0000 + 0x0010_0000_0000_0000)
        .collect();
    let (l32, _) = h.map(LN_F32, &pos32, &pos32);
    let (l64, _) = h.map(LN_F64, &pos64, &pos64);
    for i in 0..x.len() {
        assert_eq!(
            l32[i],
            u64::from(ln_f32(f32::from_bits(pos32[i] as u32)).to_bits())
        );
        assert_eq!(l64[i], ln_f64(f64::from_bits(pos64[i])).to_bits());
    }

    let (r32, r64) = h.map(RANDOM, &x, &x);
    for (i, &b) in x.iter().enumerate() {
        assert_eq!(
            r32[i],
            u64::from(seedstream_core::distr::uniform::uniform_f32(b as u32).to_bits())
        );
        assert_eq!(
            r64[i],
            seedstream_core::distr::uniform::uniform_f64(b).to_bits()
        );
    }

    // Thresholds: every dyadic probability near ties, and random ones.
    let mut ps: Vec<f64> = (0..=4096u64).map(|k| k as f64 / 4096.0).collect();
    ps.extend(
        x.iter()
            .map(|&b| (b >> 11) as f64 / 9_007_199_254_740_992.0),
    );
    ps.extend((0..2000u64).map(|k| (k as f64 + 0.5) / 4_294_967_296.0));
    let pb: Vec<u64> = ps.iter().map(|p| p.to_bits()).collect();
    let (t, _) = h.map(THRESHOLD, &pb, &pb);
    for (i, &p) in ps.iter().enumerate() {
        assert_eq!(t[i], bernoulli::threshold(p).unwrap(), "p = {p}");
    }
}

/// float32 -> float16/bfloat16 rounding and the widening back, on the bit patterns around
/// every float16 rounding boundary and random ones (all 2^32 behind `--ignored`).
#[test]
fn narrow_formats_equal_the_core_sampled() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    let mut src: Vec<u64> = words(1 << 18, 3).iter().map(|&w| w & 0xFFFF_FFFF).collect();
    for hb in 0..0x7C00u32 {
        let (a, b) = (
            f16::from_bits(hb as u16).to_f32(),
            f16::from_bits(hb as u16 + 1).to_f32(),
        );
        let mid = ((a + b) / 2.0).to_bits();
        for v in [mid - 1, mid, mid + 1] {
            src.extend([u64::from(v), u64::from(v | 0x8000_0000)]);
        }
    }
    src.extend([
        0x7F80_0000,
        0xFF80_0000,
        0x7FC0_0000,
        0x7F80_0001,
        0xFFFF_FFFF,
    ]);
    check_narrow(h, &src);
    let all16: Vec<u64> = (0..=0xFFFFu64).collect();
    check_widen(h, &all16);
}

fn check_narrow(h: &HostKernels, src: &[u64]) {
    let (f, b) = h.map(NARROW, src, src);
    let x: Vec<f32> = src.iter().map(|&v| f32::from_bits(v as u32)).collect();
    let mut want = vec![0u16; x.len()];
    seedstream_core::simd::f32_to_f16_bits(&x, &mut want); // the CPU fills' own store
    for i in 0..x.len() {
        assert_eq!(f[i], u64::from(want[i]), "float16 of {:#x}", src[i]);
        assert_eq!(
            b[i],
            u64::from(bf16::from_f32(x[i]).to_bits()),
            "bfloat16 of {:#x}",
            src[i]
        );
    }
}

fn check_widen(h: &HostKernels, src: &[u64]) {
    let (f, b) = h.map(WIDEN, src, src);
    for (i, &v) in src.iter().enumerate() {
        assert_eq!(
            f[i],
            u64::from(f16::from_bits(v as u16).to_f32().to_bits()),
            "{v:#x}"
        );
        assert_eq!(
            b[i],
            u64::from(bf16::from_bits(v as u16).to_f32().to_bits()),
            "{v:#x}"
        );
    }
}

/// The comparison catches contraction: the same source built with FMA contraction gives
/// different normals. Without this, a check that always passes would look like a proof.
#[test]
fn fma_contraction_is_detected() {
    #[cfg(target_arch = "x86_64")]
    {
        if !std::arch::is_x86_feature_detected!("fma") {
            eprintln!("skipped: this CPU has no FMA");
            return;
        }
        let flags = ["-O2", "-ffp-contract=fast", "-march=haswell"];
        let Some(h) = HostKernels::build("fma", &flags) else {
            return;
        };
        let (x, y) = (words(1 << 16, 4), words(1 << 16, 5));
        let bad32 = mismatches(&h.map(BOX_MULLER_F32, &x, &y), &bm32(&x, &y));
        let bad64 = mismatches(&h.map(BOX_MULLER_F64, &x, &y), &bm64(&x, &y));
        assert!(
            bad32 > 0 && bad64 > 0,
            "contracted build matched: {bad32} {bad64}"
        );
    }
}

// ---- kernels: indexing, tails, vector stores -----------------------------------------------

fn key() -> Key {
    Key::from_seed(&Name::Str("cuda-host")).child(&Name::Int(3))
}

/// Launch shapes: (grid, block). One thread, a ragged grid, a typical one, more threads
/// than blocks of work.
const SHAPES: &[(u32, u32)] = &[(1, 1), (3, 7), (5, 64), (40, 256)];

fn sizes() -> Vec<usize> {
    let mut s: Vec<usize> = (1..=9).collect();
    s.extend([15, 16, 17, 31, 33, 4095, 4097, 100_003]);
    s.extend(words(4, 6).iter().map(|&w| 1 + (w % 100_003) as usize));
    s
}

/// First blocks: 0, across the low counter word's wrap, and near 2^44.
const FIRSTS: &[u64] = &[0, (1 << 32) - 3, (1 << 44) - 5, (1 << 44) + 12_345];

/// Runs `kernel` into `buf[offset..offset + n]` (element offset: 0 aligned, 1 misaligned for
/// the vector stores) and returns that slice's bytes; sentinel elements around must survive.
fn run<T: Copy + PartialEq + std::fmt::Debug>(
    h: &HostKernels,
    launch: &cuda::Launch,
    n: usize,
    offset: usize,
    shape: (u32, u32),
    fill: T,
    input: Option<&[T]>,
) -> Vec<T> {
    let mut buf = vec![fill; n + offset + 3];
    let mut args = launch.args;
    args.out = buf[offset..].as_mut_ptr() as u64;
    if let Some(x) = input {
        args.input = x.as_ptr() as u64;
    }
    h.launch(&launch.kernel, shape.0, shape.1, &args);
    let same = |v: &T| bytes(v) == bytes(&fill);
    assert!(
        buf[..offset].iter().chain(&buf[offset + n..]).all(same),
        "{}: wrote outside",
        launch.kernel
    );
    buf[offset..offset + n].to_vec()
}

/// The bytes of a value (NaN sentinels compare by bits).
fn bytes<T: Copy>(v: &T) -> Vec<u8> {
    // SAFETY: `v` is a live `T`, read as `size_of::<T>()` bytes of plain data.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
        .to_vec()
}

/// Every size (cycling through first blocks, shapes and alignments), then with `full` every
/// combination of first block, shape and misalignment at one size.
fn each_case(full: bool, mut f: impl FnMut(usize, u64, usize, (u32, u32))) {
    let sizes = sizes();
    for (i, &n) in sizes.iter().enumerate() {
        let first = FIRSTS[i % FIRSTS.len()];
        let shape = SHAPES[i % SHAPES.len()];
        f(n, first, i % 2, shape);
    }
    if !full {
        return;
    }
    for &first in FIRSTS {
        for &shape in SHAPES {
            for offset in [0, 1, 2, 3] {
                f(4097, first, offset, shape);
            }
        }
    }
}

fn float_out(format: FloatFormat, n: usize) -> (Vec<f64>, Vec<f32>, Vec<u16>) {
    match format {
        FloatFormat::F64 => (vec![0.0; n], vec![], vec![]),
        FloatFormat::F32 => (vec![], vec![0.0; n], vec![]),
        _ => (vec![], vec![], vec![0; n]),
    }
}

/// The CPU fill of a float draw, as bit patterns.
fn cpu_float(draw: &Draw, format: FloatFormat, first: u64, n: usize) -> Vec<u64> {
    let s = PhiloxStream::new(&key());
    let (mut d, mut f, mut hb) = float_out(format, n);
    let slice = match format {
        FloatFormat::F64 => FloatSlice::F64(&mut d),
        FloatFormat::F32 => FloatSlice::F32(&mut f),
        FloatFormat::F16 => FloatSlice::F16(half::slice::HalfBitsSliceExt::reinterpret_cast_mut(
            &mut hb[..],
        )),
        FloatFormat::Bf16 => FloatSlice::Bf16(half::slice::HalfBitsSliceExt::reinterpret_cast_mut(
            &mut hb[..],
        )),
    };
    match draw {
        Draw::Uniform(u) => u.fill(&s, first, slice).unwrap(),
        Draw::Normal { loc, scale, .. } => {
            Normal::new(*loc, *scale).unwrap().fill(&s, first, slice)
        }
        Draw::TruncatedNormal(t) => t.fill(&s, first, slice).unwrap(),
        _ => unreachable!(),
    }
    match format {
        FloatFormat::F64 => d.iter().map(|v| v.to_bits()).collect(),
        FloatFormat::F32 => f.iter().map(|v| u64::from(v.to_bits())).collect(),
        _ => hb.iter().map(|&v| u64::from(v)).collect(),
    }
}

fn gpu_float(
    h: &HostKernels,
    l: &cuda::Launch,
    format: FloatFormat,
    n: usize,
    offset: usize,
    shape: (u32, u32),
) -> Vec<u64> {
    match format {
        FloatFormat::F64 => run(
            h,
            l,
            n,
            offset,
            shape,
            f64::from_bits(0x7FF4_0000_0000_0001),
            None,
        )
        .iter()
        .map(|v| v.to_bits())
        .collect(),
        FloatFormat::F32 => run(h, l, n, offset, shape, f32::from_bits(0x7FA0_0001), None)
            .iter()
            .map(|v| u64::from(v.to_bits()))
            .collect(),
        _ => run(h, l, n, offset, shape, 0xFE01u16, None)
            .iter()
            .map(|&v| u64::from(v))
            .collect(),
    }
}

const FORMATS: [FloatFormat; 4] = [
    FloatFormat::F64,
    FloatFormat::F32,
    FloatFormat::F16,
    FloatFormat::Bf16,
];

fn check_float_draw(h: &HostKernels, full: bool, make: impl Fn(FloatFormat) -> Draw) {
    for format in FORMATS {
        let draw = make(format);
        each_case(full, |n, first, offset, shape| {
            let l = draw.launch(&key(), first, n as u64, 0, 0).unwrap();
            let got = gpu_float(h, &l, format, n, offset, shape);
            let want = cpu_float(&draw, format, first, n);
            if let Some(i) = (0..n).find(|&i| got[i] != want[i]) {
                panic!("{} n={n} first={first} offset={offset} shape={shape:?}: element {i}: {:#x} != {:#x}",
                       l.kernel, got[i], want[i]);
            }
        });
    }
}

#[test]
fn uniform_kernels_equal_cpu_fills() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    check_float_draw(h, true, |f| {
        Draw::Uniform(UniformRange::new(0.0, 1.0, f).unwrap())
    });
    check_float_draw(h, false, |f| {
        Draw::Uniform(UniformRange::new(-0.3, 7.25, f).unwrap())
    });
}

#[test]
fn normal_kernels_equal_cpu_fills() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    check_float_draw(h, true, |format| Draw::Normal {
        loc: 0.0,
        scale: 1.0,
        format,
    });
    check_float_draw(h, false, |format| Draw::Normal {
        loc: 10.0,
        scale: 0.5,
        format,
    });
}

#[test]
fn truncated_normal_kernels_equal_cpu_fills() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    // General (central and both tails), one-sided far out, and the far-tail method each side.
    let cases = [
        (0.0, 1.0, -2.0, 2.0),
        (0.0, 1.0, -1e3, -40.0),
        (0.0, 1.0, 8.0, 9.0),
        (1.0, 2.0, -30.0, 0.5),
        (0.0, 1.0, 40.0, 41.0),
    ];
    for (i, (loc, scale, a, b)) in cases.into_iter().enumerate() {
        check_float_draw(h, i < 2, |f| {
            Draw::TruncatedNormal(TruncatedNormal::new(loc, scale, a, b, f).unwrap())
        });
    }
}

#[test]
fn integer_kernels_equal_cpu_fills() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    let s = PhiloxStream::new(&key());
    let e = PhiloxStream::new(&key().extension());
    macro_rules! check {
        ($t:ty, $int:expr, $($low:expr, $range:expr);*) => {$(
            let draw = Draw::Integers { low: $low, range: $range, int: $int };
            each_case(true, |n, first, offset, shape| {
                let l = draw.launch(&key(), first, n as u64, 0, 0).unwrap();
                let got = run(h, &l, n, offset, shape, 0x5A as $t, None);
                let mut want = vec![0 as $t; n];
                integers::fill_integers(&s, &e, first, $low, $range, &mut want).unwrap();
                assert_eq!(got, want, "{} n={n} first={first} offset={offset} range={}", l.kernel, $range);
            });
        )*};
    }
    // Ranges that almost never read the extension stream, and ones that often do (just
    // below 2^64, and 3 * 2^62), and the full 2^64.
    check!(i64, IntType::I64, 0, 1000; -5, 1u128 << 64; i64::MIN as i128, (1u128 << 64) - 1; 7, 3u128 << 62);
    check!(i32, IntType::I32, -100, 201; i32::MIN as i128, 1u128 << 32);
    check!(i16, IntType::I16, -3, 7; i16::MIN as i128, 1u128 << 16);
    check!(i8, IntType::I8, -128, 256; 0, 1);
    check!(u8, IntType::U8, 0, 256; 10, 3);
}

#[test]
fn bernoulli_kernels_equal_cpu_fills() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    let s = PhiloxStream::new(&key());
    for p in [0.0, 0.3, 0.5, 1.0, 1e-9] {
        let draw = Draw::Bernoulli { p };
        each_case(true, |n, first, offset, shape| {
            let l = draw.launch(&key(), first, n as u64, 0, 0).unwrap();
            let got = run(h, &l, n, offset, shape, 7u8, None);
            let mut want = vec![false; n];
            bernoulli::fill_bernoulli(&s, first, p, &mut want).unwrap();
            assert!(
                got.iter().zip(&want).all(|(&g, &w)| g == u8::from(w)),
                "{} n={n} first={first} offset={offset}",
                l.kernel
            );
        });
    }
    let draw = Draw::BernoulliPerElement;
    each_case(true, |n, first, offset, shape| {
        let probs: Vec<f64> = words(n + offset, 9)
            .iter()
            .map(|&w| (w % 5) as f64 / 4.0 + if w % 7 == 0 { 1e-3 } else { 0.0 })
            .map(|p: f64| p.min(1.0))
            .collect();
        let l = draw.launch(&key(), first, n as u64, 0, 0).unwrap();
        // The probabilities are misaligned by `offset` too.
        let got = run_with_input(h, &l, n, offset, shape, 7u8, &probs[offset..]);
        let mut want = vec![false; n];
        bernoulli::fill_bernoulli_per_element(&s, first, &probs[offset..offset + n], &mut want)
            .unwrap();
        assert!(
            got.iter().zip(&want).all(|(&g, &w)| g == u8::from(w)),
            "{} n={n} first={first} offset={offset}",
            l.kernel
        );
    });
}

fn run_with_input<T: Copy + PartialEq + std::fmt::Debug, I>(
    h: &HostKernels,
    l: &cuda::Launch,
    n: usize,
    offset: usize,
    shape: (u32, u32),
    fill: T,
    input: &[I],
) -> Vec<T> {
    let mut l = l.clone();
    l.args.input = input.as_ptr() as u64;
    run(h, &l, n, offset, shape, fill, None)
}

#[test]
fn dropout_kernels_equal_cpu_fills() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    let s = PhiloxStream::new(&key());
    for p in [0.1, 0.5, 1.0, 0.0] {
        each_case(true, |n, first, offset, shape| {
            let raw = words(n + offset, 10);
            let x64: Vec<f64> = raw.iter().map(|&w| (w as i64) as f64 * 1e-18).collect();
            let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
            let x16: Vec<u16> = x32.iter().map(|&v| f16::from_f32(v).to_bits()).collect();
            let xb: Vec<u16> = x32.iter().map(|&v| bf16::from_f32(v).to_bits()).collect();

            let l = Draw::Dropout {
                p,
                format: FloatFormat::F64,
            }
            .launch(&key(), first, n as u64, 0, 0)
            .unwrap();
            let got = run_with_input(h, &l, n, offset, shape, 9.0f64, &x64[offset..]);
            let mut want = vec![0f64; n];
            dropout::fill_dropout(&s, first, p, &x64[offset..offset + n], &mut want).unwrap();
            assert!(
                got.iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{} n={n} p={p}",
                l.kernel
            );

            let l = Draw::Dropout {
                p,
                format: FloatFormat::F32,
            }
            .launch(&key(), first, n as u64, 0, 0)
            .unwrap();
            let got = run_with_input(h, &l, n, offset, shape, 9.0f32, &x32[offset..]);
            let mut want = vec![0f32; n];
            dropout::fill_dropout(&s, first, p, &x32[offset..offset + n], &mut want).unwrap();
            assert!(
                got.iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{} n={n} p={p}",
                l.kernel
            );

            for (format, hf, xs) in [
                (FloatFormat::F16, dropout::HalfFormat::F16, &x16),
                (FloatFormat::Bf16, dropout::HalfFormat::Bf16, &xb),
            ] {
                let l = Draw::Dropout { p, format }
                    .launch(&key(), first, n as u64, 0, 0)
                    .unwrap();
                let got = run_with_input(h, &l, n, offset, shape, 0xFE01u16, &xs[offset..]);
                let mut want = vec![0u16; n];
                dropout::fill_dropout_half_bits(
                    &s,
                    first,
                    p,
                    hf,
                    &xs[offset..offset + n],
                    &mut want,
                )
                .unwrap();
                assert_eq!(got, want, "{} n={n} p={p}", l.kernel);
            }
        });
    }
}

/// Sample dropout: whole samples of odd sizes and boxes of samples (runs that start inside
/// a block, several runs per sample), one to many samples, sample indices near 2^64,
/// misaligned inputs and outputs, against the CPU's `fill_sample_dropout`.
#[test]
fn sample_dropout_kernels_equal_cpu_fills() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    let cases: &[(&[u64], &[u64], &[u64])] = &[
        (&[1], &[0], &[1]),
        (&[5], &[0], &[5]),
        (&[257], &[0], &[257]),
        (&[4, 7], &[1, 0], &[2, 7]),
        (&[4, 7], &[0, 3], &[4, 2]),
        (&[6, 9], &[1, 5], &[5, 4]),
        (&[3, 5, 6], &[1, 2, 1], &[2, 3, 5]),
        (&[], &[], &[]),
    ];
    let mut case = 0usize;
    for &(shape, offset, local) in cases {
        let part = sample_part(shape, offset, local).unwrap();
        let m = part.elements() as usize;
        for samples in [1usize, 3, 37, 300] {
            for first_sample in [0u64, u64::MAX - 300] {
                let table_words = kernel_table_words(samples as u64, &part).unwrap() as usize;
                let mut table = vec![0u32; table_words];
                fill_kernel_table(&key(), first_sample, samples, &part, &mut table).unwrap();
                // The same bytes, 8-byte aligned as device memory is (the starts are read
                // as 64-bit values).
                let table: Vec<u64> = table
                    .chunks_exact(2)
                    .map(|w| u64::from(w[0]) | u64::from(w[1]) << 32)
                    .collect();
                let n = samples * m;
                let (out_off, in_off) = (case % 4, 3 - case % 4);
                let launch_shape = SHAPES[case % SHAPES.len()];
                let p = [0.3, 0.5, 1.0, 1e-9, 0.0][case % 5];
                case += 1;
                let what = format!(
                    "{shape:?} {offset:?} {local:?} samples={samples} first={first_sample} p={p}"
                );

                let raw = words(n + in_off, case as u64);
                let x64: Vec<f64> = raw.iter().map(|&w| (w as i64) as f64 * 1e-18).collect();
                let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
                let x16: Vec<u16> = x32.iter().map(|&v| f16::from_f32(v).to_bits()).collect();
                let xb: Vec<u16> = x32.iter().map(|&v| bf16::from_f32(v).to_bits()).collect();
                let launch = |format| {
                    cuda::sample_dropout_launch(
                        p,
                        format,
                        samples as u64,
                        &part,
                        table.as_ptr() as u64,
                        0,
                        0,
                    )
                    .unwrap()
                };

                let l = launch(FloatFormat::F64);
                let got = run_with_input(h, &l, n, out_off, launch_shape, 9.0f64, &x64[in_off..]);
                let mut want = vec![0f64; n];
                sample_dropout::fill_sample_dropout(
                    Algorithm::Philox,
                    &key(),
                    first_sample,
                    p,
                    &part,
                    &x64[in_off..],
                    &mut want,
                )
                .unwrap();
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{} {what}",
                    l.kernel
                );

                let l = launch(FloatFormat::F32);
                let got = run_with_input(h, &l, n, out_off, launch_shape, 9.0f32, &x32[in_off..]);
                let mut want = vec![0f32; n];
                sample_dropout::fill_sample_dropout(
                    Algorithm::Philox,
                    &key(),
                    first_sample,
                    p,
                    &part,
                    &x32[in_off..],
                    &mut want,
                )
                .unwrap();
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{} {what}",
                    l.kernel
                );

                for (format, hf, xs) in [
                    (FloatFormat::F16, dropout::HalfFormat::F16, &x16),
                    (FloatFormat::Bf16, dropout::HalfFormat::Bf16, &xb),
                ] {
                    let l = launch(format);
                    let got =
                        run_with_input(h, &l, n, out_off, launch_shape, 0xFE01u16, &xs[in_off..]);
                    let mut want = vec![0u16; n];
                    sample_dropout::fill_sample_dropout_half_bits(
                        Algorithm::Philox,
                        &key(),
                        first_sample,
                        p,
                        hf,
                        &part,
                        &xs[in_off..],
                        &mut want,
                    )
                    .unwrap();
                    assert_eq!(got, want, "{} {what}", l.kernel);
                }
            }
        }
    }
}

#[test]
fn every_kernel_is_launchable() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    for k in cuda::KERNELS {
        // n = 0: nothing is read or written.
        h.launch(k, 1, 1, &KernelArgs::default());
    }
}

// ---- exhaustive sweeps (`cargo test --release -- --ignored`, or `pytest -m slow`) ----------

fn sweep_u32(h: &HostKernels, which: i32, check: impl Fn(&[u64], &[u64], &[u64]) + Sync) {
    let chunk = 1u64 << 22;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let check = &check;
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                let mut start = t * chunk;
                while start < 1 << 32 {
                    let x: Vec<u64> = (start..start + chunk).collect();
                    let (r0, r1) = h.map(which, &x, &x);
                    check(&x, &r0, &r1);
                    start += threads * chunk;
                }
            });
        }
    });
}

/// The binary32 Box–Muller radius for every 32-bit word `a` (so `ln` at every `u1`), with
/// the angle word fixed, and cos-sin-octant at every one of its 2^26 angles.
#[test]
#[ignore]
fn exhaustive_box_muller_f32() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    // The angle word equals the radius word: every `a`, and a spread of angles.
    sweep_u32(h, BOX_MULLER_F32, |x, r0, r1| {
        let want = bm32(x, x);
        assert_eq!(
            mismatches(&(r0.to_vec(), r1.to_vec()), &want),
            0,
            "chunk at {:#x}",
            x[0]
        );
    });
    let angles: Vec<u64> = (0..1u64 << 26).map(|k| k << 6).collect();
    let (c, s) = h.map(COS_SIN_F32, &angles, &angles);
    for (i, &b) in angles.iter().enumerate() {
        let (wc, ws) = cos_sin_octant_f32(b as u32);
        assert_eq!(
            (c[i], s[i]),
            (u64::from(wc.to_bits()), u64::from(ws.to_bits())),
            "{b:#x}"
        );
    }
}

/// float16 and bfloat16 rounding of every float32 bit pattern; widening of every 16-bit one.
#[test]
#[ignore]
fn exhaustive_narrow_formats() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    sweep_u32(h, NARROW, |x, _, _| check_narrow(h, x));
    check_widen(h, &(0..=0xFFFFu64).collect::<Vec<_>>());
}

/// random-v1 binary32 and the Bernoulli threshold's comparison for every word.
#[test]
#[ignore]
fn exhaustive_random_f32() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    sweep_u32(h, RANDOM, |x, r0, _| {
        for (i, &w) in x.iter().enumerate() {
            assert_eq!(
                r0[i],
                u64::from(seedstream_core::distr::uniform::uniform_f32(w as u32).to_bits())
            );
        }
    });
}

// ---- golden digests: the host-built kernels reproduce the frozen outputs ------------------

/// The frozen digest of `name` (e.g. `philox|42|random-float32`) from the package's files.
fn golden(file: &str, name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../python/seedstream/golden/v1")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(&format!("\"{name}\": \""))
        .unwrap_or_else(|| panic!("{name}"))
        + name.len()
        + 5;
    text[start..start + 64].to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs a draw of 65,536 elements at position 0 of `Generator(42)` on the host build and
/// hashes the little-endian bytes, as `tests/golden/v1` does.
fn golden_run(h: &HostKernels, draw: &Draw, elem_bytes: usize) -> String {
    let n = 65_536usize;
    let root = Key::from_seed(&Name::Int(42));
    let l = draw.launch(&root, 0, n as u64, 0, 0).unwrap();
    let mut buf = vec![0u8; n * elem_bytes + 16];
    let offset = buf.as_ptr().align_offset(16);
    let mut args = l.args;
    args.out = buf[offset..].as_mut_ptr() as u64;
    h.launch(&l.kernel, 7, 96, &args);
    sha256_hex(&buf[offset..offset + n * elem_bytes])
}

#[test]
fn host_kernels_reproduce_the_golden_digests() {
    let Some(h) = HostKernels::exact() else {
        return;
    };
    let f = |format: FloatFormat| match format {
        FloatFormat::F64 => 8,
        FloatFormat::F32 => 4,
        _ => 2,
    };
    let names = [
        (FloatFormat::F64, "float64"),
        (FloatFormat::F32, "float32"),
        (FloatFormat::F16, "float16"),
        (FloatFormat::Bf16, "bfloat16"),
    ];
    let cases: [(&str, &dyn Fn(FloatFormat) -> Draw); 9] = [
        ("standard_normal", &|format| Draw::Normal {
            loc: 0.0,
            scale: 1.0,
            format,
        }),
        ("normal(-1,3)", &|format| Draw::Normal {
            loc: -1.0,
            scale: 3.0,
            format,
        }),
        ("uniform(-2,5)", &|format| {
            Draw::Uniform(UniformRange::new(-2.0, 5.0, format).unwrap())
        }),
        ("truncated_normal(0,1,-2,2)", &|format| {
            Draw::TruncatedNormal(TruncatedNormal::new(0.0, 1.0, -2.0, 2.0, format).unwrap())
        }),
        ("truncated_normal(0,0.02,-2,2)", &|format| {
            Draw::TruncatedNormal(TruncatedNormal::new(0.0, 0.02, -2.0, 2.0, format).unwrap())
        }),
        ("truncated_normal(1,2,-0.5,9)", &|format| {
            Draw::TruncatedNormal(TruncatedNormal::new(1.0, 2.0, -0.5, 9.0, format).unwrap())
        }),
        ("truncated_normal(0,1,8,9)", &|format| {
            Draw::TruncatedNormal(TruncatedNormal::new(0.0, 1.0, 8.0, 9.0, format).unwrap())
        }),
        ("truncated_normal(0,1,-12,-6)", &|format| {
            Draw::TruncatedNormal(TruncatedNormal::new(0.0, 1.0, -12.0, -6.0, format).unwrap())
        }),
        ("truncated_normal(0,1,30.5,31)", &|format| {
            Draw::TruncatedNormal(TruncatedNormal::new(0.0, 1.0, 30.5, 31.0, format).unwrap())
        }),
    ];
    for (case, make) in cases {
        for (format, name) in names {
            let want = golden(
                "digests_distributions.json",
                &format!("philox|42|{case}|{name}"),
            );
            assert_eq!(
                golden_run(h, &make(format), f(format)),
                want,
                "{case} {name}"
            );
        }
    }
    let uniform = |format| Draw::Uniform(UniformRange::new(0.0, 1.0, format).unwrap());
    let others: [(&str, Draw, usize); 6] = [
        ("random-float32", uniform(FloatFormat::F32), 4),
        ("random-float64", uniform(FloatFormat::F64), 8),
        ("bernoulli-0.3", Draw::Bernoulli { p: 0.3 }, 1),
        (
            "integers-int64-0-1000",
            Draw::Integers {
                low: 0,
                range: 1000,
                int: IntType::I64,
            },
            8,
        ),
        (
            "integers-int64-2**63+1",
            Draw::Integers {
                low: -(1 << 62),
                range: (1 << 63) + 1,
                int: IntType::I64,
            },
            8,
        ),
        (
            "integers-int8-full-endpoint",
            Draw::Integers {
                low: -128,
                range: 256,
                int: IntType::I8,
            },
            1,
        ),
    ];
    for (case, draw, bytes) in others {
        let want = golden("digests.json", &format!("philox|42|{case}"));
        assert_eq!(golden_run(h, &draw, bytes), want, "{case}");
    }
    let int32 = Draw::Integers {
        low: -1_000_000_000,
        range: 2_000_000_000,
        int: IntType::I32,
    };
    assert_eq!(
        golden_run(h, &int32, 4),
        golden("digests.json", "philox|42|integers-int32-pm1e9")
    );
}
