//! `seedstream._core` functions of the GPU path: the kernel source, NVRTC compilation (for
//! the tests and the GPU check) and the NVRTC library to use, and the launch of sample dropout. Draws are `Stream.cuda_draw`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use seedstream_core::cuda::{self, driver};
use seedstream_core::distr::sample_dropout::{kernel_table_words, sample_part};

use crate::args::float_format;
use crate::errors::core;

/// The complete CUDA source the kernels are compiled from.
#[pyfunction]
pub fn cuda_source() -> String {
    cuda::source()
}

/// The names of the kernels.
#[pyfunction]
pub fn cuda_kernels() -> Vec<&'static str> {
    cuda::KERNELS.to_vec()
}

/// The options every compilation passes to NVRTC (the architecture is added).
#[pyfunction]
pub fn cuda_nvrtc_options() -> Vec<&'static str> {
    cuda::NVRTC_OPTIONS.to_vec()
}

/// ((major, minor), supported SM numbers) of the NVRTC library at `path`.
#[pyfunction]
pub fn cuda_nvrtc_info(path: &str) -> PyResult<((i32, i32), Vec<i32>)> {
    let nvrtc = core(driver::Nvrtc::load(path))?;
    Ok((core(nvrtc.version())?, core(nvrtc.supported_archs())?))
}

/// Compiles the kernels with the NVRTC library at `path` for `sm_<arch>`; returns (PTX,
/// cubin) of that one compilation.
#[pyfunction]
pub fn cuda_compile<'py>(
    py: Python<'py>,
    path: &str,
    arch: i32,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let nvrtc = core(driver::Nvrtc::load(path))?;
    let src = cuda::source();
    let compiled = core(py.detach(|| nvrtc.compile(&src, arch)))?;
    Ok((
        PyBytes::new(py, &compiled.ptx),
        PyBytes::new(py, &compiled.cubin),
    ))
}

/// Sets the NVRTC library the kernels are compiled with at first use on a device.
#[pyfunction]
pub fn cuda_set_nvrtc(path: &str) {
    driver::set_nvrtc_path(path);
}

/// (driver CUDA version, NVRTC (major, minor), SM of device `device`).
#[pyfunction]
pub fn cuda_versions(device: i32) -> PyResult<(i32, (i32, i32), i32)> {
    Ok(core(driver::versions(device))?)
}

/// A sample box argument: (sample shape, element offset, box shape).
pub type BoxArg = (Vec<u64>, Vec<u64>, Vec<u64>);

/// Loads the libraries, refuses a stream being captured into a CUDA graph and compiles the
/// kernels for device `device` if needed: what a launch there needs, checked before
/// anything is queued.
#[pyfunction]
pub fn cuda_prepare(py: Python<'_>, device: i32, stream: u64) -> PyResult<()> {
    Ok(core(py.detach(|| driver::prepare(device, stream)))?)
}

/// Words (uint32) of the table a sample dropout of `samples` samples' boxes reads.
#[pyfunction]
pub fn cuda_sample_table_words(samples: u64, sample_box: BoxArg) -> PyResult<u64> {
    let (shape, offset, local) = sample_box;
    let part = core(sample_part(&shape, &offset, &local))?;
    kernel_table_words(samples, &part)
        .ok_or_else(|| PyValueError::new_err("samples: too many samples for one table"))
}

/// Launches sample-dropout-v1 of `samples` samples' boxes (`sample_box`) of dtype `dtype`
/// from device memory at `input` into `out`, reading the table at device address `table`
/// (`Stream.cuda_sample_table`, copied to the device on the same stream), on `stream` of
/// device `device`. Nothing waits for the GPU.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
pub fn cuda_sample_dropout(
    py: Python<'_>,
    dtype: &str,
    p: f64,
    samples: u64,
    sample_box: BoxArg,
    table: u64,
    out: u64,
    input: u64,
    device: i32,
    stream: u64,
) -> PyResult<()> {
    let (shape, offset, local) = sample_box;
    let part = core(sample_part(&shape, &offset, &local))?;
    let launch = core(cuda::sample_dropout_launch(
        p,
        float_format(dtype)?,
        samples,
        &part,
        table,
        out,
        input,
    ))?;
    Ok(core(py.detach(|| driver::launch(device, stream, &launch)))?)
}
