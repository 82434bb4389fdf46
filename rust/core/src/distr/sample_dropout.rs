//! sample-dropout-v1: dropout of a batch in which sample `j` is dropped out with its own
//! stream, the child `first_sample + j` of a parent key, at position 0, so a sample's mask
//! does not depend on how a batch is split. A part of each sample (a box of a C-order
//! sample: a tensor-parallel shard) gets that part of the whole sample's mask.
//! Spec: docs/spec.md#sample-dropout-v1 and #element-ranges.

#![forbid(unsafe_code)]

use half::{bf16, f16};

use crate::distr::bernoulli::{threshold, Below};
use crate::distr::dropout::{fill_masked_range, DropoutElement, HalfFormat};
use crate::distr::per_sample::sample_key;
use crate::error::{Error, Result};
use crate::fill::{for_each_chunk, PIECE_BLOCKS};
use crate::key::Key;
use crate::ranges::BoxArgs;
use crate::stream::{Algorithm, AnyStream};

/// A child key costs about as much as dropout of this many elements (one SHA-256 of two
/// 64-byte blocks, measured on x86-64): the unit of the work estimates below.
const KEY_ELEMENTS: usize = 256;

/// Work, in elements, of one parallel task: tens of microseconds, which amortises handing
/// the task to a thread.
const TASK_ELEMENTS: usize = 1 << 16;

/// The part of each sample a batch holds: element `k` of the part (C order) is element
/// `starts[k / run] + k % run` of the sample's whole draw. One run for a whole sample or a
/// split along the first dimension; one per row segment for a split along a later one.
pub use crate::ranges::ElementBox as SampleBox;

/// The names of a sample box's arguments in the sample dropout API.
pub const SAMPLE_BOX_ARGS: BoxArgs = BoxArgs {
    shape: "sample_shape",
    offset: "element_offset",
};

/// The box `offset + [0, local)` of a C-order sample of `shape`.
pub fn sample_part(shape: &[u64], offset: &[u64], local: &[u64]) -> Result<SampleBox> {
    SampleBox::new(shape, offset, local, SAMPLE_BOX_ARGS)
}

/// Samples per parallel task for samples of `elements` elements.
fn samples_per_task(elements: usize) -> usize {
    (TASK_ELEMENTS / (elements + KEY_ELEMENTS)).max(1)
}

/// How a call of `samples` samples of `elements` elements each is split into pieces
/// between which the caller may check for signals: ranges of samples of about a piece of
/// a large fill (`PIECE_BLOCKS` blocks of one-word elements), keys counted.
pub fn sample_pieces(
    samples: usize,
    elements: usize,
) -> impl Iterator<Item = std::ops::Range<usize>> {
    let per_piece = (PIECE_BLOCKS as usize * 4 / elements.saturating_add(KEY_ELEMENTS)).max(1);
    (0..samples)
        .step_by(per_piece)
        .map(move |s| s..samples.min(s + per_piece))
}

/// Checks a call's sizes and sample indices; returns the number of samples.
fn check_samples(part: &SampleBox, first_sample: u64, input: usize, out: usize) -> Result<usize> {
    if input != out {
        return Err(Error::invalid(
            "out",
            format!("has {out} elements but the input has {input}"),
        ));
    }
    let m = part.elements();
    if m == 0 {
        if input != 0 {
            return Err(Error::invalid(
                "input",
                format!("samples have no elements, but the input has {input}"),
            ));
        }
        return Ok(0);
    }
    if !(input as u64).is_multiple_of(m) {
        return Err(Error::invalid(
            "input",
            format!("{input} elements are not a whole number of samples of {m}"),
        ));
    }
    let samples = (input as u64 / m) as usize;
    if first_sample.checked_add(samples as u64).is_none() {
        return Err(Error::invalid(
            "sample_offset",
            "the last sample's index passes 2**64 - 1",
        ));
    }
    Ok(samples)
}

