//! Loading NVRTC and the CUDA driver at run time, compiling the kernels and launching them.
//!
//! Nothing here is linked: NVRTC is opened from a path the caller gives (the library that
//! torch's CUDA wheels ship), the driver by its name `libcuda.so.1`, so building and
//! importing need no CUDA. A missing library is an [`Error::Device`] naming it. The
//! kernels are compiled at first use to a cubin for the device's exact SM and kept per
//! (device, NVRTC version, source hash), in memory and in a cache directory
//! ([`cache_file`]) for later processes. Launches go on the caller's stream in the device's
//! primary context (the one torch uses) and never synchronise.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::sync::Mutex;

use libloading::Library;
use sha2::{Digest, Sha256};

use super::{source, Launch, NVRTC_OPTIONS};
use crate::error::{Error, Result};

type NvrtcProgram = *mut c_void;
type CuResult = c_int;
type CuDevice = c_int;
type CuContext = *mut c_void;
type CuModule = *mut c_void;
type CuFunction = *mut c_void;
type CuStream = *mut c_void;

/// The NVRTC functions used, resolved from one library.
struct NvrtcApi {
    version: unsafe extern "C" fn(*mut c_int, *mut c_int) -> c_int,
    num_supported_archs: unsafe extern "C" fn(*mut c_int) -> c_int,
    supported_archs: unsafe extern "C" fn(*mut c_int) -> c_int,
    create_program: unsafe extern "C" fn(
        *mut NvrtcProgram,
        *const c_char,
        *const c_char,
        c_int,
        *const *const c_char,
        *const *const c_char,
    ) -> c_int,
    compile_program: unsafe extern "C" fn(NvrtcProgram, c_int, *const *const c_char) -> c_int,
    log_size: unsafe extern "C" fn(NvrtcProgram, *mut usize) -> c_int,
    log: unsafe extern "C" fn(NvrtcProgram, *mut c_char) -> c_int,
    ptx_size: unsafe extern "C" fn(NvrtcProgram, *mut usize) -> c_int,
    ptx: unsafe extern "C" fn(NvrtcProgram, *mut c_char) -> c_int,
    cubin_size: unsafe extern "C" fn(NvrtcProgram, *mut usize) -> c_int,
    cubin: unsafe extern "C" fn(NvrtcProgram, *mut c_char) -> c_int,
    destroy_program: unsafe extern "C" fn(*mut NvrtcProgram) -> c_int,
    error_string: unsafe extern "C" fn(c_int) -> *const c_char,
}

/// NVRTC opened from a path.
pub struct Nvrtc {
    api: NvrtcApi,
    _lib: Library,
}

/// The result of one compilation for a real architecture `sm_XX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// The PTX NVRTC generated on the way (text).
    pub ptx: Vec<u8>,
    /// The cubin (an ELF image) the driver loads.
    pub cubin: Vec<u8>,
}

macro_rules! symbol {
    ($lib:expr, $name:literal, $what:literal) => {
        // SAFETY: the symbol is looked up by its documented name and given the documented
        // C signature of that function (the field's type).
        *unsafe { $lib.get(concat!($name, "\0").as_bytes()) }
            .map_err(|e| Error::device("device", format!("{} has no {}: {e}", $what, $name)))?
    };
}

