//! NumPy bit generators backed by the core engines. Each object owns a `bitgen_t`
//! (numpy/random/bitgen.h) in a PyCapsule named "BitGenerator"; its function pointers call
//! the Rust engine, so `numpy.random.Generator` draws from it directly.
//!
//! Locking follows NumPy: NumPy's `Generator` holds the bit generator's Python `lock`
//! whenever it calls the capsule's functions, and every method here takes the same lock
//! before it touches the engine. So at most one caller reaches an engine at a time.

use std::cell::UnsafeCell;
use std::ffi::{c_void, CStr};
use std::sync::Arc;

use numpy::PyReadwriteArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule};

use seedstream_core::bitgen::{BitGen, Raw64, PIECE_OUTPUTS};
use seedstream_core::pcg64::Pcg64Engine;
use seedstream_core::philox4x64::{Philox4x64Engine, PHILOX4X64_BUFFER};
use seedstream_core::StreamReader;

use crate::args::{AlgorithmArg, KeyArg, VariantArg};
use crate::errors::core;

/// The capsule name NumPy's `Generator` checks.
const CAPSULE_NAME: &CStr = c"BitGenerator";

/// `bitgen_t` from numpy/random/bitgen.h, field for field.
#[repr(C)]
struct BitgenT {
    state: *mut c_void,
    next_uint64: unsafe extern "C" fn(*mut c_void) -> u64,
    next_uint32: unsafe extern "C" fn(*mut c_void) -> u32,
    next_double: unsafe extern "C" fn(*mut c_void) -> f64,
    next_raw: unsafe extern "C" fn(*mut c_void) -> u64,
}

/// The engine, shared by the Python object and its capsule, at a fixed heap address.
struct EngineCell<E>(UnsafeCell<BitGen<E>>);

// SAFETY: every access to the cell happens with the bit generator's Python lock held (the
// capsule functions are called by NumPy under that lock; `Shared::locked` takes it), so no
// two threads touch the engine at once; `E: Send` lets it move to whichever thread holds it.
unsafe impl<E: Send> Sync for EngineCell<E> {}

/// What the capsule points to: a `bitgen_t` first, as NumPy reads one at the capsule's
/// pointer, then the reference that keeps `bitgen.state` alive as long as the capsule.
#[repr(C)]
struct CapsulePayload<E> {
    bitgen: BitgenT,
    _owner: Arc<EngineCell<E>>,
}

// SAFETY: the only non-Send field is `bitgen.state`, a pointer into `_owner` (an `Arc` of a
// Sync cell), which the capsule may drop on any thread.
unsafe impl<E: Send> Send for CapsulePayload<E> {}

/// # Safety
/// `state` must be the `bitgen_t.state` of a capsule made by [`Shared::new`] for this `E`,
/// and the caller must hold the bit generator's lock (NumPy's contract for `bitgen_t`).
unsafe fn engine<'a, E>(state: *mut c_void) -> &'a mut BitGen<E> {
    // SAFETY: per this function's contract `state` came from `UnsafeCell::get` on a live cell
    // of this type, and holding the lock makes this the only reference.
    unsafe { &mut *state.cast::<BitGen<E>>() }
}

// The four entry points NumPy calls. None can panic: they only step the engine.
unsafe extern "C" fn next_uint64<E: Raw64>(state: *mut c_void) -> u64 {
    // SAFETY: NumPy passes the `state` of our capsule and holds the lock (see `engine`).
    unsafe { engine::<E>(state) }.next_u64()
}

unsafe extern "C" fn next_uint32<E: Raw64>(state: *mut c_void) -> u32 {
    // SAFETY: as in `next_uint64`.
    unsafe { engine::<E>(state) }.next_u32()
}

unsafe extern "C" fn next_double<E: Raw64>(state: *mut c_void) -> f64 {
    // SAFETY: as in `next_uint64`.
    unsafe { engine::<E>(state) }.next_double()
}

unsafe extern "C" fn next_raw<E: Raw64>(state: *mut c_void) -> u64 {
    // SAFETY: as in `next_uint64`.
    unsafe { engine::<E>(state) }.next_raw()
}

/// Holds a Python lock until dropped.
struct LockGuard<'py>(Bound<'py, PyAny>);

impl<'py> LockGuard<'py> {
    fn acquire(lock: &Bound<'py, PyAny>) -> PyResult<Self> {
        // `acquire` blocks with the GIL released, so waiting here does not stall others.
        lock.call_method0(intern!(lock.py(), "acquire"))?;
        Ok(LockGuard(lock.clone()))
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Releasing a lock this guard acquired cannot fail; if something else released it
        // meanwhile there is nothing left to undo.
        let _ = self.0.call_method0(intern!(self.0.py(), "release"));
    }
}

