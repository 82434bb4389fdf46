//! Public-API properties of streams: random access, chunk and thread invariance, and
//! jump-ahead against stepping.

use seedstream_core::distr::float::{FloatFormat, FloatSlice};
use seedstream_core::distr::normal::Normal;
use seedstream_core::distr::truncated_normal::TruncatedNormal;
use seedstream_core::distr::uniform::UniformRange;
use seedstream_core::distr::{bernoulli, bits, dropout, integers, permutation, uniform};
use seedstream_core::fill::{self, blocks_for};
use seedstream_core::simd::{self, SimdLevel};
use seedstream_core::{Algorithm, AnyStream, BlockCursor, BlockFn, Key, Name};

fn streams() -> Vec<(AnyStream, AnyStream)> {
    let key = Key::from_seed(&Name::Str("props")).child(&Name::Int(5));
    [Algorithm::Philox, Algorithm::Pcg64]
        .into_iter()
        .map(|a| (AnyStream::new(a, &key), AnyStream::new(a, &key.extension())))
        .collect()
}

#[test]
fn cursor_from_any_block_equals_single_blocks() {
    for (s, _) in streams() {
        for first in [0u64, 1, 63, 64, 1000] {
            let mut run = vec![[0u32; 4]; 130];
            s.cursor(first).next_blocks(&mut run);
            for (i, b) in run.iter().enumerate() {
                assert_eq!(*b, s.block(first + i as u64));
            }
        }
    }
}

#[test]
fn fill_from_later_block_is_the_tail_of_a_fill() {
    for (s, e) in streams() {
        let mut whole = vec![0f32; 4 * 500];
        uniform::fill_f32(&s, 0, &mut whole);
        let mut tail = vec![0f32; 4 * 300];
        uniform::fill_f32(&s, 200, &mut tail);
        assert_eq!(&whole[800..], &tail[..]);

        let mut whole = vec![0u16; 2 * 500];
        integers::fill_integers(&s, &e, 0, 3, 60_000, &mut whole).unwrap();
        let mut tail = vec![0u16; 2 * 300];
        integers::fill_integers(&s, &e, 200, 3, 60_000, &mut tail).unwrap();
        assert_eq!(&whole[400..], &tail[..]);
    }
}

/// The bits of every continuous distribution (normal, uniform, truncated normal in the
/// general and the far-tail method) in every float format, `n` elements from block 3.
fn continuous_bits(s: &AnyStream, n: usize) -> Vec<Vec<u64>> {
    let normal = Normal::new(-1.0, 3.0).unwrap();
    let mut all = Vec::new();
    for format in [
        FloatFormat::F64,
        FloatFormat::F32,
        FloatFormat::F16,
        FloatFormat::Bf16,
    ] {
        let uniform = UniformRange::new(-2.0, 5.0, format).unwrap();
        let general = TruncatedNormal::new(0.5, 2.0, -1.0, 4.0, format).unwrap();
        let far = TruncatedNormal::new(0.0, 1.0, 30.5, 31.0, format).unwrap();
        for which in 0..4 {
            let fill = |out: FloatSlice<'_>| match which {
                0 => normal.fill(s, 3, out),
                1 => uniform.fill(s, 3, out).unwrap(),
                2 => general.fill(s, 3, out).unwrap(),
                _ => far.fill(s, 3, out).unwrap(),
            };
            all.push(match format {
                FloatFormat::F64 => {
                    let mut v = vec![0f64; n];
                    fill(FloatSlice::F64(&mut v));
                    v.iter().map(|x| x.to_bits()).collect()
                }
                FloatFormat::F32 => {
                    let mut v = vec![0f32; n];
                    fill(FloatSlice::F32(&mut v));
                    v.iter().map(|x| u64::from(x.to_bits())).collect()
                }
                FloatFormat::F16 => {
                    let mut v = vec![half::f16::ZERO; n];
                    fill(FloatSlice::F16(&mut v));
                    v.iter().map(|x| u64::from(x.to_bits())).collect()
                }
                FloatFormat::Bf16 => {
                    let mut v = vec![half::bf16::ZERO; n];
                    fill(FloatSlice::Bf16(&mut v));
                    v.iter().map(|x| u64::from(x.to_bits())).collect()
                }
            });
        }
    }
    all
}