impl Nvrtc {
    /// Opens NVRTC at `path` (for example the `libnvrtc.so.13` of the `nvidia-cuda-nvrtc`
    /// wheel, found by `cuda.pathfinder.load_nvidia_dynamic_lib("nvrtc")`).
    pub fn load(path: &str) -> Result<Nvrtc> {
        // SAFETY: opening a shared library runs its initialisers; NVRTC's are benign.
        let lib = unsafe { Library::new(path) }.map_err(|e| {
            Error::device(
                "nvrtc",
                format!("NVRTC could not be loaded from {path:?}: {e}"),
            )
        })?;
        let api = NvrtcApi {
            version: symbol!(lib, "nvrtcVersion", "NVRTC"),
            num_supported_archs: symbol!(lib, "nvrtcGetNumSupportedArchs", "NVRTC"),
            supported_archs: symbol!(lib, "nvrtcGetSupportedArchs", "NVRTC"),
            create_program: symbol!(lib, "nvrtcCreateProgram", "NVRTC"),
            compile_program: symbol!(lib, "nvrtcCompileProgram", "NVRTC"),
            log_size: symbol!(lib, "nvrtcGetProgramLogSize", "NVRTC"),
            log: symbol!(lib, "nvrtcGetProgramLog", "NVRTC"),
            ptx_size: symbol!(lib, "nvrtcGetPTXSize", "NVRTC"),
            ptx: symbol!(lib, "nvrtcGetPTX", "NVRTC"),
            cubin_size: symbol!(lib, "nvrtcGetCUBINSize", "NVRTC"),
            cubin: symbol!(lib, "nvrtcGetCUBIN", "NVRTC"),
            destroy_program: symbol!(lib, "nvrtcDestroyProgram", "NVRTC"),
            error_string: symbol!(lib, "nvrtcGetErrorString", "NVRTC"),
        };
        Ok(Nvrtc { api, _lib: lib })
    }

    fn check(&self, rc: c_int, what: &str) -> Result<()> {
        if rc == 0 {
            return Ok(());
        }
        // SAFETY: nvrtcGetErrorString returns a static NUL-terminated string for any code.
        let msg = unsafe { CStr::from_ptr((self.api.error_string)(rc)) };
        Err(Error::device(
            "nvrtc",
            format!("{what} failed: {}", msg.to_string_lossy()),
        ))
    }

    /// (major, minor).
    pub fn version(&self) -> Result<(i32, i32)> {
        let (mut major, mut minor) = (0, 0);
        // SAFETY: two valid out-pointers.
        let rc = unsafe { (self.api.version)(&mut major, &mut minor) };
        self.check(rc, "nvrtcVersion")?;
        Ok((major, minor))
    }

    /// The SM versions (e.g. 90 for sm_90) this NVRTC compiles for.
    pub fn supported_archs(&self) -> Result<Vec<i32>> {
        let mut n = 0;
        // SAFETY: a valid out-pointer.
        let rc = unsafe { (self.api.num_supported_archs)(&mut n) };
        self.check(rc, "nvrtcGetNumSupportedArchs")?;
        let mut archs = vec![0; n.max(0) as usize];
        // SAFETY: `archs` holds the number of entries NVRTC reported.
        let rc = unsafe { (self.api.supported_archs)(archs.as_mut_ptr()) };
        self.check(rc, "nvrtcGetSupportedArchs")?;
        Ok(archs)
    }

