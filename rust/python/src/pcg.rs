//! Direct access to the PCG64 / PCG64-DXSM engines for verification against NumPy.

use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::Mutex;

use seedstream_core::pcg64::Pcg64Engine as Engine;

use crate::args::VariantArg;

/// A raw PCG64 engine with an explicit 128-bit state and increment (NumPy's state dict
/// values). `variant` is "xsl-rr" (NumPy PCG64) or "dxsm" (NumPy PCG64DXSM).
#[pyclass(frozen, module = "seedstream._core")]
pub struct Pcg64Engine {
    engine: Mutex<Engine>,
}

#[pymethods]
impl Pcg64Engine {
    #[new]
    #[pyo3(
        signature = (state, increment, variant = VariantArg::XSL_RR),
        text_signature = "(state, increment, variant=\"xsl-rr\")"
    )]
    fn new(state: u128, increment: u128, variant: VariantArg) -> PyResult<Self> {
        if increment & 1 == 0 {
            return Err(PyValueError::new_err("increment: must be odd"));
        }
        Ok(Pcg64Engine {
            engine: Mutex::new(Engine::from_state(state, increment, variant.0)),
        })
    }

    /// NumPy's seeding routine from `initstate` and `initseq`.
    #[staticmethod]
    #[pyo3(
        signature = (initstate, initseq, variant = VariantArg::XSL_RR),
        text_signature = "(initstate, initseq, variant=\"xsl-rr\")"
    )]
    fn seeded(initstate: u128, initseq: u128, variant: VariantArg) -> Self {
        Pcg64Engine {
            engine: Mutex::new(Engine::seed(initstate, initseq, variant.0)),
        }
    }

    /// The next `n` 64-bit outputs.
    fn next_raw<'py>(&self, py: Python<'py>, n: usize) -> Bound<'py, PyArray1<u64>> {
        let out = PyArray1::<u64>::zeros(py, n, false);
        {
            let mut rw = out.readwrite();
            let slice = rw.as_slice_mut().expect("a new 1-D array is contiguous");
            let mut e = self.lock();
            for o in slice.iter_mut() {
                *o = e.next_u64();
            }
        }
        out
    }

    /// Advances by `delta` outputs; pass `delta % 2**128` to step back.
    fn advance(&self, delta: u128) {
        self.lock().advance(delta);
    }

    #[getter]
    fn state(&self) -> u128 {
        self.lock().state()
    }

    #[getter]
    fn increment(&self) -> u128 {
        self.lock().increment()
    }

    #[getter]
    fn variant(&self) -> &'static str {
        VariantArg::name(self.lock().variant())
    }
}

impl Pcg64Engine {
    fn lock(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }
}