/// The parts every bit generator class has: the engine cell, the lock, the capsule.
struct Shared<E> {
    cell: Arc<EngineCell<E>>,
    lock: Py<PyAny>,
    capsule: Py<PyCapsule>,
}

impl<E: Raw64 + Send + 'static> Shared<E> {
    fn new(py: Python<'_>, engine: BitGen<E>, lock: Py<PyAny>) -> PyResult<Self> {
        let cell = Arc::new(EngineCell(UnsafeCell::new(engine)));
        let payload = CapsulePayload {
            bitgen: BitgenT {
                state: cell.0.get().cast::<c_void>(),
                next_uint64: next_uint64::<E>,
                next_uint32: next_uint32::<E>,
                next_double: next_double::<E>,
                next_raw: next_raw::<E>,
            },
            _owner: Arc::clone(&cell),
        };
        let capsule = PyCapsule::new_with_value(py, payload, CAPSULE_NAME)?.unbind();
        Ok(Shared {
            cell,
            lock,
            capsule,
        })
    }

    /// Runs `f` on the engine with the lock held and the GIL kept.
    fn locked<R>(&self, py: Python<'_>, f: impl FnOnce(&mut BitGen<E>) -> R) -> PyResult<R> {
        let _guard = LockGuard::acquire(self.lock.bind(py))?;
        // SAFETY: the lock is held until `_guard` drops, so this is the only reference.
        let engine = unsafe { &mut *self.cell.0.get() };
        Ok(f(engine))
    }

    /// Moves the engine with `f` (an advance or a jump) and empties the 32-bit buffer.
    fn moved(&self, py: Python<'_>, f: impl FnOnce(&mut E)) -> PyResult<()> {
        self.locked(py, |e| {
            f(e.engine_mut());
            e.clear_buffer();
        })
    }

    /// Runs `f` on each piece with the lock held and the GIL released (NumPy's
    /// `with lock, nogil:`), checking for signals between pieces: Ctrl-C stops a large
    /// draw after the outputs of the pieces done so far (docs/spec.md#interrupted-draws).
    fn locked_pieces<P: Send>(
        &self,
        py: Python<'_>,
        pieces: impl IntoIterator<Item = P>,
        mut f: impl FnMut(&mut BitGen<E>, P) + Send,
    ) -> PyResult<()> {
        let _guard = LockGuard::acquire(self.lock.bind(py))?;
        // SAFETY: as in `locked`; the reference does not outlive the guard.
        let engine = unsafe { &mut *self.cell.0.get() };
        for piece in pieces {
            py.detach(|| f(engine, piece));
            py.check_signals()?;
        }
        Ok(())
    }

    fn fill_raw(&self, py: Python<'_>, mut out: PyReadwriteArrayDyn<'_, u64>) -> PyResult<()> {
        let buf = out
            .as_slice_mut()
            .map_err(|_| PyValueError::new_err("out: must be C-contiguous"))?;
        self.locked_pieces(py, buf.chunks_mut(PIECE_OUTPUTS), |e, piece| {
            e.fill_raw(piece)
        })
    }

    fn skip_raw(&self, py: Python<'_>, count: u64) -> PyResult<()> {
        let piece = PIECE_OUTPUTS as u64;
        let pieces = (0..count.div_ceil(piece)).map(move |k| piece.min(count - k * piece));
        self.locked_pieces(py, pieces, |e, n| e.skip_raw(n))
    }
}

/// The `#[pymethods]` of a bit generator class with a `shared: Shared<_>` field: the
/// capsule methods every such class has, then the class's own methods.
macro_rules! bit_generator_methods {
    ($class:ident { $($methods:tt)* }) => {
        #[pymethods]
        impl $class {
            /// The PyCapsule "BitGenerator" holding this engine's `bitgen_t`.
            #[getter]
            fn capsule(&self, py: Python<'_>) -> Py<PyCapsule> {
                self.shared.capsule.clone_ref(py)
            }

            /// Fills `out` (uint64, C-contiguous) with `next_raw` outputs.
            fn fill_raw(&self, py: Python<'_>, out: PyReadwriteArrayDyn<'_, u64>) -> PyResult<()> {
                self.shared.fill_raw(py, out)
            }

            /// One `next_raw` output.
            fn next_raw(&self, py: Python<'_>) -> PyResult<u64> {
                self.shared.locked(py, |e| e.next_raw())
            }

            /// Draws and drops `count` `next_raw` outputs.
            fn skip_raw(&self, py: Python<'_>, count: u64) -> PyResult<()> {
                self.shared.skip_raw(py, count)
            }

            $($methods)*
        }
    };
}