    /// Compiles `src` for SM `arch` (`sm_<arch>`) with [`NVRTC_OPTIONS`].
    pub fn compile(&self, src: &str, arch: i32) -> Result<Compiled> {
        let src = CString::new(src).map_err(|_| Error::invalid("src", "contains NUL"))?;
        let arch_option = format!("--gpu-architecture=sm_{arch}");
        let options: Vec<CString> = NVRTC_OPTIONS
            .iter()
            .map(|o| o.to_string())
            .chain([arch_option])
            .map(|o| CString::new(o).expect("options hold no NUL"))
            .collect();
        let option_ptrs: Vec<*const c_char> = options.iter().map(|o| o.as_ptr()).collect();
        let mut prog: NvrtcProgram = std::ptr::null_mut();
        // SAFETY: `src` and the name are NUL-terminated and outlive the call; no headers.
        let rc = unsafe {
            (self.api.create_program)(
                &mut prog,
                src.as_ptr(),
                c"seedstream.cu".as_ptr(),
                0,
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        self.check(rc, "nvrtcCreateProgram")?;
        let result = self.compile_created(prog, &option_ptrs);
        // SAFETY: `prog` was created above and is destroyed once.
        unsafe { (self.api.destroy_program)(&mut prog) };
        result
    }

    fn compile_created(&self, prog: NvrtcProgram, options: &[*const c_char]) -> Result<Compiled> {
        // SAFETY: `prog` is live; `options` points to NUL-terminated strings that outlive it.
        let rc =
            unsafe { (self.api.compile_program)(prog, options.len() as c_int, options.as_ptr()) };
        if rc != 0 {
            let mut size = 0usize;
            // SAFETY: valid program and out-pointer; the buffer has the size NVRTC reported.
            let log = unsafe {
                (self.api.log_size)(prog, &mut size);
                let mut buf = vec![0u8; size.max(1)];
                (self.api.log)(prog, buf.as_mut_ptr().cast());
                String::from_utf8_lossy(&buf)
                    .trim_end_matches('\0')
                    .to_string()
            };
            self.check(rc, &format!("compiling the kernels ({log})"))?;
        }
        let ptx = self.output(prog, self.api.ptx_size, self.api.ptx, "PTX")?;
        let cubin = self.output(prog, self.api.cubin_size, self.api.cubin, "cubin")?;
        Ok(Compiled { ptx, cubin })
    }

    fn output(
        &self,
        prog: NvrtcProgram,
        size_fn: unsafe extern "C" fn(NvrtcProgram, *mut usize) -> c_int,
        get_fn: unsafe extern "C" fn(NvrtcProgram, *mut c_char) -> c_int,
        what: &str,
    ) -> Result<Vec<u8>> {
        let mut size = 0usize;
        // SAFETY: valid program and out-pointer.
        let rc = unsafe { size_fn(prog, &mut size) };
        self.check(rc, &format!("getting the {what} size"))?;
        let mut buf = vec![0u8; size];
        // SAFETY: `buf` has the size NVRTC reported.
        let rc = unsafe { get_fn(prog, buf.as_mut_ptr().cast()) };
        self.check(rc, &format!("getting the {what}"))?;
        // PTX is returned NUL-terminated.
        if what == "PTX" {
            while buf.last() == Some(&0) {
                buf.pop();
            }
        }
        Ok(buf)
    }
}

/// The CUDA driver functions used.
struct DriverApi {
    init: unsafe extern "C" fn(c_uint) -> CuResult,
    driver_version: unsafe extern "C" fn(*mut c_int) -> CuResult,
    device_get: unsafe extern "C" fn(*mut CuDevice, c_int) -> CuResult,
    device_attribute: unsafe extern "C" fn(*mut c_int, c_int, CuDevice) -> CuResult,
    primary_ctx_retain: unsafe extern "C" fn(*mut CuContext, CuDevice) -> CuResult,
    ctx_push: unsafe extern "C" fn(CuContext) -> CuResult,
    ctx_pop: unsafe extern "C" fn(*mut CuContext) -> CuResult,
    module_load_data: unsafe extern "C" fn(*mut CuModule, *const c_void) -> CuResult,
    module_get_function: unsafe extern "C" fn(*mut CuFunction, CuModule, *const c_char) -> CuResult,
    launch_kernel: unsafe extern "C" fn(
        CuFunction,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        CuStream,
        *mut *mut c_void,
        *mut *mut c_void,
    ) -> CuResult,
    stream_is_capturing: unsafe extern "C" fn(CuStream, *mut c_int) -> CuResult,
    error_string: unsafe extern "C" fn(CuResult, *mut *const c_char) -> CuResult,
}

const ATTR_MULTIPROCESSOR_COUNT: c_int = 16;
const ATTR_COMPUTE_CAPABILITY_MAJOR: c_int = 75;
const ATTR_COMPUTE_CAPABILITY_MINOR: c_int = 76;

/// The CUDA driver, `libcuda.so.1`.
pub struct Driver {
    api: DriverApi,
    _lib: Library,
}

/// A device's compiled kernels.
struct DeviceModule {
    context: CuContext,
    functions: HashMap<&'static str, CuFunction>,
    multiprocessors: u32,
}

// SAFETY: the handles are plain identifiers owned by the driver, usable from any thread.
unsafe impl Send for DeviceModule {}

impl Driver {
    /// Opens `libcuda.so.1` by name (it exists only where an NVIDIA driver is installed).
    pub fn load() -> Result<Driver> {
        // SAFETY: opening the driver library runs its initialisers, as any CUDA program does.
        let lib = unsafe { Library::new("libcuda.so.1") }.map_err(|e| {
            Error::device(
                "device",
                format!("the CUDA driver (libcuda.so.1) could not be loaded: {e}"),
            )
        })?;
        let api = DriverApi {
            init: symbol!(lib, "cuInit", "the CUDA driver"),
            driver_version: symbol!(lib, "cuDriverGetVersion", "the CUDA driver"),
            device_get: symbol!(lib, "cuDeviceGet", "the CUDA driver"),
            device_attribute: symbol!(lib, "cuDeviceGetAttribute", "the CUDA driver"),
            primary_ctx_retain: symbol!(lib, "cuDevicePrimaryCtxRetain", "the CUDA driver"),
            ctx_push: symbol!(lib, "cuCtxPushCurrent_v2", "the CUDA driver"),
            ctx_pop: symbol!(lib, "cuCtxPopCurrent_v2", "the CUDA driver"),
            module_load_data: symbol!(lib, "cuModuleLoadData", "the CUDA driver"),
            module_get_function: symbol!(lib, "cuModuleGetFunction", "the CUDA driver"),
            launch_kernel: symbol!(lib, "cuLaunchKernel", "the CUDA driver"),
            stream_is_capturing: symbol!(lib, "cuStreamIsCapturing", "the CUDA driver"),
            error_string: symbol!(lib, "cuGetErrorString", "the CUDA driver"),
        };
        let driver = Driver { api, _lib: lib };
        // SAFETY: cuInit with flags 0, as documented.
        driver.check(unsafe { (driver.api.init)(0) }, "cuInit")?;
        Ok(driver)
    }

    fn check(&self, rc: CuResult, what: &str) -> Result<()> {
        if rc == 0 {
            return Ok(());
        }
        let mut msg: *const c_char = std::ptr::null();
        // SAFETY: a valid out-pointer; the string, when set, is static and NUL-terminated.
        let text = unsafe {
            (self.api.error_string)(rc, &mut msg);
            if msg.is_null() {
                format!("error {rc}")
            } else {
                CStr::from_ptr(msg).to_string_lossy().into_owned()
            }
        };
        Err(Error::device("device", format!("{what} failed: {text}")))
    }

    /// The driver's CUDA version, e.g. 13000 for 13.0.
    pub fn version(&self) -> Result<i32> {
        let mut v = 0;
        // SAFETY: a valid out-pointer.
        let rc = unsafe { (self.api.driver_version)(&mut v) };
        self.check(rc, "cuDriverGetVersion")?;
        Ok(v)
    }

    fn attribute(&self, device: CuDevice, attr: c_int) -> Result<i32> {
        let mut v = 0;
        // SAFETY: a valid out-pointer and a device handle from cuDeviceGet.
        let rc = unsafe { (self.api.device_attribute)(&mut v, attr, device) };
        self.check(rc, "cuDeviceGetAttribute")?;
        Ok(v)
    }

    /// The compute capability of device `ordinal` as an SM number (9.0 -> 90).
    pub fn sm(&self, ordinal: i32) -> Result<i32> {
        let dev = self.device(ordinal)?;
        Ok(self.attribute(dev, ATTR_COMPUTE_CAPABILITY_MAJOR)? * 10
            + self.attribute(dev, ATTR_COMPUTE_CAPABILITY_MINOR)?)
    }

    fn device(&self, ordinal: i32) -> Result<CuDevice> {
        let mut dev = 0;
        // SAFETY: a valid out-pointer.
        let rc = unsafe { (self.api.device_get)(&mut dev, ordinal) };
        self.check(rc, "cuDeviceGet")?;
        Ok(dev)
    }

    /// Whether `stream` is being captured into a CUDA graph.
    pub fn is_capturing(&self, stream: u64) -> Result<bool> {
        let mut status = 0;
        // SAFETY: `stream` is the caller's live stream handle (0 is the legacy default).
        let rc = unsafe { (self.api.stream_is_capturing)(stream as CuStream, &mut status) };
        self.check(rc, "cuStreamIsCapturing")?;
        Ok(status != 0) // CU_STREAM_CAPTURE_STATUS_NONE = 0
    }

    fn with_context<T>(&self, ctx: CuContext, f: impl FnOnce() -> Result<T>) -> Result<T> {
        // SAFETY: `ctx` is a retained primary context; push and pop are paired.
        self.check(unsafe { (self.api.ctx_push)(ctx) }, "cuCtxPushCurrent")?;
        let r = f();
        let mut popped: CuContext = std::ptr::null_mut();
        // SAFETY: pops the context pushed above.
        let rc = unsafe { (self.api.ctx_pop)(&mut popped) };
        let r = r?;
        self.check(rc, "cuCtxPopCurrent")?;
        Ok(r)
    }

    fn load_module(&self, ordinal: i32, cubin: &[u8]) -> Result<DeviceModule> {
        let dev = self.device(ordinal)?;
        let mut ctx: CuContext = std::ptr::null_mut();
        // SAFETY: a valid out-pointer and device. The primary context is torch's; it is
        // retained for the life of the process (never released), so its handle stays valid.
        let rc = unsafe { (self.api.primary_ctx_retain)(&mut ctx, dev) };
        self.check(rc, "cuDevicePrimaryCtxRetain")?;
        let multiprocessors = self.attribute(dev, ATTR_MULTIPROCESSOR_COUNT)?.max(1) as u32;
        self.with_context(ctx, || {
            let mut module: CuModule = std::ptr::null_mut();
            // SAFETY: `cubin` is a complete cubin image produced by NVRTC.
            let rc = unsafe { (self.api.module_load_data)(&mut module, cubin.as_ptr().cast()) };
            self.check(rc, "cuModuleLoadData")?;
            let mut functions = HashMap::new();
            for &name in super::KERNELS {
                let c = CString::new(name).expect("kernel names hold no NUL");
                let mut f: CuFunction = std::ptr::null_mut();
                // SAFETY: a loaded module and a NUL-terminated name.
                let rc = unsafe { (self.api.module_get_function)(&mut f, module, c.as_ptr()) };
                self.check(rc, "cuModuleGetFunction")?;
                functions.insert(name, f);
            }
            Ok(DeviceModule {
                context: ctx,
                functions,
                multiprocessors,
            })
        })
    }
}

/// Threads per block of every launch. The values never depend on it.
pub const BLOCK_THREADS: u32 = 256;

/// The grid for a draw of `blocks` Philox blocks: enough thread blocks to cover it, at most
/// 32 per multiprocessor (the kernels stride over the rest).
pub fn grid_for(blocks: u64, multiprocessors: u32) -> u32 {
    let needed = blocks.div_ceil(u64::from(BLOCK_THREADS)).max(1);
    needed.min(u64::from(multiprocessors) * 32) as u32
}

/// (device ordinal, NVRTC version, source hash).
type ModuleKey = (i32, (i32, i32), [u8; 32]);

/// The process's CUDA state: the libraries and each device's compiled kernels.
struct Runtime {
    nvrtc_path: Option<String>,
    nvrtc: Option<Nvrtc>,
    driver: Option<Driver>,
    modules: HashMap<ModuleKey, DeviceModule>,
}

// SAFETY: the libraries' function pointers and handles are usable from any thread; all
// access goes through the mutex below.
unsafe impl Send for Runtime {}

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// Sets the NVRTC library to compile with (before the first launch, or to change it).
pub fn set_nvrtc_path(path: &str) {
    let mut guard = runtime();
    let rt = guard.get_or_insert_with(Runtime::new);
    if rt.nvrtc_path.as_deref() != Some(path) {
        rt.nvrtc_path = Some(path.to_string());
        rt.nvrtc = None;
    }
}

impl Runtime {
    fn new() -> Self {
        Runtime {
            nvrtc_path: None,
            nvrtc: None,
            driver: None,
            modules: HashMap::new(),
        }
    }

    fn driver(&mut self) -> Result<&Driver> {
        if self.driver.is_none() {
            self.driver = Some(Driver::load()?);
        }
        Ok(self.driver.as_ref().expect("loaded above"))
    }

    fn nvrtc(&mut self) -> Result<&Nvrtc> {
        if self.nvrtc.is_none() {
            let path = self.nvrtc_path.as_deref().ok_or_else(|| {
                Error::device("nvrtc", "no NVRTC library was given (set_nvrtc_path)")
            })?;
            self.nvrtc = Some(Nvrtc::load(path)?);
        }
        Ok(self.nvrtc.as_ref().expect("loaded above"))
    }
}

/// SHA-256 of the kernel source: part of the module cache key.
pub fn source_hash() -> [u8; 32] {
    Sha256::digest(source().as_bytes()).into()
}

/// Loads the libraries, refuses a capturing stream, and compiles the kernels for device
/// `ordinal` if this process has not yet: everything a launch needs before it may move a
/// generator's position.
fn ensure(rt: &mut Runtime, ordinal: i32, stream: u64) -> Result<ModuleKey> {
    if rt.driver()?.is_capturing(stream)? {
        return Err(Error::device(
            "device",
            "seedstream cannot draw on a stream that is being captured into a CUDA graph: \
             a replay would repeat the same numbers; draw outside the captured region",
        ));
    }
    let version = rt.nvrtc()?.version()?;
    let key = (ordinal, version, source_hash());
    if !rt.modules.contains_key(&key) {
        let sm = rt.driver()?.sm(ordinal)?;
        let file = cache_file(version, sm);
        // A cubin from an earlier process, if it loads; else compile and keep it.
        let cached = file.as_ref().and_then(|f| std::fs::read(f).ok());
        let module = match cached.map(|c| rt.driver().and_then(|d| d.load_module(ordinal, &c))) {
            Some(Ok(module)) => module,
            _ => {
                let compiled = rt.nvrtc()?.compile(&source(), sm)?;
                let module = rt.driver()?.load_module(ordinal, &compiled.cubin)?;
                if let Some(f) = file {
                    store(&f, &compiled.cubin);
                }
                module
            }
        };
        rt.modules.insert(key, module);
    }
    Ok(key)
}

/// Where the cubin of (NVRTC version, SM, source) is kept between processes:
/// `$SEEDSTREAM_CACHE_DIR`, else `$XDG_CACHE_HOME/seedstream`, else `~/.cache/seedstream`.
/// An empty `SEEDSTREAM_CACHE_DIR` turns the cache off.
pub fn cache_file(nvrtc: (i32, i32), sm: i32) -> Option<std::path::PathBuf> {
    let dir = match std::env::var_os("SEEDSTREAM_CACHE_DIR") {
        Some(d) if d.is_empty() => return None,
        Some(d) => std::path::PathBuf::from(d),
        None => match std::env::var_os("XDG_CACHE_HOME") {
            Some(d) if !d.is_empty() => std::path::PathBuf::from(d).join("seedstream"),
            _ => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".cache/seedstream"),
        },
    };
    let hash: String = source_hash()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(dir.join(format!(
        "kernels-{hash}-nvrtc{}.{}-sm_{sm}.cubin",
        nvrtc.0, nvrtc.1
    )))
}

/// Writes `bytes` to `file` atomically (a temporary file renamed); failures only cost a
/// compilation next time.
fn store(file: &std::path::Path, bytes: &[u8]) {
    let Some(dir) = file.parent() else { return };
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&tmp, bytes))
        .and_then(|_| std::fs::rename(&tmp, file));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