/// The mask applied to every sample's part: `zero` where dropped, `keep(x)` elsewhere.
#[allow(clippy::too_many_arguments)]
fn fill_samples_masked<I, O, K>(
    algorithm: Algorithm,
    parent: &Key,
    first_sample: u64,
    p: f64,
    part: &SampleBox,
    input: &[I],
    out: &mut [O],
    zero: O,
    keep: K,
) -> Result<()>
where
    I: Copy + Sync,
    O: Copy + Send + Sync,
    K: Fn(I) -> O + Sync + Send,
{
    let dropped = Below::new(threshold(p)?);
    let samples = check_samples(part, first_sample, input.len(), out.len())?;
    if samples == 0 {
        return Ok(());
    }
    let m = part.elements() as usize;
    let run = part.run() as usize;
    let per_task = samples_per_task(m);
    for_each_chunk(out, per_task * m, samples > per_task, |task, o| {
        let first = task * per_task;
        for (j, o) in o.chunks_mut(m).enumerate() {
            let index = first_sample + (first + j) as u64;
            let src = AnyStream::new(algorithm, &sample_key(parent, index));
            let x = &input[(first + j) * m..][..m];
            for ((&start, o), x) in part
                .starts()
                .iter()
                .zip(o.chunks_mut(run))
                .zip(x.chunks(run))
            {
                fill_masked_range(&src, 0, start, dropped, x, o, zero, &keep);
            }
        }
    });
    Ok(())
}

/// Dropout-v1 of each sample's part: `input` and `out` hold consecutive samples' parts
/// (`part.elements()` each); sample `j` uses the stream of `sample_key(parent,
/// first_sample + j)` of `algorithm` at position 0 (a sample's part is its range of that
/// draw). Samples run in parallel on the fill pool when there is enough work.
pub fn fill_sample_dropout<T: DropoutElement>(
    algorithm: Algorithm,
    parent: &Key,
    first_sample: u64,
    p: f64,
    part: &SampleBox,
    input: &[T],
    out: &mut [T],
) -> Result<()> {
    let scale = T::scale(p);
    fill_samples_masked(
        algorithm,
        parent,
        first_sample,
        p,
        part,
        input,
        out,
        T::zero(),
        move |x: T| x.scaled(scale),
    )
}

/// [`fill_sample_dropout`] over raw 16-bit float bits.
#[allow(clippy::too_many_arguments)]
pub fn fill_sample_dropout_half_bits(
    algorithm: Algorithm,
    parent: &Key,
    first_sample: u64,
    p: f64,
    format: HalfFormat,
    part: &SampleBox,
    input: &[u16],
    out: &mut [u16],
) -> Result<()> {
    let scale = f32::scale(p);
    match format {
        HalfFormat::F16 => fill_samples_masked(
            algorithm,
            parent,
            first_sample,
            p,
            part,
            input,
            out,
            0,
            move |x: u16| f16::from_bits(x).scaled(scale).to_bits(),
        ),
        HalfFormat::Bf16 => fill_samples_masked(
            algorithm,
            parent,
            first_sample,
            p,
            part,
            input,
            out,
            0,
            move |x: u16| bf16::from_bits(x).scaled(scale).to_bits(),
        ),
    }
}

/// Words of the table a GPU sample dropout reads (see [`fill_kernel_table`]).
pub fn kernel_table_words(samples: u64, part: &SampleBox) -> Option<u64> {
    samples
        .checked_mul(4)?
        .checked_add(2 * part.starts().len() as u64)
}