// One test changes the global thread, chunk and SIMD settings, so all such checks live here.
#[test]
fn output_is_independent_of_threads_chunks_and_simd_level() {
    let levels: Vec<SimdLevel> = [
        SimdLevel::Scalar,
        SimdLevel::Baseline,
        SimdLevel::Avx2,
        SimdLevel::Avx512,
    ]
    .into_iter()
    .filter(|l| l.is_supported())
    .collect();
    for (s, e) in streams() {
        let n = 10_007;
        fill::set_num_threads(1).unwrap();
        simd::set_simd_level(SimdLevel::Scalar);
        let mut want_u64 = vec![0u64; n];
        bits::fill_u64(&s, 9, &mut want_u64);
        let mut want_f64 = vec![0f64; n];
        uniform::fill_f64(&s, 9, &mut want_f64);
        let mut want_u32 = vec![0u32; n];
        bits::fill_u32(&s, 9, &mut want_u32);
        let mut want_f32 = vec![0f32; n];
        uniform::fill_f32(&s, 9, &mut want_f32);
        let mut want_i = vec![0i32; n];
        integers::fill_integers(&s, &e, 9, -7, 1 << 40, &mut want_i).unwrap();
        let mut want_b = vec![false; n];
        bernoulli::fill_bernoulli(&s, 9, 0.25, &mut want_b).unwrap();
        let mut want_small = vec![0i64; n];
        integers::fill_integers(&s, &e, 9, -5, 1000, &mut want_small).unwrap();
        let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 7.0).collect();
        let mut want_drop = vec![0f32; n];
        dropout::fill_dropout(&s, 9, 0.3, &x, &mut want_drop).unwrap();
        let want_continuous = continuous_bits(&s, 3001);
        for &level in &levels {
            for threads in [1usize, 2, 7] {
                for chunk in [1u64, 5, 64, 1 << 14] {
                    simd::set_simd_level(level);
                    fill::set_num_threads(threads).unwrap();
                    fill::set_chunk_blocks(chunk).unwrap();
                    let mut got = vec![0u64; n];
                    bits::fill_u64(&s, 9, &mut got);
                    assert_eq!(got, want_u64, "{level:?} {threads} {chunk}");
                    let mut got = vec![0f64; n];
                    uniform::fill_f64(&s, 9, &mut got);
                    assert!(got
                        .iter()
                        .zip(&want_f64)
                        .all(|(a, b)| a.to_bits() == b.to_bits()));
                    let mut got = vec![0u32; n];
                    bits::fill_u32(&s, 9, &mut got);
                    assert_eq!(got, want_u32, "{level:?} {threads} {chunk}");
                    let mut got = vec![0f32; n];
                    uniform::fill_f32(&s, 9, &mut got);
                    assert!(got
                        .iter()
                        .zip(&want_f32)
                        .all(|(a, b)| a.to_bits() == b.to_bits()));
                    let mut got = vec![0i32; n];
                    integers::fill_integers(&s, &e, 9, -7, 1 << 40, &mut got).unwrap();
                    assert_eq!(got, want_i);
                    let mut got = vec![false; n];
                    bernoulli::fill_bernoulli(&s, 9, 0.25, &mut got).unwrap();
                    assert_eq!(got, want_b);
                    let mut got = vec![0i64; n];
                    integers::fill_integers(&s, &e, 9, -5, 1000, &mut got).unwrap();
                    assert_eq!(got, want_small);
                    let mut got = vec![0f32; n];
                    dropout::fill_dropout(&s, 9, 0.3, &x, &mut got).unwrap();
                    assert!(got
                        .iter()
                        .zip(&want_drop)
                        .all(|(a, b)| a.to_bits() == b.to_bits()));
                    assert!(
                        continuous_bits(&s, 3001) == want_continuous,
                        "{level:?} {threads} {chunk}"
                    );
                }
            }
        }
    }
    fill::set_chunk_blocks(1 << 14).unwrap();
}

