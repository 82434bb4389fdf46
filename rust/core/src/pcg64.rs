//! PCG64 (XSL-RR 128/64) and PCG64-DXSM (O'Neill, "PCG: A family of simple fast
//! space-efficient statistically good algorithms", 2014), bit-identical to NumPy's
//! `PCG64` and `PCG64DXSM` for the same 128-bit state and increment.
//!
//! Spec: docs/spec.md#pcg64. NumPy seeds both variants with the same routine,
//! `pcg_setseq_128_srandom_r`, which uses the 128-bit multiplier.

#![forbid(unsafe_code)]

use crate::bitgen::Raw64;

/// The 128-bit LCG multiplier (pcg-cpp `PCG_DEFAULT_MULTIPLIER_128`).
pub const PCG_MULTIPLIER_128: u128 = 0x2360_ED05_1FC6_5DA4_4385_DF64_9FCC_F645;
/// The 64-bit "cheap multiplier" of the DXSM variant (pcg-cpp `cheap_multiplier`).
pub const PCG_CHEAP_MULTIPLIER: u64 = 0xDA94_2042_E4DD_58B5;

/// Jump size of NumPy's `PCG64.jumped` (golden ratio in 128 bits).
pub const PCG_JUMP: u128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835;

/// Which output function a [`Pcg64Engine`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pcg64Variant {
    /// NumPy `PCG64`: step with the 128-bit multiplier, then XSL-RR of the new state.
    XslRr,
    /// NumPy `PCG64DXSM`: DXSM of the current state, then step with the cheap multiplier.
    Dxsm,
}

/// A PCG64 stream: 128-bit LCG state and odd increment. `Clone` but not `Copy`, so that a
/// silent copy cannot repeat numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcg64Engine {
    state: u128,
    increment: u128,
    variant: Pcg64Variant,
}

/// `a^n`-style composition of the affine map `x -> m*x + c` applied `delta` times
/// (Brown, "Random number generation with arbitrary strides", 1994). O(log delta).
pub fn lcg128_advance(state: u128, delta: u128, mult: u128, inc: u128) -> u128 {
    let (mut acc_mult, mut acc_plus) = (1u128, 0u128);
    let (mut cur_mult, mut cur_plus) = (mult, inc);
    let mut d = delta;
    while d > 0 {
        if d & 1 == 1 {
            acc_mult = acc_mult.wrapping_mul(cur_mult);
            acc_plus = acc_plus.wrapping_mul(cur_mult).wrapping_add(cur_plus);
        }
        cur_plus = cur_mult.wrapping_add(1).wrapping_mul(cur_plus);
        cur_mult = cur_mult.wrapping_mul(cur_mult);
        d >>= 1;
    }
    acc_mult.wrapping_mul(state).wrapping_add(acc_plus)
}

impl Pcg64Engine {
    /// An engine with exactly this state and increment (the increment must be odd, as in
    /// NumPy's state dict; an even one is made odd by setting bit 0, as pcg does).
    pub fn from_state(state: u128, increment: u128, variant: Pcg64Variant) -> Self {
        Pcg64Engine {
            state,
            increment: increment | 1,
            variant,
        }
    }

    /// NumPy's seeding (`pcg_setseq_128_srandom_r`) from `initstate` and `initseq`, for
    /// both variants.
    pub fn seed(initstate: u128, initseq: u128, variant: Pcg64Variant) -> Self {
        let increment = (initseq << 1) | 1;
        let mut state = increment;
        state = state.wrapping_add(initstate);
        state = state
            .wrapping_mul(PCG_MULTIPLIER_128)
            .wrapping_add(increment);
        Pcg64Engine {
            state,
            increment,
            variant,
        }
    }

    /// NumPy's `PCG64(seed)` / `PCG64DXSM(seed)` from `w = SeedSequence(seed).generate_state(4,
    /// uint64)`: `initstate = w[0] << 64 | w[1]`, `initseq = w[2] << 64 | w[3]`.
    pub fn from_seed_words(words: [u64; 4], variant: Pcg64Variant) -> Self {
        let join = |hi: u64, lo: u64| (u128::from(hi) << 64) | u128::from(lo);
        Self::seed(join(words[0], words[1]), join(words[2], words[3]), variant)
    }

    pub fn state(&self) -> u128 {
        self.state
    }

    pub fn increment(&self) -> u128 {
        self.increment
    }

    pub fn variant(&self) -> Pcg64Variant {
        self.variant
    }

    fn multiplier(&self) -> u128 {
        match self.variant {
            Pcg64Variant::XslRr => PCG_MULTIPLIER_128,
            Pcg64Variant::Dxsm => u128::from(PCG_CHEAP_MULTIPLIER),
        }
    }