/// The table a GPU sample dropout reads: the Philox key of each sample (key words 0..4 of
/// `sample_key(parent, first_sample + j)`: the Philox key, then the upper counter words),
/// then each run's start as a 64-bit value (low word first). Keys are derived in parallel
/// on the fill pool when there are many.
pub fn fill_kernel_table(
    parent: &Key,
    first_sample: u64,
    samples: usize,
    part: &SampleBox,
    out: &mut [u32],
) -> Result<()> {
    if kernel_table_words(samples as u64, part) != Some(out.len() as u64) {
        return Err(Error::invalid(
            "out",
            format!(
                "expected {} words for {samples} samples of {} runs, got {}",
                4 * samples + 2 * part.starts().len(),
                part.starts().len(),
                out.len()
            ),
        ));
    }
    if first_sample.checked_add(samples as u64).is_none() {
        return Err(Error::invalid(
            "sample_offset",
            "the last sample's index passes 2**64 - 1",
        ));
    }
    let (keys, starts) = out.split_at_mut(4 * samples);
    let per_task = samples_per_task(0);
    if samples > 0 {
        for_each_chunk(keys, 4 * per_task, samples > per_task, |task, k| {
            for (j, w) in k.chunks_exact_mut(4).enumerate() {
                let key = sample_key(parent, first_sample + (task * per_task + j) as u64);
                for (i, w) in w.iter_mut().enumerate() {
                    *w = key.word(i);
                }
            }
        });
    }
    for (w, &s) in starts.chunks_exact_mut(2).zip(part.starts()) {
        w[0] = s as u32;
        w[1] = (s >> 32) as u32;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distr::dropout::fill_dropout;
    use crate::key::Name;
    use crate::stream::PhiloxStream;

    fn parent() -> Key {
        Key::from_seed(&Name::Str("sample-dropout")).child(&Name::Int(2))
    }

    /// The box of `whole` (one sample, C order) at `offset` of size `local`.
    fn slice_box(whole: &[f32], shape: &[u64], offset: &[u64], local: &[u64]) -> Vec<f32> {
        let n: u64 = local.iter().product();
        (0..n)
            .map(|mut k| {
                let (mut stride, mut flat) = (1u64, 0u64);
                for d in (0..shape.len()).rev() {
                    flat += (offset[d] + k % local[d]) * stride;
                    k /= local[d];
                    stride *= shape[d];
                }
                whole[flat as usize]
            })
            .collect()
    }

    #[test]
    fn boxes_are_slices_of_the_whole_samples_masks() {
        let cases: &[(&[u64], &[u64], &[u64])] = &[
            (&[7], &[0], &[7]),
            (&[7], &[3], &[4]),
            (&[4, 7], &[0, 3], &[4, 2]),
            (&[4, 7], &[1, 0], &[2, 7]),
            (&[4, 7], &[2, 5], &[1, 1]),
            (&[3, 5, 6], &[1, 2, 1], &[2, 3, 5]),
            (&[3, 5, 6], &[0, 0, 3], &[3, 5, 3]),
            (&[2, 3, 4, 5], &[1, 0, 1, 0], &[1, 3, 2, 5]),
            (&[], &[], &[]),
            // Runs longer than a short run, starting inside a block.
            (&[3, 3000], &[1, 1001], &[2, 1999]),
            (&[5000], &[3], &[4001]),
        ];
        for &(shape, offset, local) in cases {
            let part = sample_part(shape, offset, local).unwrap();
            let whole_m: u64 = shape.iter().product();
            let m = part.elements() as usize;
            assert_eq!(m as u64, local.iter().product::<u64>());
            let samples = if whole_m > 1000 { 40 } else { 1100 }; // several parallel tasks
            let x: Vec<f32> = (0..whole_m as usize * samples)
                .map(|i| i as f32 * 0.25 - 7.0)
                .collect();
            let mut want = Vec::with_capacity(m * samples);
            for j in 0..samples {
                let src = PhiloxStream::new(&sample_key(&parent(), 40 + j as u64));
                let xs = &x[j * whole_m as usize..][..whole_m as usize];
                let mut full = vec![0f32; whole_m as usize];
                fill_dropout(&src, 0, 0.3, xs, &mut full).unwrap();
                want.extend(slice_box(&full, shape, offset, local));
            }
            let xin: Vec<f32> = (0..samples)
                .flat_map(|j| {
                    slice_box(
                        &x[j * whole_m as usize..][..whole_m as usize],
                        shape,
                        offset,
                        local,
                    )
                })
                .collect();
            let mut got = vec![f32::NAN; m * samples];
            fill_sample_dropout(Algorithm::Philox, &parent(), 40, 0.3, &part, &xin, &mut got)
                .unwrap();
            assert!(
                got.iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{shape:?} {offset:?} {local:?}"
            );
        }
    }

    #[test]
    fn sample_boxes_name_the_sample_arguments() {
        // The runs themselves: crate::ranges' tests.
        let b = sample_part(&[4, 7], &[1, 3], &[2, 4]).unwrap();
        assert_eq!((b.starts(), b.run()), (&[10u64, 17][..], 4));
        for (e, want) in [
            (sample_part(&[4, 7], &[0, 5], &[1, 3]), "element_offset"),
            (sample_part(&[4, 7], &[0], &[1, 3]), "sample_shape"),
            (
                sample_part(&[1 << 40, 1 << 40], &[0, 0], &[1, 1]),
                "sample_shape",
            ),
        ] {
            assert!(matches!(e, Err(Error::InvalidArgument { name, .. }) if name == want));
        }
    }

    #[test]
    fn sizes_and_indices_are_checked() {
        let part = SampleBox::whole(3);
        let x = [1f32; 6];
        let mut o = [0f32; 6];
        let e = fill_sample_dropout(
            Algorithm::Philox,
            &parent(),
            0,
            0.5,
            &part,
            &x[..5],
            &mut o[..5],
        );
        assert!(matches!(
            e,
            Err(Error::InvalidArgument { name: "input", .. })
        ));
        let e = fill_sample_dropout(
            Algorithm::Philox,
            &parent(),
            u64::MAX - 1,
            0.5,
            &part,
            &x,
            &mut o,
        );
        assert!(matches!(
            e,
            Err(Error::InvalidArgument {
                name: "sample_offset",
                ..
            })
        ));
        let e = fill_sample_dropout(Algorithm::Philox, &parent(), 0, 0.5, &part, &x, &mut o[..3]);
        assert!(matches!(e, Err(Error::InvalidArgument { name: "out", .. })));
        let e = fill_sample_dropout(Algorithm::Philox, &parent(), 0, 1.5, &part, &x, &mut o);
        assert!(matches!(e, Err(Error::InvalidArgument { name: "p", .. })));
    }

    #[test]
    fn kernel_table_holds_keys_and_starts() {
        let part = sample_part(&[4, 7], &[1, 3], &[2, 4]).unwrap();
        let samples = 700; // several parallel tasks
        let mut t = vec![0u32; kernel_table_words(samples as u64, &part).unwrap() as usize];
        fill_kernel_table(&parent(), 9, samples, &part, &mut t).unwrap();
        for j in [0, 1, 255, 256, 699] {
            let s = PhiloxStream::new(&sample_key(&parent(), 9 + j as u64));
            assert_eq!(
                &t[4 * j..4 * j + 4],
                &[s.key[0], s.key[1], s.counter_hi[0], s.counter_hi[1]]
            );
        }
        assert_eq!(&t[4 * samples..], &[10, 0, 17, 0]);
        assert!(fill_kernel_table(&parent(), 9, samples, &part, &mut t[1..]).is_err());
    }

    #[test]
    fn pieces_cover_every_sample_once() {
        for (samples, m) in [(0, 5), (1, 1 << 30), (10_000, 1), (100_000, 4096)] {
            let v: Vec<_> = sample_pieces(samples, m).collect();
            assert_eq!(v.iter().map(|r| r.len()).sum::<usize>(), samples);
            assert!(v.windows(2).all(|w| w[0].end == w[1].start));
        }
    }
}
