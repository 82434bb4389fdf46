//! Typed arguments: each name or key Python passes is parsed here, once, into the core's
//! type; a bad value raises a ValueError that names the argument.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyBytes;

use seedstream_core::distr::float::FloatFormat;
use seedstream_core::pcg64::Pcg64Variant;
use seedstream_core::{Algorithm, Key};

/// A stream algorithm name: "philox" or "pcg64".
pub struct AlgorithmArg(pub Algorithm);

impl FromPyObject<'_, '_> for AlgorithmArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        let name: PyBackedStr = obj.extract()?;
        Algorithm::from_name(&name)
            .map(AlgorithmArg)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "algorithm: expected 'philox' or 'pcg64', got {:?}",
                    &*name
                ))
            })
    }
}

/// A 32-byte stream key.
pub struct KeyArg(pub Key);

impl FromPyObject<'_, '_> for KeyArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        let bytes = obj.cast::<PyBytes>()?;
        let bytes = bytes.as_bytes();
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            PyValueError::new_err(format!("key: expected 32 bytes, got {}", bytes.len()))
        })?;
        Ok(KeyArg(Key(key)))
    }
}

/// A PCG64 output variant: "xsl-rr" (NumPy PCG64) or "dxsm" (NumPy PCG64DXSM).
pub struct VariantArg(pub Pcg64Variant);

impl VariantArg {
    pub const XSL_RR: VariantArg = VariantArg(Pcg64Variant::XslRr);

    pub fn name(variant: Pcg64Variant) -> &'static str {
        match variant {
            Pcg64Variant::XslRr => "xsl-rr",
            Pcg64Variant::Dxsm => "dxsm",
        }
    }
}

impl FromPyObject<'_, '_> for VariantArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        let name: PyBackedStr = obj.extract()?;
        [Pcg64Variant::XslRr, Pcg64Variant::Dxsm]
            .into_iter()
            .find(|v| VariantArg::name(*v) == &*name)
            .map(VariantArg)
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "variant: expected 'xsl-rr' or 'dxsm', got {:?}",
                    &*name
                ))
            })
    }
}

/// The float format of the `dtype` named `name` ("float64", "float32", "float16",
/// "bfloat16").
pub fn float_format(name: &str) -> PyResult<FloatFormat> {
    FloatFormat::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "dtype: expected 'float64', 'float32', 'float16' or 'bfloat16', got {name:?}"
        ))
    })
}

/// A `dtype` argument naming a float format. float16 and bfloat16 buffers arrive as uint16
/// views (NumPy has no bfloat16 the bindings could name), so the name says which they are.
#[derive(Clone, Copy)]
pub struct Dtype(pub FloatFormat);

impl FromPyObject<'_, '_> for Dtype {
    type Error = PyErr;
    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        let name: PyBackedStr = obj.extract()?;
        float_format(&name).map(Dtype)
    }
}
