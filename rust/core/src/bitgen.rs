//! NumPy's bit-generator interface (`bitgen_t` in numpy/random/bitgen.h) over any engine
//! that produces 64-bit outputs: the four functions NumPy's `Generator` calls, with
//! NumPy's buffering of 32-bit halves. Spec: docs/spec.md#numpy-bit-generators.

#![forbid(unsafe_code)]

/// An engine that produces 64-bit outputs one after another (NumPy's `next_raw`).
pub trait Raw64 {
    fn next_u64(&mut self) -> u64;
}

/// `2^-53`: `(x >> 11) * 2^-53` is exact and lies in [0, 1).
const DOUBLE_UNIT: f64 = 1.0 / 9_007_199_254_740_992.0;

/// Outputs per piece of an interruptible `fill_raw` or `skip_raw`: milliseconds of work, so
/// that Ctrl-C is seen between pieces.
pub const PIECE_OUTPUTS: usize = 1 << 21;

/// An engine plus NumPy's 32-bit buffer.
///
/// `next_u32` splits one 64-bit output: it returns the low half and keeps the high half,
/// which the next `next_u32` returns without touching the engine (`has_uint32` and
/// `uinteger` in NumPy's state dicts). `next_u64`, `next_double` and `next_raw` neither
/// read nor clear that buffer, exactly as in NumPy's C code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitGen<E> {
    engine: E,
    has_uint32: bool,
    uinteger: u32,
}

impl<E: Raw64> BitGen<E> {
    /// A bit generator with an empty 32-bit buffer.
    pub fn new(engine: E) -> Self {
        BitGen {
            engine,
            has_uint32: false,
            uinteger: 0,
        }
    }

    /// A bit generator with the given 32-bit buffer (NumPy's `has_uint32`, `uinteger`).
    pub fn with_buffer(engine: E, has_uint32: bool, uinteger: u32) -> Self {
        BitGen {
            engine,
            has_uint32,
            uinteger,
        }
    }

    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// The engine, for operations such as `advance`; callers that move the engine follow
    /// NumPy and call [`BitGen::clear_buffer`].
    pub fn engine_mut(&mut self) -> &mut E {
        &mut self.engine
    }

    pub fn has_uint32(&self) -> bool {
        self.has_uint32
    }

    pub fn uinteger(&self) -> u32 {
        self.uinteger
    }

    /// Empties the 32-bit buffer (NumPy's `_reset_state_variables` after advance/jump).
    pub fn clear_buffer(&mut self) {
        self.has_uint32 = false;
        self.uinteger = 0;
    }

    /// NumPy `next_uint64`.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.engine.next_u64()
    }

    /// NumPy `next_uint32`: the buffered high half if there is one, else the low half of
    /// a new 64-bit output whose high half is buffered.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.has_uint32 {
            self.has_uint32 = false;
            return self.uinteger;
        }
        let next = self.engine.next_u64();
        self.has_uint32 = true;
        self.uinteger = (next >> 32) as u32;
        next as u32
    }

    /// NumPy `next_double`: `(next_u64() >> 11) * 2^-53`.
    #[inline]
    pub fn next_double(&mut self) -> f64 {
        (self.engine.next_u64() >> 11) as f64 * DOUBLE_UNIT
    }

    /// NumPy `next_raw`: the engine's output, unchanged.
    #[inline]
    pub fn next_raw(&mut self) -> u64 {
        self.engine.next_u64()
    }

    /// `out.len()` calls of `next_raw`, in order.
    pub fn fill_raw(&mut self, out: &mut [u64]) {
        for o in out.iter_mut() {
            *o = self.engine.next_u64();
        }
    }

    /// `count` calls of `next_raw` whose outputs are dropped.
    pub fn skip_raw(&mut self, count: u64) {
        for _ in 0..count {
            self.engine.next_u64();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output k (from 1) is `(k + 100) << 32 | k`: distinct, recognisable halves.
    #[derive(Debug, PartialEq, Eq)]
    struct Counting(u64);
    impl Raw64 for Counting {
        fn next_u64(&mut self) -> u64 {
            self.0 += 1;
            (1 << 32) * (self.0 + 100) + self.0
        }
    }

    #[test]
    fn uint32_halves_low_first_and_independent_of_uint64() {
        let mut g = BitGen::new(Counting(0));
        assert_eq!(g.next_u32(), 1); // low half of output 1
        assert!(g.has_uint32());
        assert_eq!(g.uinteger(), 101);
        // next_u64 neither uses nor clears the buffered half (NumPy's pcg64_next64).
        assert_eq!(g.next_u64(), (102 << 32) + 2);
        assert_eq!(g.next_u32(), 101);
        assert!(!g.has_uint32());
        assert_eq!(g.next_u32(), 3);
    }

    #[test]
    fn double_uses_top_53_bits() {
        let mut g = BitGen::new(Counting(0));
        let x = (101u64 << 32) + 1;
        assert_eq!(g.next_double(), (x >> 11) as f64 / 9_007_199_254_740_992.0);
    }

    #[test]
    fn fill_and_skip_are_next_raw_calls() {
        let mut a = BitGen::with_buffer(Counting(0), true, 7);
        let mut b = BitGen::with_buffer(Counting(0), true, 7);
        let mut out = [0u64; 5];
        a.fill_raw(&mut out);
        for o in out {
            assert_eq!(o, b.next_raw());
        }
        a.skip_raw(3);
        b.fill_raw(&mut out[..3]);
        assert_eq!(a, b);
        assert_eq!(a.next_u32(), 7);
    }
}
