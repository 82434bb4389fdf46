//! `seedstream._core`: thin PyO3 bindings over `seedstream_core`. Conversion, validation of
//! buffers, position reservation and GIL release only; no arithmetic on random bits here.

#![deny(clippy::undocumented_unsafe_blocks)]

mod args;
mod bitgen;
mod cuda;
mod errors;
mod feistel;
mod pcg;
mod ranges;
mod seed_sequence;
mod stream;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use errors::core;
use seedstream_core::simd::{self, SimdLevel};

/// The type name of `obj`, for messages.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// Whether `obj` is an int for Python's purposes (`__index__`), bool excluded.
fn is_int(obj: &Bound<'_, PyAny>) -> bool {
    !obj.is_instance_of::<pyo3::types::PyBool>()
        && obj.get_type().hasattr("__index__").unwrap_or(false)
}

/// `obj` as a sequence of exactly `N` ints in [0, 2**bits); errors name `arg`.
fn words<const N: usize>(obj: &Bound<'_, PyAny>, arg: &str, bits: u32) -> PyResult<[u64; N]> {
    let expected = format!("a sequence of {N} ints in [0, 2**{bits})");
    let items: Vec<Bound<'_, PyAny>> = obj.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{arg}: expected {expected}, got {}",
            type_name(obj)
        ))
    })?;
    if items.len() != N {
        return Err(PyValueError::new_err(format!(
            "{arg}: expected {expected}, got {} items",
            items.len()
        )));
    }
    let mut out = [0u64; N];
    for (word, item) in out.iter_mut().zip(&items) {
        if !is_int(item) {
            return Err(PyTypeError::new_err(format!(
                "{arg}: expected {expected}, got an item of type {}",
                type_name(item)
            )));
        }
        *word = item
            .extract::<u64>()
            .ok()
            .filter(|w| bits == 64 || *w >> bits == 0)
            .ok_or_else(|| {
                PyValueError::new_err(format!("{arg}: expected {expected}, got {item}"))
            })?;
    }
    Ok(out)
}

/// Philox4x32-10 block function: 4 counter words and 2 key words (uint32) to 4 output words.
#[pyfunction]
fn philox4x32_10(counter: &Bound<'_, PyAny>, key: &Bound<'_, PyAny>) -> PyResult<[u32; 4]> {
    let c = words::<4>(counter, "counter", 32)?.map(|w| w as u32);
    let k = words::<2>(key, "key", 32)?.map(|w| w as u32);
    Ok(seedstream_core::philox4x32_10(c, k))
}

/// Philox4x64-10 block function: 4 counter words and 2 key words (uint64) to 4 output words.
#[pyfunction]
fn philox4x64_10(counter: &Bound<'_, PyAny>, key: &Bound<'_, PyAny>) -> PyResult<[u64; 4]> {
    let c = words::<4>(counter, "counter", 64)?;
    let k = words::<2>(key, "key", 64)?;
    Ok(seedstream_core::philox4x64_10(c, k))
}

/// Sets the number of threads used for large fills (1 to 1024). Output does not depend on it.
#[pyfunction]
fn set_num_threads(n: &Bound<'_, PyAny>) -> PyResult<()> {
    if !is_int(n) {
        return Err(PyTypeError::new_err(format!(
            "n: expected an int, got {}",
            type_name(n)
        )));
    }
    // 0 also stands for a negative or huge n: all are outside 1..=MAX_THREADS.
    let count = n.extract::<usize>().unwrap_or(0);
    if count == 0 {
        return Err(PyValueError::new_err(format!(
            "n: expected 1 to {} threads, got {n}",
            seedstream_core::fill::MAX_THREADS
        )));
    }
    Ok(core(seedstream_core::fill::set_num_threads(count))?)
}

/// The number of threads used for large fills.
#[pyfunction]
fn get_num_threads() -> usize {
    seedstream_core::fill::num_threads()
}

/// Sets the parallel chunk size in blocks (tests and tuning only).
#[pyfunction]
fn _set_chunk_blocks(blocks: u64) -> PyResult<()> {
    Ok(core(seedstream_core::fill::set_chunk_blocks(blocks))?)
}

