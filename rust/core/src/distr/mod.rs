//! Value mappings from the word stream. Each is a plain function over any
//! [`BlockFn`](crate::stream::BlockFn), so Philox and PCG64 share one implementation.
//! Spec: docs/spec.md#methods.

pub mod bernoulli;
pub mod bits;
pub mod dropout;
pub mod float;
pub mod integers;
pub mod normal;
pub mod per_sample;
pub mod permutation;
pub mod sample_dropout;
pub mod truncated_normal;
pub mod uniform;
