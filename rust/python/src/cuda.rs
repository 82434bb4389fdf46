//! `seedstream._core` functions of the GPU path: the kernel source, NVRTC compilation (for
//! the tests and the GPU check) and the NVRTC library to use. Draws are `Stream.cuda_draw`.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use seedstream_core::cuda::{self, driver};

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
