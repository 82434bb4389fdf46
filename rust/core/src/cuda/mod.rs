//! The GPU path: kernel source, its compilation options and the kernels' arguments.
//!
//! `seedstream.cuh` holds every per-element function as `__host__ __device__` code that
//! mirrors the Rust one operation for operation; `kernels.cu` holds the kernels (one Philox
//! block per thread and step of a grid-stride loop). [`source`] prepends the constants as
//! `#define`s made from this crate's own `const`s, so each constant exists once. The same
//! text is compiled by NVRTC for a GPU ([`driver`]) and, in the tests, as host C++ and
//! compared bit for bit with the CPU fills. Spec: the GPU computes docs/spec.md exactly.

use crate::detmath::{ln, ndtr, ndtri, sincos};
use crate::distr::bernoulli;
use crate::distr::float::FloatFormat;
use crate::distr::integers;
use crate::distr::sample_dropout::SampleBox;
use crate::distr::truncated_normal::TruncatedNormal;
use crate::distr::uniform::UniformRange;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::philox::{PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1};
use crate::stream::PhiloxStream;

pub mod driver;

/// The per-element functions.
pub const HEADER: &str = include_str!("seedstream.cuh");
/// The kernels.
pub const KERNELS_SOURCE: &str = include_str!("kernels.cu");

/// Every kernel `KERNELS_SOURCE` defines (`SS_KERNELS` there).
pub const KERNELS: &[&str] = &[
    "ss_uniform_f64",
    "ss_uniform_f32",
    "ss_uniform_f16",
    "ss_uniform_bf16",
    "ss_normal_f64",
    "ss_normal_f32",
    "ss_normal_f16",
    "ss_normal_bf16",
    "ss_trunc_general_f64",
    "ss_trunc_general_f32",
    "ss_trunc_general_f16",
    "ss_trunc_general_bf16",
    "ss_trunc_far_f64",
    "ss_trunc_far_f32",
    "ss_trunc_far_f16",
    "ss_trunc_far_bf16",
    "ss_integers_i64",
    "ss_integers_i32",
    "ss_integers_i16",
    "ss_integers_i8",
    "ss_integers_u8",
    "ss_bernoulli",
    "ss_bernoulli_p",
    "ss_dropout_f64",
    "ss_dropout_f32",
    "ss_dropout_f16",
    "ss_dropout_bf16",
    "ss_sample_dropout_f64",
    "ss_sample_dropout_f32",
    "ss_sample_dropout_f16",
    "ss_sample_dropout_bf16",
];

/// NVRTC options for exact IEEE arithmetic: no contraction to FMA, correctly rounded
/// division and square root, subnormals kept. Passed explicitly, whatever the defaults.
pub const NVRTC_OPTIONS: &[&str] = &[
    "--fmad=false",
    "--prec-div=true",
    "--prec-sqrt=true",
    "--ftz=false",
    "--std=c++17",
];

/// `x` as a C hexadecimal floating literal (exact by definition). Finite `x` only.
pub fn hex_f64(x: f64) -> String {
    let bits = x.to_bits();
    let sign = if bits >> 63 == 1 { "-" } else { "" };
    let exp = ((bits >> 52) & 0x7FF) as i64;
    let man = bits & ((1 << 52) - 1);
    if exp == 0 && man == 0 {
        return format!("{sign}0x0p+0");
    }
    let (lead, e) = if exp == 0 {
        (0, -1022)
    } else {
        (1, exp - 1023)
    };
    let digits = format!("{man:013x}");
    let digits = digits.trim_end_matches('0');
    let dot = if digits.is_empty() {
        String::new()
    } else {
        format!(".{digits}")
    };
    format!("{sign}0x{lead}{dot}p{e:+}")
}

fn list_f64(c: &[f64]) -> String {
    c.iter().map(|&v| hex_f64(v)).collect::<Vec<_>>().join(", ")
}