#[test]
fn words_per_element_and_block_counts() {
    assert_eq!(blocks_for(0, 1), Some(0));
    assert_eq!(blocks_for(5, 1), Some(2));
    assert_eq!(blocks_for(5, 2), Some(3));
    assert_eq!(blocks_for(u64::MAX, 2), Some(1 << 63));
    assert_eq!(permutation::blocks_for_permutation(0), 0);
    assert_eq!(permutation::blocks_for_permutation(1), 0);
    assert_eq!(permutation::blocks_for_permutation(4), 2);
    assert!(fill::reserve(u64::MAX - 1, 2).is_err());
    assert_eq!(fill::reserve(u64::MAX - 1, 1).unwrap(), u64::MAX);
}

#[test]
fn bits_u64_pairs_words_little_endian() {
    for (s, _) in streams() {
        let mut w = vec![0u32; 8];
        bits::fill_u32(&s, 4, &mut w);
        let mut d = vec![0u64; 4];
        bits::fill_u64(&s, 4, &mut d);
        for i in 0..4 {
            assert_eq!(d[i], u64::from(w[2 * i]) | (u64::from(w[2 * i + 1]) << 32));
        }
    }
}

#[test]
fn continuous_fills_from_a_later_block_are_tails() {
    // Random access and the prefix property for the Box-Muller pairs and the quantiles:
    // a fill from block 3 + k is the tail of a fill from block 3 (k blocks later).
    for (s, _) in streams() {
        let normal = Normal::new(0.0, 1.0).unwrap();
        let tn = TruncatedNormal::new(0.0, 1.0, -2.0, 2.0, FloatFormat::F32).unwrap();
        let mut whole = vec![0f32; 1001];
        normal.fill(&s, 3, FloatSlice::F32(&mut whole));
        let mut tail = vec![0f32; 1001 - 4 * 7];
        normal.fill(&s, 3 + 7, FloatSlice::F32(&mut tail));
        assert_eq!(&whole[28..], &tail[..]);
        let mut prefix = vec![0f32; 5];
        normal.fill(&s, 3, FloatSlice::F32(&mut prefix));
        assert_eq!(&whole[..5], &prefix[..]);
        let mut whole = vec![0f64; 999];
        normal.fill(&s, 3, FloatSlice::F64(&mut whole));
        let mut tail = vec![0f64; 999 - 2 * 11];
        normal.fill(&s, 3 + 11, FloatSlice::F64(&mut tail));
        assert_eq!(&whole[22..], &tail[..]);
        let mut whole = vec![0f32; 600];
        tn.fill(&s, 3, FloatSlice::F32(&mut whole)).unwrap();
        let mut tail = vec![0f32; 600 - 4 * 9];
        tn.fill(&s, 3 + 9, FloatSlice::F32(&mut tail)).unwrap();
        assert_eq!(&whole[36..], &tail[..]);
    }
}

#[test]
fn fills_in_pieces_equal_one_fill() {
    // Pieces are what the bindings fill between checks for Ctrl-C; lengths cross two piece
    // boundaries and end inside a block.
    let (s, e) = &streams()[0];
    let per_piece = fill::PIECE_BLOCKS as usize;
    for words in [1usize, 2] {
        let n = 2 * per_piece * 4 / words + 3;
        let pieces: Vec<_> = fill::pieces(7, n, words).collect();
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[2].0, 7 + 2 * fill::PIECE_BLOCKS);
        assert_eq!(pieces.last().unwrap().1.end, n);
        let mut whole = vec![0u16; n];
        let mut split = vec![0u16; n];
        if words == 1 {
            let normal = Normal::new(0.0, 1.0).unwrap();
            let (mut w, mut p) = (vec![0f32; n], vec![0f32; n]);
            normal.fill(s, 7, FloatSlice::F32(&mut w));
            let mut out = FloatSlice::F32(&mut p);
            for (block, r) in fill::pieces(7, n, words) {
                normal.fill(s, block, out.range(r));
            }
            assert_eq!(w, p);
        } else {
            integers::fill_integers(s, e, 7, 0, 50_000, &mut whole).unwrap();
            for (block, r) in fill::pieces(7, n, words) {
                integers::fill_integers(s, e, block, 0, 50_000, &mut split[r]).unwrap();
            }
            assert_eq!(whole, split);
        }
    }
}
