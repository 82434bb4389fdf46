//! Output formats of the continuous distributions: binary64, binary32, and the 16-bit
//! formats float16 (IEEE binary16) and bfloat16. A 16-bit value is always the binary32
//! value of the same element rounded to nearest, ties to even (the `half` crate), so the
//! three narrow formats agree wherever they can. Spec: docs/spec.md#float-formats.

#![forbid(unsafe_code)]

use half::{bf16, f16, slice::HalfFloatSliceExt};

/// A floating-point output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatFormat {
    F64,
    F32,
    F16,
    Bf16,
}

impl FloatFormat {
    /// The NumPy-style name: "float64", "float32", "float16", "bfloat16".
    pub fn name(self) -> &'static str {
        match self {
            FloatFormat::F64 => "float64",
            FloatFormat::F32 => "float32",
            FloatFormat::F16 => "float16",
            FloatFormat::Bf16 => "bfloat16",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            FloatFormat::F64,
            FloatFormat::F32,
            FloatFormat::F16,
            FloatFormat::Bf16,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }

    /// Words of the word stream per element: 2 for binary64 (53-bit uniforms), else 1.
    pub fn words_per_element(self) -> usize {
        match self {
            FloatFormat::F64 => 2,
            _ => 1,
        }
    }

    /// The format's value nearest to `x`, ties to even (as binary64). Finite `x` only.
    fn nearest(self, x: f64) -> f64 {
        match self {
            FloatFormat::F64 => x,
            FloatFormat::F32 => f64::from(x as f32),
            FloatFormat::F16 => f16::from_f64(x).to_f64(),
            FloatFormat::Bf16 => bf16::from_f64(x).to_f64(),
        }
    }

    /// The next value of the format above `v` (a value of the format, not +inf).
    fn next_up(self, v: f64) -> f64 {
        fn step(bits: u64, negative: bool, zero: bool) -> Option<u64> {
            // Sign-magnitude: away from zero above 0, towards zero below it.
            match (zero, negative) {
                (true, _) => None,
                (false, false) => Some(bits + 1),
                (false, true) => Some(bits - 1),
            }
        }
        let (zero, neg) = (v == 0.0, v < 0.0);
        match self {
            FloatFormat::F64 => {
                step(v.to_bits(), neg, zero).map_or(f64::from_bits(1), f64::from_bits)
            }
            FloatFormat::F32 => {
                let b = (v as f32).to_bits();
                f64::from(
                    step(u64::from(b), neg, zero)
                        .map_or(f32::from_bits(1), |b| f32::from_bits(b as u32)),
                )
            }
            FloatFormat::F16 => {
                let b = f16::from_f64(v).to_bits();
                step(u64::from(b), neg, zero)
                    .map_or(f16::from_bits(1), |b| f16::from_bits(b as u16))
                    .to_f64()
            }
            FloatFormat::Bf16 => {
                let b = bf16::from_f64(v).to_bits();
                step(u64::from(b), neg, zero)
                    .map_or(bf16::from_bits(1), |b| bf16::from_bits(b as u16))
                    .to_f64()
            }
        }
    }

    /// Whether a binary64 result `x` is finite once stored in this format (through binary32
    /// for the 16-bit formats, as every output is).
    pub fn holds_finite(self, x: f64) -> bool {
        let x32 = x as f32;
        match self {
            FloatFormat::F64 => x.is_finite(),
            FloatFormat::F32 => x32.is_finite(),
            FloatFormat::F16 => f16::from_f32(x32).is_finite(),
            FloatFormat::Bf16 => bf16::from_f32(x32).is_finite(),
        }
    }

    /// The smallest value of the format that is >= `x` (+inf if none is finite); a zero
    /// result is +0.0.
    pub fn round_up(self, x: f64) -> f64 {
        let c = self.nearest(x);
        let c = if c < x { self.next_up(c) } else { c };
        c + 0.0
    }

    /// The largest value of the format that is <= `x` (-inf if none is finite); a zero
    /// result is +0.0.
    pub fn round_down(self, x: f64) -> f64 {
        0.0 - self.round_up(-x)
    }
}