fn list_f32(c: &[f32]) -> String {
    c.iter()
        .map(|&v| format!("{}f", hex_f64(f64::from(v))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The constants of the per-element functions, from the crate's `const`s.
pub fn constants() -> String {
    let defs: Vec<(&str, String)> = vec![
        ("SS_PHILOX_ROUNDS", PHILOX_ROUNDS.to_string()),
        ("SS_PHILOX_M0", format!("0x{PHILOX_M0:08X}u")),
        ("SS_PHILOX_M1", format!("0x{PHILOX_M1:08X}u")),
        ("SS_PHILOX_W0", format!("0x{PHILOX_W0:08X}u")),
        ("SS_PHILOX_W1", format!("0x{PHILOX_W1:08X}u")),
        (
            "SS_SQRT1_2_BITS_F64",
            format!("0x{:016X}ull", ln::SQRT1_2_BITS_F64),
        ),
        ("SS_MANTISSA_F64", format!("0x{:016X}ull", ln::MANTISSA_F64)),
        ("SS_LN2_HI_F64", hex_f64(ln::LN2_HI_F64)),
        ("SS_LN2_LO_F64", hex_f64(ln::LN2_LO_F64)),
        ("SS_LN_P_F64", list_f64(&ln::LN_P_F64)),
        (
            "SS_SQRT1_2_BITS_F32",
            format!("0x{:08X}u", ln::SQRT1_2_BITS_F32),
        ),
        ("SS_MANTISSA_F32", format!("0x{:08X}u", ln::MANTISSA_F32)),
        ("SS_LN2_HI_F32", list_f32(&[ln::LN2_HI_F32])),
        ("SS_LN2_LO_F32", list_f32(&[ln::LN2_LO_F32])),
        ("SS_LN_P_F32", list_f32(&ln::LN_P_F32)),
        ("SS_SIN_F32", list_f32(&sincos::SIN_F32)),
        ("SS_COS_F32", list_f32(&sincos::COS_F32)),
        ("SS_SIN_F64", list_f64(&sincos::SIN_F64)),
        ("SS_COS_F64", list_f64(&sincos::COS_F64)),
        ("SS_NDTRI_A", list_f64(&ndtri::A)),
        ("SS_NDTRI_B", list_f64(&ndtri::B)),
        ("SS_NDTRI_C", list_f64(&ndtri::C)),
        ("SS_NDTRI_D", list_f64(&ndtri::D)),
        ("SS_NDTRI_E", list_f64(&ndtri::E)),
        ("SS_NDTRI_F", list_f64(&ndtri::F)),
        ("SS_NDTRI_CENTRAL_R0", hex_f64(ndtri::CENTRAL_R0)),
        ("SS_NDTRI_CENTRAL_LIMIT", hex_f64(ndtri::CENTRAL_LIMIT)),
        ("SS_NDTRI_TAIL_SPLIT", hex_f64(ndtri::TAIL_SPLIT)),
        ("SS_NDTRI_TAIL_SHIFT_NEAR", hex_f64(ndtri::TAIL_SHIFT_NEAR)),
        ("SS_FAR_TAIL_STEPS", ndtri::FAR_TAIL_STEPS.to_string()),
        ("SS_ASYMPTOTIC", list_f64(&ndtr::ASYMPTOTIC)),
    ];
    let mut s = String::from("// Constants from seedstream_core (generated).\n");
    for (name, value) in defs {
        s.push_str(&format!("#define {name} {value}\n"));
    }
    s
}

/// The whole program: constants, per-element functions, kernels.
pub fn source() -> String {
    format!("{}\n{HEADER}\n{KERNELS_SOURCE}", constants())
}

/// The kernels' one argument (`ss_args` in `kernels.cu`), passed by value.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct KernelArgs {
    pub key: [u32; 2],
    pub ctr_hi: [u32; 2],
    pub ext_key: [u32; 2],
    pub ext_ctr_hi: [u32; 2],
    pub first_block: u64,
    pub n: u64,
    pub out: u64,
    pub input: u64,
    pub f: [f64; 10],
    pub u: [u64; 8],
}

/// An integer output type of `integers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntType {
    I64,
    I32,
    I16,
    I8,
    U8,
}

impl IntType {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "int64" => IntType::I64,
            "int32" => IntType::I32,
            "int16" => IntType::I16,
            "int8" => IntType::I8,
            "uint8" => IntType::U8,
            _ => return None,
        })
    }
}