fn runtime() -> std::sync::MutexGuard<'static, Option<Runtime>> {
    RUNTIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes sure a launch on device `ordinal` and `stream` can proceed (see [`launch`]).
pub fn prepare(ordinal: i32, stream: u64) -> Result<()> {
    ensure(runtime().get_or_insert_with(Runtime::new), ordinal, stream).map(|_| ())
}

/// Launches `launch` on device `ordinal` on `stream` (a `CUstream`, as torch's
/// `cuda_stream`), compiling the kernels for that device first if needed. Refuses while
/// the stream is being captured into a CUDA graph: a replay would repeat the same numbers.
pub fn launch(ordinal: i32, stream: u64, launch: &Launch) -> Result<()> {
    let mut guard = runtime();
    let rt = guard.get_or_insert_with(Runtime::new);
    let key = ensure(rt, ordinal, stream)?;
    let driver = rt.driver.as_ref().expect("loaded by ensure");
    let module = &rt.modules[&key];
    if launch.blocks == 0 {
        return Ok(());
    }
    let f = *module
        .functions
        .get(launch.kernel.as_str())
        .ok_or_else(|| Error::invalid("kernel", format!("no kernel named {:?}", launch.kernel)))?;
    let grid = grid_for(launch.blocks, module.multiprocessors);
    let mut args = launch.args;
    let mut params = [(&mut args as *mut super::KernelArgs).cast::<c_void>()];
    driver.with_context(module.context, || {
        // SAFETY: `f` takes one `ss_args` by value, which `KernelArgs` mirrors (#[repr(C)]);
        // the driver copies the argument at launch, so `args` may go out of scope after.
        // The caller guarantees `out`/`input` address device memory of `n` elements that
        // stays alive until the stream reaches the kernel (torch's caching allocator
        // keeps a tensor's memory for work queued on its stream).
        driver.check(
            unsafe {
                (driver.api.launch_kernel)(
                    f,
                    grid,
                    1,
                    1,
                    BLOCK_THREADS,
                    1,
                    1,
                    0,
                    stream as CuStream,
                    params.as_mut_ptr(),
                    std::ptr::null_mut(),
                )
            },
            "cuLaunchKernel",
        )
    })
}