    /// The next 64-bit output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        match self.variant {
            Pcg64Variant::XslRr => {
                self.state = self
                    .state
                    .wrapping_mul(PCG_MULTIPLIER_128)
                    .wrapping_add(self.increment);
                let s = self.state;
                let rot = (s >> 122) as u32;
                (((s >> 64) as u64) ^ (s as u64)).rotate_right(rot)
            }
            Pcg64Variant::Dxsm => {
                let s = self.state;
                let mut hi = (s >> 64) as u64;
                let lo = (s as u64) | 1;
                hi ^= hi >> 32;
                hi = hi.wrapping_mul(PCG_CHEAP_MULTIPLIER);
                hi ^= hi >> 48;
                hi = hi.wrapping_mul(lo);
                self.state = s
                    .wrapping_mul(u128::from(PCG_CHEAP_MULTIPLIER))
                    .wrapping_add(self.increment);
                hi
            }
        }
    }

    /// Advances by `delta` outputs (mod 2^128) in O(log delta) steps.
    pub fn advance(&mut self, delta: u128) {
        self.state = lcg128_advance(self.state, delta, self.multiplier(), self.increment);
    }

    /// NumPy's `jumped(jumps)` applied in place: `advance(jumps * PCG_JUMP)` (mod 2^128).
    pub fn jump(&mut self, jumps: u128) {
        self.advance(jumps.wrapping_mul(PCG_JUMP));
    }
}

impl Raw64 for Pcg64Engine {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        Pcg64Engine::next_u64(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_pcg_c_check_pcg64_round_1() {
        // imneme/pcg-c test-high/expected/check-pcg64.out, "Round 1: 64bit", pcg64_srandom_r(42, 54).
        let mut g = Pcg64Engine::seed(42, 54, Pcg64Variant::XslRr);
        assert_eq!(g.state(), 0xde2bce05be013be3d3f6c45a41e54320);
        let want = [
            0x86b1da1d72062b68u64,
            0x1304aa46c9853d39,
            0xa3670e9e0dd50358,
            0xf9090e529a7dae00,
            0xc85b9fd837996f2c,
            0x606121f8e3919196,
        ];
        for w in want {
            assert_eq!(g.next_u64(), w);
        }
        // "Again": stepping back 6 reproduces the same six.
        g.advance(6u128.wrapping_neg());
        for w in want {
            assert_eq!(g.next_u64(), w);
        }
    }

    #[test]
    fn dxsm_matches_pcg_cpp_cm_setseq_dxsm() {
        // rust-random/rand rand_pcg/tests/lcg128cmdxsm64.rs (pcg-cpp cm_setseq_dxsm_128_64(42, 54)),
        // which seeds with the cheap multiplier: state = (42 + inc) * C + inc.
        let inc: u128 = (54 << 1) | 1;
        let state = (42u128 + inc)
            .wrapping_mul(u128::from(PCG_CHEAP_MULTIPLIER))
            .wrapping_add(inc);
        let mut g = Pcg64Engine::from_state(state, inc, Pcg64Variant::Dxsm);
        for w in [
            0xf0847c9518bddb90u64,
            0x8e7d5f5514ba8aaa,
            0x86fbd36f8028f6fd,
        ] {
            assert_eq!(g.next_u64(), w);
        }
        // With NumPy's seeding the first output differs (../shared/reference README, section 6).
        assert_eq!(
            Pcg64Engine::seed(42, 54, Pcg64Variant::Dxsm).next_u64(),
            10070132190142401410
        );
    }

    #[test]
    fn numpy_seed_words() {
        // ../shared/reference README section 3: seed 0xdeadbeaf gives these words, state
        // and increment for both variants.
        let words = [
            0x50312a63d516e24a,
            0x4063bc8bca44dc77,
            0xb780f022ab4ec9e2,
            0x2056086e8249885a,
        ];
        for variant in [Pcg64Variant::XslRr, Pcg64Variant::Dxsm] {
            let g = Pcg64Engine::from_seed_words(words, variant);
            assert_eq!(g.state(), 0xdcbf51eca8a06d6da11c0e6f95be4591);
            assert_eq!(g.increment(), 0x6f01e045569d93c440ac10dd049310b5);
        }
    }

    #[test]
    fn advance_equals_stepping() {
        for variant in [Pcg64Variant::XslRr, Pcg64Variant::Dxsm] {
            let mut a = Pcg64Engine::seed(0x1234, 0x5678, variant);
            let mut b = a.clone();
            for k in [0u128, 1, 2, 3, 17, 1000] {
                a.advance(k);
                for _ in 0..k {
                    b.next_u64();
                }
                assert_eq!(a, b);
                assert_eq!(a.next_u64(), b.next_u64());
            }
        }
    }
}
