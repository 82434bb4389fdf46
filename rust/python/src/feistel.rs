//! Binding of the random-access Feistel permutation behind `ShuffleSampler`.

use numpy::PyReadwriteArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use seedstream_core::feistel::{self, FeistelPermutation as Core, FEISTEL_ROUNDS};

use crate::errors::core;

/// A keyed bijection of `range(n)` in O(1) memory (docs/spec.md#feistel-permutation-v1);
/// `n <= 2**63`, so that every item fits int64.
#[pyclass(frozen, module = "seedstream._core")]
pub struct FeistelPermutation {
    inner: Core,
}

#[pymethods]
impl FeistelPermutation {
    #[new]
    fn new(n: u64, keys: Vec<u64>) -> PyResult<Self> {
        let keys: [u64; FEISTEL_ROUNDS] = keys.try_into().map_err(|k: Vec<u64>| {
            PyValueError::new_err(format!(
                "keys: expected {FEISTEL_ROUNDS} round keys, got {}",
                k.len()
            ))
        })?;
        // Items are written as int64: beyond 2^63 items they would wrap negative.
        if n > 1 << 63 {
            return Err(PyValueError::new_err(format!(
                "n: expected at most 2**63 items (int64 indices), got {n}"
            )));
        }
        Ok(FeistelPermutation {
            inner: Core::new(n, keys),
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len() as usize
    }

    /// The item at position `i`.
    fn get(&self, i: u64) -> PyResult<u64> {
        Ok(core(self.inner.get(i))?)
    }

    /// `out[k] = get((offset + (first + k) * stride) % n)`.
    fn fill_strided(
        &self,
        py: Python<'_>,
        mut out: PyReadwriteArray1<'_, i64>,
        first: u64,
        stride: u64,
        offset: u64,
    ) -> PyResult<()> {
        let buf = out
            .as_slice_mut()
            .map_err(|_| PyValueError::new_err("out: must be C-contiguous"))?;
        let inner = self.inner;
        py.detach(|| inner.fill_strided(first, stride, offset, buf))
            .map_err(crate::errors::CoreError)?;
        Ok(())
    }
}

/// `out[k] = (offset + (first + k) * stride) % n`: the unshuffled order's strided positions.
#[pyfunction]
pub fn fill_strided_identity(
    py: Python<'_>,
    n: u64,
    mut out: PyReadwriteArray1<'_, i64>,
    first: u64,
    stride: u64,
    offset: u64,
) -> PyResult<()> {
    if n > 1 << 63 {
        return Err(PyValueError::new_err(format!(
            "n: expected at most 2**63 items (int64 indices), got {n}"
        )));
    }
    let buf = out
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("out: must be C-contiguous"))?;
    py.detach(|| feistel::fill_strided_identity(n, first, stride, offset, buf))
        .map_err(crate::errors::CoreError)?;
    Ok(())
}
