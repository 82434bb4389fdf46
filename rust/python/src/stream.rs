//! `_core.Stream`: a key plus an atomically advanced position. Each draw reserves its block
//! range under one compare-and-swap, then fills the caller's buffer with the GIL released,
//! so concurrent draws from several threads never overlap or tear the position.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use numpy::{
    PyArrayDyn, PyArrayMethods, PyReadonlyArray2, PyReadonlyArrayDyn, PyReadwriteArrayDyn,
    PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use half::slice::HalfBitsSliceExt;
use seedstream_core::distr::float::{FloatFormat, FloatSlice};
use seedstream_core::distr::normal::Normal;
use seedstream_core::distr::sample_dropout::{
    fill_kernel_table, fill_sample_dropout, fill_sample_dropout_half_bits, sample_part,
    sample_pieces, SampleBox,
};
use seedstream_core::distr::truncated_normal::TruncatedNormal;
use seedstream_core::distr::uniform::UniformRange;
use seedstream_core::distr::{
    bernoulli, bits, dropout, integers, per_sample, permutation, uniform,
};
use seedstream_core::fill::{blocks_for, pieces, reserve, run_pieces};
use seedstream_core::{Algorithm, AnyStream, Key, Name};

use crate::args::{float_format, AlgorithmArg, Dtype, KeyArg};
use crate::errors::{core, CoreError};

/// An owned seed or child name.
enum OwnedName {
    Str(String),
    Int(u64),
    Bytes(Vec<u8>),
}

impl OwnedName {
    fn as_name(&self) -> Name<'_> {
        match self {
            OwnedName::Str(s) => Name::Str(s),
            OwnedName::Int(v) => Name::Int(*v),
            OwnedName::Bytes(b) => Name::Bytes(b),
        }
    }

    /// `int` in [0, 2**64) (not bool), `str`, or `bytes` when `allow_bytes`.
    fn extract(obj: &Bound<'_, PyAny>, arg: &str, allow_bytes: bool) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(OwnedName::Str(s.to_cow()?.into_owned()));
        }
        if allow_bytes {
            if let Ok(b) = obj.cast::<PyBytes>() {
                return Ok(OwnedName::Bytes(b.as_bytes().to_vec()));
            }
        }
        let is_int = obj.is_instance_of::<pyo3::types::PyInt>()
            && !obj.is_instance_of::<pyo3::types::PyBool>();
        if is_int {
            return obj.extract::<u64>().map(OwnedName::Int).map_err(|_| {
                PyValueError::new_err(format!("{arg}: expected an int in [0, 2**64), got {obj}"))
            });
        }
        let expected = if allow_bytes {
            "str, int or bytes"
        } else {
            "int or str"
        };
        let got = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        Err(PyTypeError::new_err(format!(
            "{arg}: expected {expected}, got {got}"
        )))
    }
}

/// A stream: algorithm, 256-bit key and block position. Low level; use
/// `seedstream.Generator`.
#[pyclass(frozen, module = "seedstream._core")]
pub struct Stream {
    algorithm: Algorithm,
    key: Key,
    source: AnyStream,
    extension: AnyStream,
    position: AtomicU64,
}

impl Stream {
    fn with_key(algorithm: Algorithm, key: Key, position: u64) -> Self {
        Stream {
            algorithm,
            key,
            source: AnyStream::new(algorithm, &key),
            extension: AnyStream::new(algorithm, &key.extension()),
            position: AtomicU64::new(position),
        }
    }