/// The parallel chunk size in blocks.
#[pyfunction]
fn _get_chunk_blocks() -> u64 {
    seedstream_core::fill::chunk_blocks()
}

/// The SIMD level used for Philox blocks: "scalar", "baseline", "avx2" or "avx512".
#[pyfunction]
fn simd_level() -> &'static str {
    simd::simd_level().name()
}

/// Forces a SIMD level; returns False when this CPU lacks it. Output bits never depend on it.
#[pyfunction]
fn _set_simd_level(name: &str) -> PyResult<bool> {
    let level = SimdLevel::from_name(name).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "name: expected 'scalar', 'baseline', 'avx2' or 'avx512', got {name:?}"
        ))
    })?;
    Ok(simd::set_simd_level(level))
}

/// Evaluates one deterministic-math function elementwise (accuracy tests only): "ln",
/// "sin_quarter_pi", "cos_quarter_pi" (binary32 when `x` is float32, else binary64), and
/// binary64-only "exp", "upper_tail", "ndtr", "ndtri" and "ndtri_tail" (-Phi^-1(e^x)).
#[pyfunction]
fn _detmath<'py>(
    py: Python<'py>,
    name: &str,
    x: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    use numpy::{PyArray1, PyReadonlyArray1};
    use seedstream_core::detmath::{exp_f64, ln_f32, ln_f64, ndtr, ndtri, sincos};
    if let Ok(x) = x.extract::<PyReadonlyArray1<'py, f32>>() {
        let f: fn(f32) -> f32 = match name {
            "ln" => ln_f32,
            "sin_quarter_pi" => |t| sincos::sin_cos_quarter_pi_f32(t).0,
            "cos_quarter_pi" => |t| sincos::sin_cos_quarter_pi_f32(t).1,
            _ => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "name: no binary32 {name:?}"
                )))
            }
        };
        let out: Vec<f32> = x.as_array().iter().map(|&v| f(v)).collect();
        return Ok(PyArray1::from_vec(py, out).into_any());
    }
    let x = x.extract::<PyReadonlyArray1<'py, f64>>()?;
    let f: fn(f64) -> f64 = match name {
        "ln" => ln_f64,
        "sin_quarter_pi" => |t| sincos::sin_cos_quarter_pi_f64(t).0,
        "cos_quarter_pi" => |t| sincos::sin_cos_quarter_pi_f64(t).1,
        "exp" => exp_f64,
        "upper_tail" => ndtr::upper_tail,
        "ndtr" => ndtr::ndtr,
        "ndtri" => ndtri::ndtri,
        "ndtri_tail" => ndtri::ndtri_tail_magnitude,
        _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "name: no binary64 {name:?}"
            )))
        }
    };
    let out: Vec<f64> = x.as_array().iter().map(|&v| f(v)).collect();
    Ok(PyArray1::from_vec(py, out).into_any())
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(feistel::fill_strided_identity, m)?)?;
    m.add_function(wrap_pyfunction!(philox4x32_10, m)?)?;
    m.add_function(wrap_pyfunction!(philox4x64_10, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_set_chunk_blocks, m)?)?;
    m.add_function(wrap_pyfunction!(_get_chunk_blocks, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(_set_simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(_detmath, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_source, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_nvrtc_options, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_nvrtc_info, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_compile, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_set_nvrtc, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_versions, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_prepare, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_sample_table_words, m)?)?;
    m.add_function(wrap_pyfunction!(cuda::cuda_sample_dropout, m)?)?;
    m.add_function(wrap_pyfunction!(ranges::box_runs, m)?)?;
    m.add_function(wrap_pyfunction!(ranges::runs_in_place, m)?)?;
    m.add_class::<stream::Stream>()?;
    m.add_class::<pcg::Pcg64Engine>()?;
    m.add_class::<seed_sequence::SeedSequence>()?;
    m.add_class::<bitgen::Pcg64BitGen>()?;
    m.add_class::<bitgen::PhiloxBitGen>()?;
    m.add_class::<bitgen::StreamBitGen>()?;
    m.add_class::<feistel::FeistelPermutation>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