/// Versions for reports: (driver CUDA version, NVRTC (major, minor), device SM).
pub fn versions(ordinal: i32) -> Result<(i32, (i32, i32), i32)> {
    let mut guard = runtime();
    let rt = guard.get_or_insert_with(Runtime::new);
    let nvrtc = rt.nvrtc()?.version()?;
    let driver = rt.driver()?;
    Ok((driver.version()?, nvrtc, driver.sm(ordinal)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_small_draws_and_caps_large_ones() {
        assert_eq!(grid_for(0, 132), 1);
        assert_eq!(grid_for(1, 132), 1);
        assert_eq!(grid_for(257, 132), 2);
        assert_eq!(grid_for(1 << 30, 132), 132 * 32);
    }

    #[test]
    fn cache_file_names_the_source_nvrtc_and_sm() {
        let f = cache_file((13, 2), 90).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("kernels-") && name.ends_with("-nvrtc13.2-sm_90.cubin"),
            "{name}"
        );
        let hash: String = source_hash()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(name.contains(&hash));
        let dir =
            std::env::temp_dir().join(format!("seedstream-cache-test-{}", std::process::id()));
        let file = dir.join("x.cubin");
        store(&file, b"abc");
        assert_eq!(std::fs::read(&file).unwrap(), b"abc");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_nvrtc_is_a_clear_error() {
        let e = Nvrtc::load("/nonexistent/libnvrtc.so.13").err().unwrap();
        let msg = e.to_string();
        assert!(
            msg.starts_with("nvrtc: NVRTC could not be loaded from"),
            "{msg}"
        );
    }
}