    /// Atomically moves the position past `blocks` blocks and returns the first one.
    fn take(&self, blocks: u64) -> Result<u64, CoreError> {
        let mut current = self.position.load(Ordering::Acquire);
        loop {
            let next = core(reserve(current, blocks))?;
            match self.position.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(current),
                Err(actual) => current = actual,
            }
        }
    }

    /// Reserves the blocks of `n` elements of `words_per_element` words each.
    fn take_elements(&self, n: usize, words_per_element: usize) -> PyResult<u64> {
        let blocks = blocks_for(n as u64, words_per_element as u64)
            .ok_or_else(|| PyValueError::new_err("size: too many elements"))?;
        Ok(self.take(blocks)?)
    }

    /// The draw path of every fill of `len` elements: reserves their blocks (moving the
    /// position past them), or with `runs` places parts of a draw at the position (which
    /// does not move; docs/spec.md#element-ranges); then runs `fill(source, first block,
    /// element range of out)` on each piece with the GIL released (see [`detach_pieces`]).
    /// Returns the first block reserved (the position, with `runs`).
    fn draw<R: Filled>(
        &self,
        py: Python<'_>,
        len: usize,
        words_per_element: usize,
        runs: Option<&PyReadonlyArray2<'_, u64>>,
        mut fill: impl FnMut(&AnyStream, u64, Range<usize>) -> R + Send,
    ) -> PyResult<u64> {
        let src = &self.source;
        let mut fill = |(block, r): Piece| fill(src, block, r).into_result();
        match runs {
            None => {
                let first = self.take_elements(len, words_per_element)?;
                detach_pieces(py, pieces(first, len, words_per_element), &mut fill)?;
                Ok(first)
            }
            Some(r) => {
                if r.shape()[1] != 3 {
                    return Err(PyValueError::new_err(
                        "runs: expected rows of (start, offset, length)",
                    ));
                }
                let rows = r
                    .as_slice()
                    .map_err(|_| PyValueError::new_err("runs: must be C-contiguous"))?;
                let position = self.position();
                let runs = core(run_pieces(position, len, words_per_element, rows))?;
                detach_pieces(py, runs, &mut fill)?;
                Ok(position)
            }
        }
    }

    /// [`Stream::draw`] into all of `out`, `fill(source, first block, part of out)`.
    fn draw_into<T: numpy::Element + Send, R: Filled>(
        &self,
        py: Python<'_>,
        mut out: Out<'_, T>,
        words_per_element: usize,
        runs: Runs<'_>,
        fill: impl Fn(&AnyStream, u64, &mut [T]) -> R + Sync,
    ) -> PyResult<()> {
        let buf = slice_of(&mut out)?;
        let len = buf.len();
        self.draw(
            py,
            len,
            words_per_element,
            runs.as_ref(),
            |src, block, r| fill(src, block, &mut buf[r]),
        )?;
        Ok(())
    }

    /// [`Stream::draw`] into all of the float buffer `out` of format `dtype`.
    fn draw_floats<R: Filled>(
        &self,
        py: Python<'_>,
        out: &Bound<'_, PyAny>,
        dtype: Dtype,
        runs: Runs<'_>,
        fill: impl Fn(&AnyStream, u64, FloatSlice<'_>) -> R + Sync,
    ) -> PyResult<()> {
        let mut buf = FloatOut::borrow(out, dtype)?;
        let mut buf = buf.slice()?;
        let (len, words) = (buf.len(), buf.format().words_per_element());
        self.draw(py, len, words, runs.as_ref(), |src, block, r| {
            fill(src, block, buf.range(r))
        })?;
        Ok(())
    }
}

type Piece = (u64, Range<usize>);
type Out<'py, T> = PyReadwriteArrayDyn<'py, T>;
type Runs<'py> = Option<PyReadonlyArray2<'py, u64>>;

/// What a core fill returns: nothing, or a result.
trait Filled {
    fn into_result(self) -> seedstream_core::Result<()>;
}

impl Filled for () {
    fn into_result(self) -> seedstream_core::Result<()> {
        Ok(())
    }
}

impl Filled for seedstream_core::Result<()> {
    fn into_result(self) -> Self {
        self
    }
}

/// Runs `fill` on each piece of a draw with the GIL released, checking for signals between
/// pieces, so that Ctrl-C interrupts a large draw within a fraction of a second. An
/// interrupted draw keeps the position it reserved and leaves its output partly filled
/// (docs/spec.md#interrupted-draws).
fn detach_pieces<P: Send>(
    py: Python<'_>,
    pieces: impl IntoIterator<Item = P>,
    mut fill: impl FnMut(P) -> seedstream_core::Result<()> + Send,
) -> PyResult<()> {
    for piece in pieces {
        py.detach(|| fill(piece)).map_err(CoreError)?;
        py.check_signals()?;
    }
    Ok(())
}

/// Per-sample draws: key derivation dominates for small samples, so a few hundred samples
/// per released-GIL step.
const SAMPLES_PER_STEP: usize = 256;

/// Borrows `out` as a contiguous mutable slice, or says why not.
fn slice_of<'a, T: numpy::Element>(
    out: &'a mut PyReadwriteArrayDyn<'_, T>,
) -> PyResult<&'a mut [T]> {
    out.as_slice_mut()
        .map_err(|_| PyValueError::new_err("out: must be C-contiguous"))
}

