//! `seedstream._core` functions behind `seedstream.fill_box`: a box of a C-order draw as
//! the runs a `Stream.fill_*(runs=...)` call places (docs/spec.md#element-ranges).

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;

use seedstream_core::fill::run_fits;
use seedstream_core::ranges::{BoxArgs, ElementBox};

use crate::errors::core;

const FILL_BOX_ARGS: BoxArgs = BoxArgs {
    shape: "shape",
    offset: "offset",
};

/// The runs of the box `offset + [0, local)` of a C-order draw of `shape`, as uint64 rows
/// (first element in the draw, first element in the box, elements) by increasing place in
/// the box.
#[pyfunction]
pub fn box_runs<'py>(
    py: Python<'py>,
    shape: Vec<u64>,
    offset: Vec<u64>,
    local: Vec<u64>,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let part = core(ElementBox::new(&shape, &offset, &local, FILL_BOX_ARGS))?;
    let runs = part.rows();
    let count = runs.len();
    let mut table = Vec::new();
    table
        .try_reserve_exact(count.saturating_mul(3))
        .map_err(|_| PyMemoryError::new_err(format!("offset: no memory for {count} runs")))?;
    table.extend(runs.flatten());
    PyArray1::from_vec(py, table).reshape([count, 3])
}

/// Whether a `runs=` fill of elements of `words_per_element` words (1, 2 or 4) places each
/// row of `runs` (as `box_runs` gives them): a run not starting a block needs a place for
/// each element of its block before it.
#[pyfunction]
pub fn runs_in_place<'py>(
    py: Python<'py>,
    runs: PyReadonlyArray2<'py, u64>,
    words_per_element: usize,
) -> PyResult<Bound<'py, PyArray1<bool>>> {
    if !matches!(words_per_element, 1 | 2 | 4) {
        return Err(PyValueError::new_err(format!(
            "words_per_element: expected 1, 2 or 4, got {words_per_element}"
        )));
    }
    if runs.shape()[1] != 3 {
        return Err(PyValueError::new_err(
            "runs: expected rows of (start, offset, length)",
        ));
    }
    let rows = runs
        .as_slice()
        .map_err(|_| PyValueError::new_err("runs: must be C-contiguous"))?;
    let fits = rows
        .chunks_exact(3)
        .map(|r| run_fits(r[0], r[1], words_per_element))
        .collect();
    Ok(PyArray1::from_vec(py, fits))
}