/// One draw for a kernel: what it computes, with the per-draw constants already computed.
#[derive(Debug, Clone, Copy)]
pub enum Draw {
    Uniform(UniformRange),
    Normal {
        loc: f64,
        scale: f64,
        format: FloatFormat,
    },
    TruncatedNormal(TruncatedNormal),
    Integers {
        low: i128,
        range: u128,
        int: IntType,
    },
    Bernoulli {
        p: f64,
    },
    /// One binary64 probability per element, at `KernelArgs::input`.
    BernoulliPerElement,
    /// `KernelArgs::input` scaled into `out`: a float format.
    Dropout {
        p: f64,
        format: FloatFormat,
    },
}

fn suffix(format: FloatFormat) -> &'static str {
    match format {
        FloatFormat::F64 => "f64",
        FloatFormat::F32 => "f32",
        FloatFormat::F16 => "f16",
        FloatFormat::Bf16 => "bf16",
    }
}

/// A kernel with its arguments; `blocks` is how many blocks of the stream the draw uses
/// (for a sample dropout, its units of work), which sizes the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub kernel: String,
    pub args: KernelArgs,
    pub blocks: u64,
}

impl Draw {
    /// Words of the word stream per element (docs/spec.md#positions).
    pub fn words_per_element(&self) -> u64 {
        match self {
            Draw::Uniform(u) => u.format().words_per_element() as u64,
            Draw::Normal { format, .. } => format.words_per_element() as u64,
            Draw::TruncatedNormal(t) => t.format().words_per_element() as u64,
            Draw::Integers { .. } => integers::WORDS_INTEGER as u64,
            Draw::Bernoulli { .. } | Draw::BernoulliPerElement | Draw::Dropout { .. } => 1,
        }
    }

    /// The launch of this draw of `n` elements of the Philox stream with key `key` at block
    /// `first_block`, writing to device address `out` (and reading `input`).
    pub fn launch(
        &self,
        key: &Key,
        first_block: u64,
        n: u64,
        out: u64,
        input: u64,
    ) -> Result<Launch> {
        let (s, e) = (PhiloxStream::new(key), PhiloxStream::new(&key.extension()));
        let mut a = KernelArgs {
            key: s.key,
            ctr_hi: s.counter_hi,
            ext_key: e.key,
            ext_ctr_hi: e.counter_hi,
            first_block,
            n,
            out,
            input,
            ..KernelArgs::default()
        };
        let kernel = match *self {
            Draw::Uniform(u) => {
                a.f[..4].copy_from_slice(&u.kernel_constants());
                format!("ss_uniform_{}", suffix(u.format()))
            }
            Draw::Normal { loc, scale, format } => {
                crate::distr::normal::Normal::new(loc, scale)?;
                a.f[0] = loc;
                a.f[1] = scale;
                format!("ss_normal_{}", suffix(format))
            }
            Draw::TruncatedNormal(t) => {
                let (far, c) = t.kernel_constants();
                a.f = c;
                let method = if far { "far" } else { "general" };
                format!("ss_trunc_{method}_{}", suffix(t.format()))
            }
            Draw::Integers { low, range, int } => {
                integers::check_range(range)?;
                a.u[..2].copy_from_slice(&[low as u64, range as u64]); // 2^64 becomes 0, as the kernel expects
                let name = match int {
                    IntType::I64 => "i64",
                    IntType::I32 => "i32",
                    IntType::I16 => "i16",
                    IntType::I8 => "i8",
                    IntType::U8 => "u8",
                };
                format!("ss_integers_{name}")
            }
            Draw::Bernoulli { p } => {
                a.u[0] = bernoulli::threshold(p)?;
                "ss_bernoulli".to_string()
            }
            Draw::BernoulliPerElement => "ss_bernoulli_p".to_string(),
            Draw::Dropout { p, format } => {
                a.u[0] = bernoulli::threshold(p)?;
                a.f[0] = dropout_scale(p, format);
                format!("ss_dropout_{}", suffix(format))
            }
        };
        let blocks = crate::fill::blocks_for(n, self.words_per_element()).ok_or_else(|| {
            Error::invalid("size", format!("{n} elements are too many for one draw"))
        })?;
        Ok(Launch {
            kernel,
            args: a,
            blocks,
        })
    }
}