/// NumPy's PCG64 ("xsl-rr") or PCG64DXSM ("dxsm") behind a `bitgen_t` capsule. Low level;
/// use `seedstream.PCG64` / `seedstream.PCG64DXSM`.
#[pyclass(frozen, module = "seedstream._core")]
pub struct Pcg64BitGen {
    shared: Shared<Pcg64Engine>,
}

bit_generator_methods!(Pcg64BitGen {
    /// Seeded from `words = seed_seq.generate_state(4, uint64)` as NumPy does; `lock` is
    /// the Python lock every use holds.
    #[new]
    fn new(py: Python<'_>, lock: Py<PyAny>, words: [u64; 4], variant: VariantArg) -> PyResult<Self> {
        let engine = Pcg64Engine::from_seed_words(words, variant.0);
        Ok(Pcg64BitGen {
            shared: Shared::new(py, BitGen::new(engine), lock)?,
        })
    }

    /// "xsl-rr" or "dxsm".
    #[getter]
    fn variant(&self, py: Python<'_>) -> PyResult<&'static str> {
        self.shared.locked(py, |e| VariantArg::name(e.engine().variant()))
    }

    /// (state, inc, has_uint32, uinteger), NumPy's state dict values.
    fn get_state(&self, py: Python<'_>) -> PyResult<(u128, u128, bool, u32)> {
        self.shared.locked(py, |e| {
            let g = e.engine();
            (g.state(), g.increment(), e.has_uint32(), e.uinteger())
        })
    }

    /// Sets NumPy's state dict values; `inc` must be odd (a PCG increment always is).
    fn set_state(
        &self,
        py: Python<'_>,
        state: u128,
        inc: u128,
        has_uint32: bool,
        uinteger: u32,
    ) -> PyResult<()> {
        if inc & 1 == 0 {
            return Err(PyValueError::new_err(
                "state: state['state']['inc'] must be odd",
            ));
        }
        self.shared.locked(py, |e| {
            let engine = Pcg64Engine::from_state(state, inc, e.engine().variant());
            *e = BitGen::with_buffer(engine, has_uint32, uinteger);
        })
    }

    /// Advances by `delta` outputs (the caller reduces it mod 2**128) and empties the
    /// 32-bit buffer, as NumPy's `advance`.
    fn advance(&self, py: Python<'_>, delta: u128) -> PyResult<()> {
        self.shared.moved(py, |g| g.advance(delta))
    }

    /// NumPy's `jump_inplace(jumps)` (the caller reduces `jumps` mod 2**128).
    fn jump(&self, py: Python<'_>, jumps: u128) -> PyResult<()> {
        self.shared.moved(py, |g| g.jump(jumps))
    }
});

/// NumPy's Philox (Philox4x64-10) behind a `bitgen_t` capsule. Low level; use
/// `seedstream.Philox`.
#[pyclass(frozen, module = "seedstream._core")]
pub struct PhiloxBitGen {
    shared: Shared<Philox4x64Engine>,
}

fn words_of<const N: usize>(bytes: &[u8], arg: &str) -> PyResult<[u64; N]> {
    if bytes.len() != 8 * N {
        return Err(PyValueError::new_err(format!(
            "{arg}: expected {} little-endian bytes, got {}",
            8 * N,
            bytes.len()
        )));
    }
    let mut words = [0u64; N];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *w = u64::from_le_bytes(b);
    }
    Ok(words)
}

