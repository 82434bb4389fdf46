//! Criterion micro-benchmarks of the core fills, one group per output buffer size, every
//! generator and mapping on the same buffer. Run: `cargo bench` in benches/rust.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use seedstream_core::distr::{bernoulli, bits, integers, uniform};
use seedstream_core::fill::set_num_threads;
use seedstream_core::simd::{set_simd_level, SimdLevel};
use seedstream_core::{Algorithm, AnyStream, Key, Name};

fn fills(c: &mut Criterion) {
    set_num_threads(1).unwrap();
    let key = Key::from_seed(&Name::Int(42));
    let n = 1 << 20;
    let mut g = c.benchmark_group("fill_1M_elements_1_thread");
    g.throughput(Throughput::Elements(n as u64));
    for algorithm in [Algorithm::Philox, Algorithm::Pcg64] {
        let s = AnyStream::new(algorithm, &key);
        let e = AnyStream::new(algorithm, &key.extension());
        let name = algorithm.name();
        let mut w = vec![0u32; n];
        g.bench_function(BenchmarkId::new("bits_u32", name), |b| b.iter(|| bits::fill_u32(&s, 0, &mut w)));
        let mut f = vec![0f32; n];
        g.bench_function(BenchmarkId::new("random_f32", name), |b| b.iter(|| uniform::fill_f32(&s, 0, &mut f)));
        let mut d = vec![0f64; n];
        g.bench_function(BenchmarkId::new("random_f64", name), |b| b.iter(|| uniform::fill_f64(&s, 0, &mut d)));
        let mut i = vec![0i64; n];
        g.bench_function(BenchmarkId::new("integers_1000", name), |b| {
            b.iter(|| integers::fill_integers(&s, &e, 0, 0, 1000, &mut i).unwrap())
        });
        let mut m = vec![false; n];
        g.bench_function(BenchmarkId::new("bernoulli", name), |b| {
            b.iter(|| bernoulli::fill_bernoulli(&s, 0, 0.5, &mut m).unwrap())
        });
    }
    let s = AnyStream::new(Algorithm::Philox, &key);
    let e = AnyStream::new(Algorithm::Philox, &key.extension());
    let mut w = vec![0u32; n];
    let mut f = vec![0f32; n];
    let mut d = vec![0f64; n];
    let mut i = vec![0i64; n];
    for level in [SimdLevel::Scalar, SimdLevel::Baseline, SimdLevel::Avx2, SimdLevel::Avx512] {
        if set_simd_level(level) {
            let l = level.name();
            g.bench_function(BenchmarkId::new("bits_u32_philox_level", l), |b| {
                b.iter(|| bits::fill_u32(&s, 0, &mut w))
            });
            g.bench_function(BenchmarkId::new("random_f32_philox_level", l), |b| {
                b.iter(|| uniform::fill_f32(&s, 0, &mut f))
            });
            g.bench_function(BenchmarkId::new("random_f64_philox_level", l), |b| {
                b.iter(|| uniform::fill_f64(&s, 0, &mut d))
            });
            g.bench_function(BenchmarkId::new("integers_1000_philox_level", l), |b| {
                b.iter(|| integers::fill_integers(&s, &e, 0, 0, 1000, &mut i).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, fills);
criterion_main!(benches);
