//! The single conversion from core errors to Python exceptions.

use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

/// Wraps a core error so that `?` converts it (the orphan rule forbids a direct `From`).
pub struct CoreError(pub seedstream_core::Error);

impl From<seedstream_core::Error> for CoreError {
    fn from(e: seedstream_core::Error) -> Self {
        CoreError(e)
    }
}

impl From<CoreError> for PyErr {
    fn from(e: CoreError) -> PyErr {
        match e.0 {
            seedstream_core::Error::InvalidArgument { .. } => {
                PyValueError::new_err(e.0.to_string())
            }
            seedstream_core::Error::OutOfMemory { .. } => PyMemoryError::new_err(e.0.to_string()),
            seedstream_core::Error::Device { .. } => PyRuntimeError::new_err(e.0.to_string()),
        }
    }
}

/// Shorthand for converting a core result.
pub fn core<T>(r: seedstream_core::Result<T>) -> Result<T, CoreError> {
    r.map_err(CoreError)
}