/// A caller's output buffer in one of the formats.
pub enum FloatSlice<'a> {
    F64(&'a mut [f64]),
    F32(&'a mut [f32]),
    F16(&'a mut [f16]),
    Bf16(&'a mut [bf16]),
}

impl FloatSlice<'_> {
    pub fn len(&self) -> usize {
        match self {
            FloatSlice::F64(s) => s.len(),
            FloatSlice::F32(s) => s.len(),
            FloatSlice::F16(s) => s.len(),
            FloatSlice::Bf16(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in `range`, as a shorter slice of the same format.
    pub fn range(&mut self, range: std::ops::Range<usize>) -> FloatSlice<'_> {
        match self {
            FloatSlice::F64(s) => FloatSlice::F64(&mut s[range]),
            FloatSlice::F32(s) => FloatSlice::F32(&mut s[range]),
            FloatSlice::F16(s) => FloatSlice::F16(&mut s[range]),
            FloatSlice::Bf16(s) => FloatSlice::Bf16(&mut s[range]),
        }
    }

    pub fn format(&self) -> FloatFormat {
        match self {
            FloatSlice::F64(_) => FloatFormat::F64,
            FloatSlice::F32(_) => FloatFormat::F32,
            FloatSlice::F16(_) => FloatFormat::F16,
            FloatSlice::Bf16(_) => FloatFormat::Bf16,
        }
    }
}

/// A format that elements computed in binary32 are stored to.
pub trait FromF32: Copy + Send {
    /// `dst[i] = src[i]` rounded to nearest, ties to even.
    fn store(dst: &mut [Self], src: &[f32]);
}

impl FromF32 for f32 {
    #[inline(always)]
    fn store(dst: &mut [f32], src: &[f32]) {
        dst.copy_from_slice(src);
    }
}

impl FromF32 for f16 {
    #[inline(always)]
    fn store(dst: &mut [f16], src: &[f32]) {
        // F16C at the wide SIMD levels, `half`'s software rounding otherwise: both are IEEE
        // round-to-nearest-even, so the bits are the same.
        crate::simd::f32_to_f16_bits(src, dst.reinterpret_cast_mut());
    }
}

impl FromF32 for bf16 {
    #[inline(always)]
    fn store(dst: &mut [bf16], src: &[f32]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = bf16::from_f32(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directed_rounding() {
        use FloatFormat::*;
        assert_eq!(F64.round_up(0.1), 0.1);
        assert_eq!(F32.round_up(0.1), f64::from(0.1f32)); // 0.1f32 is above 0.1
        assert_eq!(
            F32.round_down(0.1),
            f64::from(f32::from_bits(0.1f32.to_bits() - 1))
        );
        assert_eq!(
            F32.round_up(-0.1),
            f64::from(f32::from_bits((-0.1f32).to_bits() - 1))
        );
        assert_eq!(F32.round_down(-0.1), f64::from(-0.1f32));
        assert_eq!(F16.round_up(65504.0), 65504.0);
        assert_eq!(F16.round_up(65504.5), f64::INFINITY);
        assert_eq!(F16.round_down(1e9), 65504.0);
        assert_eq!(F16.round_up(1e-9), f16::from_bits(1).to_f64());
        assert_eq!(F16.round_down(1e-9), 0.0);
        assert_eq!(F16.round_up(-1e-9).to_bits(), 0); // +0.0, not -0.0
        assert_eq!(F16.round_down(1e-9).to_bits(), 0);
        assert_eq!(Bf16.round_up(1.0 + 1e-9), 1.0 + 1.0 / 128.0);
        assert_eq!(Bf16.round_down(1.0 + 1e-9), 1.0);
        assert_eq!(F32.round_up(-1e300), f64::from(f32::MIN));
        for x in [0.3, -0.3, 2.5, 1e-40, -7.0e-46, 3.3e38] {
            for f in [F32, F16, Bf16, F64] {
                let (lo, hi) = (f.round_down(x), f.round_up(x));
                assert!(lo <= x && x <= hi, "{f:?} {x}");
                assert!(hi == lo || f.next_up(lo) == hi, "{f:?} {x}: {lo} {hi}");
            }
        }
    }

    #[test]
    fn narrow_stores_round_from_f32() {
        let src = [
            1.0f32 + 1.0 / 2048.0,
            1.0 + 3.0 / 2048.0,
            1.0 + 1.0 / 256.0,
            -0.0,
            65520.0,
        ];
        let mut h = [f16::ZERO; 5];
        f16::store(&mut h, &src);
        assert_eq!(
            h.map(f16::to_bits),
            [0x3C00, 0x3C02, 0x3C04, 0x8000, 0x7C00]
        );
        let mut b = [bf16::ZERO; 5];
        bf16::store(&mut b, &src);
        assert_eq!(
            b.map(bf16::to_bits),
            [0x3F80, 0x3F80, 0x3F80, 0x8000, 0x4780]
        );
    }

    #[test]
    fn hardware_and_software_float16_rounding_agree() {
        // FromF32 for f16 uses F16C where the CPU has it; `from_f32_const` never does. Both
        // must be IEEE round-to-nearest-even: compare them on every tie point between two
        // float16 values, its neighbours, and a spread of other bit patterns.
        let mut src = Vec::new();
        for h in 0..0x7C00u16 {
            let (a, b) = (f16::from_bits(h).to_f32(), f16::from_bits(h + 1).to_f32());
            let mid = (a + b) / 2.0; // exact in f32
            for x in [
                mid.to_bits() - 1,
                mid.to_bits(),
                mid.to_bits() + 1,
                a.to_bits(),
            ] {
                src.extend([f32::from_bits(x), -f32::from_bits(x)]);
            }
        }
        let mut bits = 1u32;
        while bits < 0x7F80_0000 {
            src.extend([f32::from_bits(bits), -f32::from_bits(bits)]);
            bits += 8191;
        }
        let mut fast = vec![f16::ZERO; src.len()];
        f16::store(&mut fast, &src);
        let mut slice_path = vec![f16::ZERO; src.len()];
        slice_path.convert_from_f32_slice(&src); // `half`'s own F16C path
        for ((x, h), g) in src.iter().zip(&fast).zip(&slice_path) {
            assert_eq!(h.to_bits(), f16::from_f32_const(*x).to_bits(), "{x:e}");
            assert_eq!(g.to_bits(), h.to_bits(), "{x:e}");
        }
    }
}