/// A borrowed float output buffer; float16 and bfloat16 arrive as uint16 views (see
/// [`Dtype`]).
enum FloatOut<'py> {
    F64(PyReadwriteArrayDyn<'py, f64>),
    F32(PyReadwriteArrayDyn<'py, f32>),
    F16(PyReadwriteArrayDyn<'py, u16>),
    Bf16(PyReadwriteArrayDyn<'py, u16>),
}

impl<'py> FloatOut<'py> {
    fn borrow(out: &Bound<'py, PyAny>, Dtype(format): Dtype) -> PyResult<Self> {
        fn rw<'py, T: numpy::Element>(
            out: &Bound<'py, PyAny>,
            want: &str,
        ) -> PyResult<PyReadwriteArrayDyn<'py, T>> {
            let arr = out
                .cast::<PyArrayDyn<T>>()
                .map_err(|_| PyTypeError::new_err(format!("out: expected a {want} ndarray")))?;
            arr.try_readwrite()
                .map_err(|e| PyValueError::new_err(format!("out: {e}")))
        }
        Ok(match format {
            FloatFormat::F64 => FloatOut::F64(rw(out, "float64")?),
            FloatFormat::F32 => FloatOut::F32(rw(out, "float32")?),
            FloatFormat::F16 => FloatOut::F16(rw(out, "uint16 view of a float16")?),
            FloatFormat::Bf16 => FloatOut::Bf16(rw(out, "uint16 view of a bfloat16")?),
        })
    }

    fn slice(&mut self) -> PyResult<FloatSlice<'_>> {
        Ok(match self {
            FloatOut::F64(a) => FloatSlice::F64(slice_of(a)?),
            FloatOut::F32(a) => FloatSlice::F32(slice_of(a)?),
            FloatOut::F16(a) => FloatSlice::F16(slice_of(a)?.reinterpret_cast_mut()),
            FloatOut::Bf16(a) => FloatSlice::Bf16(slice_of(a)?.reinterpret_cast_mut()),
        })
    }
}

macro_rules! fill_integers_as {
    ($self:ident, $py:ident, $out:ident, $low:ident, $range:ident, $runs:ident, $($t:ty),*) => {$(
        if let Ok(arr) = $out.cast::<PyArrayDyn<$t>>() {
            let mut rw = arr.try_readwrite().map_err(|e| PyValueError::new_err(format!("out: {e}")))?;
            let buf = slice_of(&mut rw)?;
            core(integers::check_range($range))?;
            let (len, ext) = (buf.len(), &$self.extension);
            $self.draw($py, len, integers::WORDS_INTEGER, $runs.as_ref(), |src, block, r| {
                integers::fill_integers(src, ext, block, $low, $range, &mut buf[r])
            })?;
            return Ok(());
        }
    )*};
}

#[pymethods]
impl Stream {
    /// The root stream of `seed` (int in [0, 2**64) or str) at position 0.
    #[staticmethod]
    fn from_seed(seed: &Bound<'_, PyAny>, algorithm: AlgorithmArg) -> PyResult<Self> {
        let seed = OwnedName::extract(seed, "seed", false)?;
        Ok(Stream::with_key(
            algorithm.0,
            Key::from_seed(&seed.as_name()),
            0,
        ))
    }

    /// A stream with an explicit 32-byte key and position (restoring a state).
    #[staticmethod]
    fn from_key(algorithm: AlgorithmArg, key: KeyArg, position: u64) -> Self {
        Stream::with_key(algorithm.0, key.0, position)
    }

    /// The child stream reached through `names` (each str, int or bytes), at position 0.
    fn child(&self, names: Vec<Bound<'_, PyAny>>) -> PyResult<Self> {
        if names.is_empty() {
            return Err(PyTypeError::new_err(
                "names: child() needs at least one name",
            ));
        }
        let owned = names
            .iter()
            .map(|n| OwnedName::extract(n, "names", true))
            .collect::<PyResult<Vec<_>>>()?;
        let path: Vec<Name<'_>> = owned.iter().map(OwnedName::as_name).collect();
        Ok(Stream::with_key(
            self.algorithm,
            self.key.child_path(&path),
            0,
        ))
    }