/// dropout-v1's scale `1 / (1 - p)` (0 for p = 1) as the kernels multiply by it: binary64
/// for float64, the binary32 value for float32 and the 16-bit formats.
fn dropout_scale(p: f64, format: FloatFormat) -> f64 {
    let scale = if p >= 1.0 { 0.0 } else { 1.0 / (1.0 - p) };
    match format {
        FloatFormat::F64 => scale,
        _ => f64::from(scale as f32),
    }
}

/// The launch of sample-dropout-v1 (docs/spec.md#sample-dropout-v1) of `samples` samples'
/// parts `part` in `format`, from `input` into `out` (device addresses of
/// `samples * part.elements()` elements), reading the table at device address `table`
/// (`sample_dropout::fill_kernel_table`). Its `blocks` counts the threads' units of work:
/// one block of one run of one sample each. Nothing is drawn from a stream position.
pub fn sample_dropout_launch(
    p: f64,
    format: FloatFormat,
    samples: u64,
    part: &SampleBox,
    table: u64,
    out: u64,
    input: u64,
) -> Result<Launch> {
    let too_many = || Error::invalid("size", "too many samples for one launch");
    let runs = part.starts().len() as u64;
    let n = samples.checked_mul(part.elements()).ok_or_else(too_many)?;
    let blocks = samples
        .checked_mul(runs)
        .and_then(|v| v.checked_mul(part.blocks_per_run()))
        .ok_or_else(too_many)?;
    let mut a = KernelArgs {
        n,
        out,
        input,
        ..KernelArgs::default()
    };
    a.f[0] = dropout_scale(p, format);
    a.u[..6].copy_from_slice(&[
        bernoulli::threshold(p)?,
        table,
        samples,
        runs,
        part.run(),
        part.blocks_per_run(),
    ]);
    Ok(Launch {
        kernel: format!("ss_sample_dropout_{}", suffix(format)),
        args: a,
        blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_args_layout_matches_ss_args() {
        use std::mem::{align_of, offset_of, size_of};
        assert_eq!(
            (size_of::<KernelArgs>(), align_of::<KernelArgs>()),
            (208, 8)
        );
        assert_eq!(offset_of!(KernelArgs, first_block), 32);
        assert_eq!(offset_of!(KernelArgs, n), 40);
        assert_eq!(offset_of!(KernelArgs, out), 48);
        assert_eq!(offset_of!(KernelArgs, input), 56);
        assert_eq!(offset_of!(KernelArgs, f), 64);
        assert_eq!(offset_of!(KernelArgs, u), 144);
        assert!(KERNELS_SOURCE.contains("sizeof(ss_args) == 208"));
    }

    #[test]
    fn hex_literals() {
        assert_eq!(hex_f64(1.0), "0x1p+0");
        assert_eq!(hex_f64(0.5), "0x1p-1");
        assert_eq!(hex_f64(-3.0), "-0x1.8p+1");
        assert_eq!(hex_f64(ln::LN2_HI_F64), "0x1.62e42feep-1");
        assert_eq!(hex_f64(f64::from_bits(1)), "0x0.0000000000001p-1022");
        assert_eq!(hex_f64(0.0), "0x0p+0");
    }

    #[test]
    fn every_listed_kernel_is_defined_once() {
        for k in KERNELS {
            let def = format!("X({k},");
            assert_eq!(KERNELS_SOURCE.matches(&def).count(), 1, "{k}");
        }
        assert_eq!(KERNELS_SOURCE.matches("    X(ss_").count(), KERNELS.len());
    }

    #[test]
    fn every_constant_is_defined() {
        let src = source();
        for line in HEADER.lines().chain(KERNELS_SOURCE.lines()) {
            for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                let is_constant = word.starts_with("SS_")
                    && word
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    && ![
                        "SS_FN",
                        "SS_KERNELS",
                        "SS_FOR_EACH_BLOCK",
                        "SS_DEFINE_KERNEL",
                    ]
                    .contains(&word);
                if is_constant {
                    assert!(src.contains(&format!("#define {word} ")), "{word}");
                }
            }
        }
    }
}
