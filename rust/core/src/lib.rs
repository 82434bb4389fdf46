//! seedstream core: deterministic counter-based random numbers for training code.
//!
//! A stream is a key plus a position (a 64-bit block counter). Block `n` of a stream is a
//! pure function of (key, n), so element `i` of any draw depends only on (key, position, i):
//! output is the same on every CPU, thread count and chunk size, and any slice can be
//! produced alone. Every mapping is specified in docs/spec.md and pinned by golden vectors.
//! Float distributions use only the crate's own math (`detmath`), never the platform's
//! libm, so their bits are the same on every machine too.
//!
//! This crate knows nothing of Python; `seedstream._core` binds it.

#![deny(clippy::undocumented_unsafe_blocks)]

pub mod bitgen;
pub mod cuda;
pub mod detmath;
pub mod distr;
pub mod error;
pub mod feistel;
pub mod fill;
pub mod key;
pub mod pcg64;
pub mod philox;
pub mod philox4x64;
pub mod ranges;
pub mod rng;
pub mod seed_sequence;
pub mod simd;
pub mod stream;

pub use bitgen::{BitGen, Raw64};
pub use error::{Error, Result};
pub use key::{Key, Name};
pub use pcg64::{Pcg64Engine, Pcg64Variant};
pub use philox::philox4x32_10;
pub use philox4x64::{philox4x64_10, Philox4x64Engine};
pub use seed_sequence::SeedSequence;
pub use stream::{Algorithm, AnyStream, BlockCursor, BlockFn, BlockReader, StreamReader};