    #[getter]
    fn algorithm(&self) -> &'static str {
        self.algorithm.name()
    }

    #[getter]
    fn key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.key.0)
    }

    #[getter]
    fn position(&self) -> u64 {
        self.position.load(Ordering::Acquire)
    }

    /// Moves the position forward by `blocks` blocks.
    fn advance(&self, blocks: u64) -> PyResult<()> {
        self.take(blocks)?;
        Ok(())
    }

    /// Block `n` of this stream as 4 uint32 words (does not move the position).
    fn block(&self, n: u64) -> [u32; 4] {
        use seedstream_core::BlockFn;
        self.source.block(n)
    }

    /// Fills `out` (uint32) with raw words.
    #[pyo3(signature = (out, runs=None))]
    fn fill_bits_u32(&self, py: Python<'_>, out: Out<'_, u32>, runs: Runs<'_>) -> PyResult<()> {
        self.draw_into(py, out, bits::WORDS_U32, runs, bits::fill_u32)
    }

    /// Fills `out` (uint64) with raw 64-bit values.
    #[pyo3(signature = (out, runs=None))]
    fn fill_bits_u64(&self, py: Python<'_>, out: Out<'_, u64>, runs: Runs<'_>) -> PyResult<()> {
        self.draw_into(py, out, bits::WORDS_U64, runs, bits::fill_u64)
    }

    /// Fills `out` (float32) with uniform values in [0, 1).
    #[pyo3(signature = (out, runs=None))]
    fn fill_random_f32(&self, py: Python<'_>, out: Out<'_, f32>, runs: Runs<'_>) -> PyResult<()> {
        self.draw_into(py, out, uniform::WORDS_F32, runs, uniform::fill_f32)
    }

    /// Fills `out` (float64) with uniform values in [0, 1).
    #[pyo3(signature = (out, runs=None))]
    fn fill_random_f64(&self, py: Python<'_>, out: Out<'_, f64>, runs: Runs<'_>) -> PyResult<()> {
        self.draw_into(py, out, uniform::WORDS_F64, runs, uniform::fill_f64)
    }

    /// Fills `out` with normal(loc, scale) samples; `dtype` is the name of the float format
    /// (float16 and bfloat16 buffers are passed as uint16 views).
    #[pyo3(signature = (out, dtype, loc, scale, runs=None))]
    fn fill_normal(
        &self,
        py: Python<'_>,
        out: &Bound<'_, PyAny>,
        dtype: Dtype,
        loc: f64,
        scale: f64,
        runs: Runs<'_>,
    ) -> PyResult<()> {
        let normal = core(Normal::new(loc, scale))?;
        core(normal.check_format(dtype.0))?;
        self.draw_floats(py, out, dtype, runs, |src, block, o| {
            normal.fill(src, block, o)
        })
    }

    /// Fills `out` with uniform(low, high) samples (see `fill_normal` for `dtype`).
    #[pyo3(signature = (out, dtype, low, high, runs=None))]
    fn fill_uniform(
        &self,
        py: Python<'_>,
        out: &Bound<'_, PyAny>,
        dtype: Dtype,
        low: f64,
        high: f64,
        runs: Runs<'_>,
    ) -> PyResult<()> {
        let uniform = core(UniformRange::new(low, high, dtype.0))?;
        self.draw_floats(py, out, dtype, runs, |src, block, o| {
            uniform.fill(src, block, o)
        })
    }

    /// Fills `out` with normal(loc, scale) samples truncated to [a, b] (absolute bounds).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (out, dtype, loc, scale, a, b, runs=None))]
    fn fill_truncated_normal(
        &self,
        py: Python<'_>,
        out: &Bound<'_, PyAny>,
        dtype: Dtype,
        loc: f64,
        scale: f64,
        a: f64,
        b: f64,
        runs: Runs<'_>,
    ) -> PyResult<()> {
        let tn = core(TruncatedNormal::new(loc, scale, a, b, dtype.0))?;
        self.draw_floats(py, out, dtype, runs, |src, block, o| tn.fill(src, block, o))
    }

    /// Fills `out` (any fixed-width integer dtype) with `low + [0, range)`; the caller has
    /// checked that every such value fits the dtype.
    #[pyo3(signature = (out, low, range, runs=None))]
    fn fill_integers(
        &self,
        py: Python<'_>,
        out: &Bound<'_, PyAny>,
        low: i128,
        range: u128,
        runs: Runs<'_>,
    ) -> PyResult<()> {
        fill_integers_as!(self, py, out, low, range, runs, i64, i32, i16, i8, u64, u32, u16, u8);
        Err(PyTypeError::new_err("out: expected an integer ndarray"))
    }

    /// Fills `out` (bool) with Bernoulli draws of probability `p[i]` for element `i`
    /// (float64, same size as `out`).
    fn fill_bernoulli_per_element(
        &self,
        py: Python<'_>,
        mut out: PyReadwriteArrayDyn<'_, bool>,
        p: PyReadonlyArrayDyn<'_, f64>,
    ) -> PyResult<()> {
        let probs = p
            .as_slice()
            .map_err(|_| PyValueError::new_err("p: must be C-contiguous"))?;
        let buf = slice_of(&mut out)?;
        if probs.len() != buf.len() {
            return Err(PyValueError::new_err("out: size differs from p"));
        }
        if let Some(bad) = probs.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(PyValueError::new_err(format!(
                "p: expected probabilities in [0, 1], got {}",
                seedstream_core::error::Repr(*bad)
            )));
        }
        let len = buf.len();
        self.draw(
            py,
            len,
            bernoulli::WORDS_BERNOULLI,
            None,
            |src, block, r| {
                bernoulli::fill_bernoulli_per_element(src, block, &probs[r.clone()], &mut buf[r])
            },
        )?;
        Ok(())
    }

    /// Fills `out` (bool) with Bernoulli(p) draws.
    #[pyo3(signature = (out, p, runs=None))]
    fn fill_bernoulli(
        &self,
        py: Python<'_>,
        out: PyReadwriteArrayDyn<'_, bool>,
        p: f64,
        runs: Runs<'_>,
    ) -> PyResult<()> {
        core(bernoulli::threshold(p))?;
        self.draw_into(
            py,
            out,
            bernoulli::WORDS_BERNOULLI,
            runs,
            |src, block, o| bernoulli::fill_bernoulli(src, block, p, o),
        )
    }

    /// Fills `out` (int64) with a random permutation of `0..len(out)`.
    fn fill_permutation(
        &self,
        py: Python<'_>,
        mut out: PyReadwriteArrayDyn<'_, i64>,
    ) -> PyResult<()> {
        let buf = slice_of(&mut out)?;
        let first = self.take(permutation::blocks_for_permutation(buf.len() as u64))?;
        let (src, ext) = (&self.source, &self.extension);
        let len = buf.len();
        let step = permutation::PIECE_STEPS;
        detach_pieces(py, buf.chunks_mut(step).enumerate(), |(k, items)| {
            permutation::fill_identity(items, k * step);
            Ok(())
        })?;
        detach_pieces(py, permutation::step_pieces(len), |steps| {
            permutation::shuffle_steps(src, ext, first, buf, steps);
            Ok(())
        })
    }

    /// Dropout of `input` into `out` (same dtype and size, float32 or float64): elements
    /// where `bernoulli(p)` is True become 0, the rest are scaled by `1 / (1 - p)`. Returns
    /// the first block used, from which the same mask can be drawn again.
    fn fill_dropout(
        &self,
        py: Python<'_>,
        input: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
        p: f64,
    ) -> PyResult<u64> {
        core(bernoulli::threshold(p))?;
        macro_rules! typed {
            ($($t:ty),*) => {$(
                if let (Ok(x), Ok(o)) = (input.cast::<PyArrayDyn<$t>>(), out.cast::<PyArrayDyn<$t>>()) {
                    let x = x.try_readonly().map_err(|e| PyValueError::new_err(format!("input: {e}")))?;
                    let xs = x.as_slice().map_err(|_| PyValueError::new_err("input: must be C-contiguous"))?;
                    let mut rw = o.try_readwrite().map_err(|e| PyValueError::new_err(format!("out: {e}")))?;
                    let buf = slice_of(&mut rw)?;
                    if xs.len() != buf.len() {
                        return Err(PyValueError::new_err("out: size differs from input"));
                    }
                    let len = buf.len();
                    return self.draw(py, len, dropout::WORDS_DROPOUT, None, |src, block, r| {
                        dropout::fill_dropout(src, block, p, &xs[r.clone()], &mut buf[r])
                    });
                }
            )*};
        }
        typed!(f32, f64);
        Err(PyTypeError::new_err(
            "input: expected float32 or float64 arrays for input and out",
        ))
    }

    /// Dropout of `input` into `out` (same dtype and size) as `samples` equal parts: part
    /// `j` is dropped out with the stream `child(first_sample + j)` at position 0
    /// (docs/spec.md#sample-dropout-v1). With `sample_box = (shape, offset, local)` each
    /// part is the box `offset + [0, local)` of a C-order sample of `shape` and gets that
    /// box of the sample's mask. `format` names the dtype (float16 and bfloat16 arrive as
    /// uint16 views). The position does not move.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (input, out, p, samples, first_sample, format, sample_box=None))]
    fn fill_sample_dropout(
        &self,
        py: Python<'_>,
        input: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
        p: f64,
        samples: usize,
        first_sample: u64,
        format: &str,
        sample_box: Option<(Vec<u64>, Vec<u64>, Vec<u64>)>,
    ) -> PyResult<()> {
        core(bernoulli::threshold(p))?;
        let half = match FloatFormat::from_name(format) {
            Some(FloatFormat::F16) => Some(dropout::HalfFormat::F16),
            Some(FloatFormat::Bf16) => Some(dropout::HalfFormat::Bf16),
            Some(FloatFormat::F32 | FloatFormat::F64) => None,
            None => {
                return Err(PyValueError::new_err(format!(
                    "format: expected 'float32', 'float64', 'float16' or 'bfloat16', got {format:?}"
                )))
            }
        };
        let boxed = match &sample_box {
            Some((shape, offset, local)) => Some(core(sample_part(shape, offset, local))?),
            None => None,
        };
        let (algorithm, key) = (self.algorithm, &self.key);
        macro_rules! typed {
            ($t:ty, $fill:expr) => {
                if let (Ok(x), Ok(o)) =
                    (input.cast::<PyArrayDyn<$t>>(), out.cast::<PyArrayDyn<$t>>())
                {
                    let x = x
                        .try_readonly()
                        .map_err(|e| PyValueError::new_err(format!("input: {e}")))?;
                    let xs = x
                        .as_slice()
                        .map_err(|_| PyValueError::new_err("input: must be C-contiguous"))?;
                    let mut rw = o
                        .try_readwrite()
                        .map_err(|e| PyValueError::new_err(format!("out: {e}")))?;
                    let buf = slice_of(&mut rw)?;
                    if xs.len() != buf.len() {
                        return Err(PyValueError::new_err("out: size differs from input"));
                    }
                    let part = match &boxed {
                        Some(b) => b.clone(),
                        None => SampleBox::whole((xs.len() / samples.max(1)) as u64),
                    };
                    let m = part.elements() as usize;
                    if samples == 0 || samples.checked_mul(m) != Some(xs.len()) {
                        return Err(PyValueError::new_err(format!(
                            "samples: expected the number of parts of {m} elements in the size {}, got {samples}",
                            xs.len()
                        )));
                    }
                    if first_sample.checked_add(samples as u64).is_none() {
                        return Err(PyValueError::new_err(
                            "sample_offset: the last sample's index passes 2**64 - 1",
                        ));
                    }
                    detach_pieces(py, sample_pieces(samples, m), |r| {
                        let (x, o) = (&xs[r.start * m..r.end * m], &mut buf[r.start * m..r.end * m]);
                        $fill(first_sample + r.start as u64, &part, x, o)
                    })?;
                    return Ok(());
                }
            };
        }
        match half {
            Some(fmt) => typed!(u16, |first, part: &SampleBox, x: &[u16], o: &mut [u16]| {
                fill_sample_dropout_half_bits(algorithm, key, first, p, fmt, part, x, o)
            }),
            None => {
                typed!(f32, |first, part: &SampleBox, x: &[f32], o: &mut [f32]| {
                    fill_sample_dropout(algorithm, key, first, p, part, x, o)
                });
                typed!(f64, |first, part: &SampleBox, x: &[f64], o: &mut [f64]| {
                    fill_sample_dropout(algorithm, key, first, p, part, x, o)
                });
            }
        }
        Err(PyTypeError::new_err(format!(
            "input: expected {format} arrays for input and out"
        )))
    }

    /// Fills `out` (bool) as `samples` equal parts: part `j` is `bernoulli(p)` of the stream
    /// `child(first_sample + j)` from position 0 (docs/spec.md#sample-channel-dropout-v1).
    /// The position does not move.
    fn fill_sample_bernoulli(
        &self,
        py: Python<'_>,
        mut out: PyReadwriteArrayDyn<'_, bool>,
        p: f64,
        samples: usize,
        first_sample: u64,
    ) -> PyResult<()> {
        core(bernoulli::threshold(p))?;
        let buf = slice_of(&mut out)?;
        let m = core(per_sample::sample_len(first_sample, samples, buf.len()))?;
        let (algorithm, key) = (self.algorithm, &self.key);
        let steps = (0..samples).step_by(SAMPLES_PER_STEP);
        detach_pieces(py, steps, |first| {
            let last = samples.min(first + SAMPLES_PER_STEP);
            let part = &mut buf[first * m..last * m];
            per_sample::fill_sample_bernoulli(
                algorithm,
                key,
                first_sample + first as u64,
                p,
                m,
                part,
            )
        })
    }

    /// Fills `out` (uint32) with the table a GPU sample dropout reads: the Philox key words
    /// of `child(first_sample + j)` for each of `samples` samples, then the starts of the
    /// runs of `sample_box` (see `_core.cuda_sample_dropout`). The GIL is released.
    fn cuda_sample_table(
        &self,
        py: Python<'_>,
        mut out: PyReadwriteArrayDyn<'_, u32>,
        first_sample: u64,
        samples: usize,
        sample_box: crate::cuda::BoxArg,
    ) -> PyResult<()> {
        if self.algorithm != Algorithm::Philox {
            return Err(PyValueError::new_err(format!(
                "generator: CUDA kernels need a 'philox' stream, got {:?}",
                self.algorithm.name()
            )));
        }
        let (shape, offset, local) = sample_box;
        let part = core(sample_part(&shape, &offset, &local))?;
        let buf = slice_of(&mut out)?;
        let key = &self.key;
        py.detach(|| fill_kernel_table(key, first_sample, samples, &part, buf))
            .map_err(CoreError)?;
        Ok(())
    }

    /// Dropout over 16-bit floats passed as uint16 bits; `format` is "float16" or "bfloat16".
    /// Returns the first block used.
    fn fill_dropout_half(
        &self,
        py: Python<'_>,
        input: PyReadonlyArrayDyn<'_, u16>,
        mut out: PyReadwriteArrayDyn<'_, u16>,
        p: f64,
        format: &str,
    ) -> PyResult<u64> {
        core(bernoulli::threshold(p))?;
        let format = match format {
            "float16" => dropout::HalfFormat::F16,
            "bfloat16" => dropout::HalfFormat::Bf16,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "format: expected 'float16' or 'bfloat16', got {format:?}"
                )))
            }
        };
        let xs = input
            .as_slice()
            .map_err(|_| PyValueError::new_err("input: must be C-contiguous"))?;
        let buf = slice_of(&mut out)?;
        if xs.len() != buf.len() {
            return Err(PyValueError::new_err("out: size differs from input"));
        }
        let len = buf.len();
        self.draw(py, len, dropout::WORDS_DROPOUT, None, |src, block, r| {
            dropout::fill_dropout_half_bits(src, block, p, format, &xs[r.clone()], &mut buf[r])
        })
    }

    /// Draws on a CUDA device: `n` elements of `method` into device memory at `out` (and
    /// reading `input`, for "bernoulli_p" and "dropout"), launched on `stream` (a CUstream)
    /// of device `device`. The position moves as the CPU draw's would, at launch; nothing
    /// waits for the GPU. Returns the first block. `method` and `params`: "uniform" (low,
    /// high), "normal" (loc, scale), "truncated_normal" (loc, scale, a, b), "integers"
    /// (low, range) with `dtype` an integer name, "bernoulli" (p,), "bernoulli_p" (),
    /// "dropout" (p,); `dtype` names the output format as for the CPU fills.
    #[allow(clippy::too_many_arguments)]
    fn cuda_draw(
        &self,
        py: Python<'_>,
        method: &str,
        dtype: &str,
        n: u64,
        out: u64,
        input: u64,
        device: i32,
        stream: u64,
        params: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        use seedstream_core::cuda::{driver, Draw, IntType};
        if self.algorithm != Algorithm::Philox {
            return Err(PyValueError::new_err(format!(
                "generator: CUDA kernels need a 'philox' stream, got {:?}",
                self.algorithm.name()
            )));
        }
        let f = |i: usize| -> PyResult<f64> {
            params
                .get(i)
                .ok_or_else(|| {
                    PyValueError::new_err(format!("params: {method} needs more parameters"))
                })?
                .extract::<f64>()
        };
        let format = || float_format(dtype);
        let draw = match method {
            "uniform" => Draw::Uniform(core(UniformRange::new(f(0)?, f(1)?, format()?))?),
            "normal" => {
                core(Normal::new(f(0)?, f(1)?))?;
                Draw::Normal {
                    loc: f(0)?,
                    scale: f(1)?,
                    format: format()?,
                }
            }
            "truncated_normal" => Draw::TruncatedNormal(core(TruncatedNormal::new(
                f(0)?,
                f(1)?,
                f(2)?,
                f(3)?,
                format()?,
            ))?),
            "integers" => {
                let low: i128 = params
                    .first()
                    .map(|p| p.extract())
                    .transpose()?
                    .unwrap_or(0);
                let range: u128 = params.get(1).map(|p| p.extract()).transpose()?.unwrap_or(0);
                let int = IntType::from_name(dtype).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "dtype: expected 'int64', 'int32', 'int16', 'int8' or 'uint8', got {dtype:?}"
                    ))
                })?;
                Draw::Integers { low, range, int }
            }
            "bernoulli" => Draw::Bernoulli { p: f(0)? },
            "bernoulli_p" => Draw::BernoulliPerElement,
            "dropout" => Draw::Dropout {
                p: f(0)?,
                format: format()?,
            },
            _ => {
                return Err(PyValueError::new_err(format!(
                    "method: no CUDA kernel for {method:?}"
                )))
            }
        };
        // Every check, the libraries and the compilation come first: a draw that fails
        // leaves the position where it was.
        let mut launch = core(draw.launch(&self.key, 0, n, out, input))?;
        py.detach(|| driver::prepare(device, stream))
            .map_err(CoreError)?;
        let first = self.take(launch.blocks)?;
        launch.args.first_block = first;
        py.detach(|| driver::launch(device, stream, &launch))
            .map_err(CoreError)?;
        Ok(first)
    }

    /// Shuffles along axis 0 in place: `x` is a 1-D uint8/16/32/64 array (one item per row)
    /// or a 2-D uint8 array (one row of bytes per item).
    fn shuffle_rows(&self, py: Python<'_>, x: &Bound<'_, PyUntypedArray>) -> PyResult<()> {
        macro_rules! typed {
            ($($t:ty),*) => {$(
                if let Ok(arr) = x.cast::<numpy::PyArray1<$t>>() {
                    let mut rw = arr.try_readwrite().map_err(|e| PyValueError::new_err(format!("x: {e}")))?;
                    let buf = rw.as_slice_mut().map_err(|_| PyValueError::new_err("x: must be C-contiguous"))?;
                    let first = self.take(permutation::blocks_for_permutation(buf.len() as u64))?;
                    let (src, ext) = (&self.source, &self.extension);
                    let len = buf.len();
                    return detach_pieces(py, permutation::step_pieces(len), |steps| {
                        permutation::shuffle_steps(src, ext, first, buf, steps);
                        Ok(())
                    });
                }
            )*};
        }
        typed!(u8, u16, u32, u64);
        if let Ok(arr) = x.cast::<numpy::PyArray2<u8>>() {
            let row_bytes = arr.shape()[1];
            let rows = arr.shape()[0];
            let mut rw = arr
                .try_readwrite()
                .map_err(|e| PyValueError::new_err(format!("x: {e}")))?;
            let buf = rw
                .as_slice_mut()
                .map_err(|_| PyValueError::new_err("x: must be C-contiguous"))?;
            let moving_rows = core(permutation::row_count(buf, row_bytes))?;
            let first = self.take(permutation::blocks_for_permutation(rows as u64))?;
            let (src, ext) = (&self.source, &self.extension);
            return detach_pieces(py, permutation::step_pieces(moving_rows), |steps| {
                permutation::shuffle_rows_steps(src, ext, first, buf, row_bytes, steps)
            });
        }
        Err(PyTypeError::new_err(format!(
            "x: expected a 1-D unsigned or 2-D uint8 array, got ndim={}",
            x.ndim()
        )))
    }
}
