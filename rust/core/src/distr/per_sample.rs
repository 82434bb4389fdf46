//! Per-sample streams: sample `j` of a batch whose first sample has the global index
//! `first_sample` draws from the child `first_sample + j` of the batch's key, at position 0,
//! so what a sample gets does not depend on how a global batch is split over processes or
//! micro-batches. Spec: docs/spec.md#sample-dropout-v1, docs/spec.md#sample-channel-dropout-v1.

#![forbid(unsafe_code)]

use crate::distr::bernoulli;
use crate::error::{Error, Result};
use crate::key::{Key, Name};
use crate::stream::{Algorithm, AnyStream};

/// The key of the sample with global index `sample`: the child `sample` (an int name) of
/// `parent`.
pub fn sample_key(parent: &Key, sample: u64) -> Key {
    parent.child(&Name::Int(sample))
}

/// The stream of the sample with global index `sample`.
pub fn sample_stream(algorithm: Algorithm, parent: &Key, sample: u64) -> AnyStream {
    AnyStream::new(algorithm, &sample_key(parent, sample))
}

/// The length of one sample when `len` elements hold `samples` samples starting at the
/// global index `first_sample`: an error unless `samples` divides `len` and every index
/// stays below `2^64 - 1`.
pub fn sample_len(first_sample: u64, samples: usize, len: usize) -> Result<usize> {
    if first_sample.checked_add(samples as u64).is_none() {
        return Err(Error::invalid(
            "sample_offset",
            "the last sample's index passes 2**64 - 1",
        ));
    }
    if samples == 0 || !len.is_multiple_of(samples) {
        return Err(Error::invalid(
            "samples",
            format!("expected a positive divisor of the size {len}, got {samples}"),
        ));
    }
    Ok(len / samples)
}

/// `out` as consecutive samples of `per_sample` elements, the first with the global index
/// `first_sample`: sample `j` is `bernoulli(p)` of [`sample_stream`]`(first_sample + j)`
/// from block 0 (each sample's own mask, in C order).
pub fn fill_sample_bernoulli(
    algorithm: Algorithm,
    key: &Key,
    first_sample: u64,
    p: f64,
    per_sample: usize,
    out: &mut [bool],
) -> Result<()> {
    bernoulli::threshold(p)?;
    if per_sample == 0 {
        return Ok(());
    }
    if !out.len().is_multiple_of(per_sample) {
        return Err(Error::invalid(
            "out",
            format!(
                "has {} elements, not whole samples of {per_sample}",
                out.len()
            ),
        ));
    }
    sample_len(first_sample, out.len() / per_sample, out.len())?;
    for (j, mask) in out.chunks_mut(per_sample).enumerate() {
        let src = sample_stream(algorithm, key, first_sample + j as u64);
        bernoulli::fill_bernoulli(&src, 0, p, mask)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sample_is_the_bernoulli_draw_of_its_child_stream() {
        let key = Key::from_seed(&Name::Int(3)).child(&Name::Str("layer"));
        let (first, per) = (40u64, 7usize);
        let mut whole = vec![false; 5 * per];
        fill_sample_bernoulli(Algorithm::Philox, &key, first, 0.4, per, &mut whole).unwrap();
        for j in 0..5 {
            let mut one = vec![false; per];
            let src = AnyStream::new(Algorithm::Philox, &key.child(&Name::Int(first + j as u64)));
            bernoulli::fill_bernoulli(&src, 0, 0.4, &mut one).unwrap();
            assert_eq!(&whole[j * per..(j + 1) * per], &one[..]);
        }
        // A split batch: the same masks.
        let mut tail = vec![false; 2 * per];
        fill_sample_bernoulli(Algorithm::Philox, &key, first + 3, 0.4, per, &mut tail).unwrap();
        assert_eq!(&whole[3 * per..], &tail[..]);
        assert!(whole.iter().any(|&b| b) && whole.iter().any(|&b| !b));
    }

    #[test]
    fn bad_arguments_are_errors() {
        let key = Key::from_seed(&Name::Int(0));
        let mut out = vec![false; 4];
        let e = fill_sample_bernoulli(Algorithm::Pcg64, &key, 0, 1.5, 2, &mut out);
        assert!(matches!(e, Err(Error::InvalidArgument { name: "p", .. })));
        let e = fill_sample_bernoulli(Algorithm::Pcg64, &key, u64::MAX - 1, 0.5, 2, &mut out);
        assert!(matches!(
            e,
            Err(Error::InvalidArgument {
                name: "sample_offset",
                ..
            })
        ));
        let e = fill_sample_bernoulli(Algorithm::Pcg64, &key, 0, 0.5, 3, &mut out);
        assert!(matches!(e, Err(Error::InvalidArgument { name: "out", .. })));
        assert_eq!(
            sample_len(0, 0, 0)
                .unwrap_err()
                .to_string()
                .split(':')
                .next(),
            Some("samples")
        );
    }
}
