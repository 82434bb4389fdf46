//! `_core.SeedSequence`: NumPy's SeedSequence pool, mixed and expanded by the core.

use numpy::PyReadwriteArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use seedstream_core::SeedSequence as Core;

use crate::errors::core;

/// The mixed entropy pool of NumPy's `SeedSequence`. Low level; use
/// `seedstream.SeedSequence`.
#[pyclass(frozen, module = "seedstream._core")]
pub struct SeedSequence {
    inner: Core,
}

#[pymethods]
impl SeedSequence {
    /// `entropy` and `spawn_key` hold one entry per NumPy integer, each its little-endian
    /// bytes (the caller has flattened nested sequences and checked the values).
    #[new]
    fn new(
        entropy: Vec<Bound<'_, PyBytes>>,
        spawn_key: Vec<Bound<'_, PyBytes>>,
        pool_size: usize,
    ) -> PyResult<Self> {
        let entropy: Vec<&[u8]> = entropy.iter().map(|b| b.as_bytes()).collect();
        let spawn_key: Vec<&[u8]> = spawn_key.iter().map(|b| b.as_bytes()).collect();
        Ok(SeedSequence {
            inner: core(Core::from_int_bytes(&entropy, &spawn_key, pool_size))?,
        })
    }

    /// The pool words after mixing.
    #[getter]
    fn pool(&self) -> Vec<u32> {
        self.inner.pool().to_vec()
    }

    /// Fills `out` (uint32, C-contiguous) with `generate_state(len(out), uint32)`.
    fn fill_state_u32(&self, mut out: PyReadwriteArrayDyn<'_, u32>) -> PyResult<()> {
        let buf = out
            .as_slice_mut()
            .map_err(|_| PyValueError::new_err("out: must be C-contiguous"))?;
        self.inner.fill_state_u32(buf);
        Ok(())
    }

    /// Fills `out` (uint64, C-contiguous) with `generate_state(len(out), uint64)`.
    fn fill_state_u64(&self, mut out: PyReadwriteArrayDyn<'_, u64>) -> PyResult<()> {
        let buf = out
            .as_slice_mut()
            .map_err(|_| PyValueError::new_err("out: must be C-contiguous"))?;
        self.inner.fill_state_u64(buf);
        Ok(())
    }
}