bit_generator_methods!(PhiloxBitGen {
    /// A generator with this key and counter (NumPy `Philox(key=..., counter=...)`); a
    /// seeded one passes `key = seed_seq.generate_state(2, uint64)` and a zero counter.
    #[new]
    fn new(py: Python<'_>, lock: Py<PyAny>, key: [u64; 2], counter: [u64; 4]) -> PyResult<Self> {
        let engine = Philox4x64Engine::new(key, counter);
        Ok(PhiloxBitGen {
            shared: Shared::new(py, BitGen::new(engine), lock)?,
        })
    }

    /// (counter, key, buffer, buffer_pos, has_uint32, uinteger), NumPy's state dict values.
    #[allow(clippy::type_complexity)]
    fn get_state(
        &self,
        py: Python<'_>,
    ) -> PyResult<(
        [u64; 4],
        [u64; 2],
        [u64; PHILOX4X64_BUFFER],
        usize,
        bool,
        u32,
    )> {
        self.shared.locked(py, |e| {
            let g = e.engine();
            (
                g.counter(),
                g.key(),
                g.buffer(),
                g.buffer_pos(),
                e.has_uint32(),
                e.uinteger(),
            )
        })
    }

    /// Sets NumPy's state dict values; `buffer_pos` must be in [0, 4].
    #[allow(clippy::too_many_arguments)]
    fn set_state(
        &self,
        py: Python<'_>,
        counter: [u64; 4],
        key: [u64; 2],
        buffer: [u64; PHILOX4X64_BUFFER],
        buffer_pos: usize,
        has_uint32: bool,
        uinteger: u32,
    ) -> PyResult<()> {
        let engine =
            Philox4x64Engine::from_parts(counter, key, buffer, buffer_pos).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "state: buffer_pos must be in [0, {PHILOX4X64_BUFFER}], got {buffer_pos}"
                ))
            })?;
        self.shared.locked(py, |e| {
            *e = BitGen::with_buffer(engine, has_uint32, uinteger);
        })
    }

    /// Adds `delta` (32 little-endian bytes, already reduced mod 2**256) to the counter and
    /// empties both buffers, as NumPy's `advance`.
    fn advance(&self, py: Python<'_>, delta: &[u8]) -> PyResult<()> {
        let delta = words_of::<4>(delta, "delta")?;
        self.shared.moved(py, |g| g.advance(delta))
    }

    /// NumPy's `jump_inplace(jumps)`: `advance(jumps * 2**128)` (`jumps` mod 2**128).
    fn jump(&self, py: Python<'_>, jumps: u128) -> PyResult<()> {
        self.shared.moved(py, |g| g.jump(jumps))
    }
});

fn reader(
    algorithm: AlgorithmArg,
    key: KeyArg,
    position: u64,
    word: u32,
) -> PyResult<StreamReader> {
    let high_half = match word {
        0 => false,
        2 => true,
        _ => {
            return Err(PyValueError::new_err(format!(
                "word: expected 0 or 2, got {word}"
            )))
        }
    };
    Ok(StreamReader::new(algorithm.0, key.0, position, high_half))
}

/// A seedstream stream's 64-bit values behind a `bitgen_t` capsule. Low level; use
/// `seedstream.StreamBitGenerator`.
#[pyclass(frozen, module = "seedstream._core")]
pub struct StreamBitGen {
    shared: Shared<StreamReader>,
}

bit_generator_methods!(StreamBitGen {
    /// Reads stream (`algorithm`, 32-byte `key`) from block `position`, starting at word
    /// `word` (0 or 2) of that block.
    #[new]
    fn new(
        py: Python<'_>,
        lock: Py<PyAny>,
        algorithm: AlgorithmArg,
        key: KeyArg,
        position: u64,
        word: u32,
    ) -> PyResult<Self> {
        let engine = reader(algorithm, key, position, word)?;
        Ok(StreamBitGen {
            shared: Shared::new(py, BitGen::new(engine), lock)?,
        })
    }

    /// (algorithm, key, position, word, has_uint32, uinteger).
    #[allow(clippy::type_complexity)]
    fn get_state<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(&'static str, Bound<'py, PyBytes>, u64, u32, bool, u32)> {
        let (algorithm, key, (position, word), has, uinteger) = self.shared.locked(py, |e| {
            let r = e.engine();
            (
                r.algorithm(),
                r.key(),
                r.position(),
                e.has_uint32(),
                e.uinteger(),
            )
        })?;
        Ok((
            algorithm.name(),
            PyBytes::new(py, &key.0),
            position,
            word,
            has,
            uinteger,
        ))
    }

    /// Skips `delta` outputs (forward only, never past block 2**64 - 1) and empties the
    /// 32-bit buffer.
    fn advance(&self, py: Python<'_>, delta: u128) -> PyResult<()> {
        let moved = self.shared.locked(py, |e| {
            let moved = e.engine_mut().advance(delta);
            if moved.is_ok() {
                e.clear_buffer();
            }
            moved
        })?;
        Ok(core(moved)?)
    }

    /// Restores a state from `get_state`'s values.
    #[allow(clippy::too_many_arguments)]
    fn set_state(
        &self,
        py: Python<'_>,
        algorithm: AlgorithmArg,
        key: KeyArg,
        position: u64,
        word: u32,
        has_uint32: bool,
        uinteger: u32,
    ) -> PyResult<()> {
        let engine = reader(algorithm, key, position, word)?;
        self.shared.locked(py, |e| {
            *e = BitGen::with_buffer(engine, has_uint32, uinteger);
        })
    }
});
