"""Type stubs for the compiled extension `seedstream._core` (low level; use seedstream.Generator)."""

from typing import Any, List, Optional, Sequence, Tuple, Union, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "FeistelPermutation",
    "Pcg64BitGen",
    "Pcg64Engine",
    "PhiloxBitGen",
    "SeedSequence",
    "Stream",
    "StreamBitGen",
    "__version__",
    "_detmath",
    "_get_chunk_blocks",
    "_set_chunk_blocks",
    "_set_simd_level",
    "box_runs",
    "cuda_compile",
    "cuda_kernels",
    "cuda_nvrtc_info",
    "cuda_nvrtc_options",
    "cuda_prepare",
    "cuda_sample_dropout",
    "cuda_sample_table_words",
    "cuda_set_nvrtc",
    "cuda_source",
    "cuda_versions",
    "fill_strided_identity",
    "get_num_threads",
    "philox4x32_10",
    "philox4x64_10",
    "runs_in_place",
    "set_num_threads",
    "simd_level",
]
__version__: str

def philox4x32_10(counter: List[int], key: List[int]) -> List[int]:
    """Philox4x32-10 block function: 4 counter words and 2 key words to 4 output words."""

def philox4x64_10(counter: List[int], key: List[int]) -> List[int]:
    """Philox4x64-10 block function: 4 counter words and 2 key words to 4 output words."""

def set_num_threads(n: int) -> None:
    """Sets the number of threads used for large fills. Output does not depend on it."""

def get_num_threads() -> int:
    """The number of threads used for large fills."""

def _set_chunk_blocks(blocks: int) -> None: ...
def _get_chunk_blocks() -> int: ...
def simd_level() -> str:
    """The SIMD level used for Philox blocks: "scalar", "baseline", "avx2" or "avx512"."""

def _set_simd_level(name: str) -> bool: ...
def _detmath(name: str, x: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]: ...
def cuda_source() -> str:
    """The complete CUDA source the kernels are compiled from."""

def cuda_kernels() -> List[str]:
    """The names of the kernels."""

def cuda_nvrtc_options() -> List[str]:
    """The options every compilation passes to NVRTC (the architecture is added)."""

def cuda_nvrtc_info(path: str) -> Tuple[Tuple[int, int], List[int]]:
    """((major, minor), supported SM numbers) of the NVRTC library at `path`."""

def cuda_compile(path: str, arch: int) -> Tuple[bytes, bytes]:
    """Compiles the kernels with the NVRTC library at `path` for `sm_<arch>`: (PTX, cubin)."""

def cuda_set_nvrtc(path: str) -> None:
    """Sets the NVRTC library the kernels are compiled with at first use on a device."""

def cuda_versions(device: int) -> Tuple[int, Tuple[int, int], int]:
    """(driver CUDA version, NVRTC (major, minor), SM of device `device`)."""

_Box = Tuple[Sequence[int], Sequence[int], Sequence[int]]

def cuda_prepare(device: int, stream: int) -> None:
    """Loads the libraries, refuses a capturing stream and compiles the kernels for `device`."""

def cuda_sample_table_words(samples: int, sample_box: _Box) -> int:
    """Words (uint32) of the table a sample dropout of `samples` samples' boxes reads."""

def cuda_sample_dropout(
    dtype: str,
    p: float,
    samples: int,
    sample_box: _Box,
    table: int,
    out: int,
    input: int,
    device: int,
    stream: int,
) -> None:
    """Launches sample dropout of `samples` samples' boxes from device memory `input` into `out`."""

def box_runs(shape: Sequence[int], offset: Sequence[int], local: Sequence[int]) -> npt.NDArray[np.uint64]:
    """Runs of the box `offset + [0, local)` of a C-order draw of `shape`: uint64 rows
    (first element in the draw, first element in the box, elements)."""

def runs_in_place(runs: npt.NDArray[np.uint64], words_per_element: int) -> npt.NDArray[np.bool_]:
    """Whether a `runs=` fill of elements of `words_per_element` words places each row of `runs`."""

@final
class Stream:
    """A stream: algorithm, 256-bit key and block position."""

    @staticmethod
    def from_seed(seed: Union[int, str], algorithm: str) -> "Stream": ...
    @staticmethod
    def from_key(algorithm: str, key: bytes, position: int) -> "Stream": ...
    def child(self, names: List[Union[str, int, bytes]]) -> "Stream": ...
    @property
    def algorithm(self) -> str: ...
    @property
    def key(self) -> bytes: ...
    @property
    def position(self) -> int: ...
    def advance(self, blocks: int) -> None: ...
    def block(self, n: int) -> List[int]: ...
    def fill_bits_u32(self, out: npt.NDArray[np.uint32], runs: Optional[npt.NDArray[np.uint64]] = None) -> None: ...
    def fill_bits_u64(self, out: npt.NDArray[np.uint64], runs: Optional[npt.NDArray[np.uint64]] = None) -> None: ...
    def fill_random_f32(self, out: npt.NDArray[np.float32], runs: Optional[npt.NDArray[np.uint64]] = None) -> None: ...
    def fill_random_f64(self, out: npt.NDArray[np.float64], runs: Optional[npt.NDArray[np.uint64]] = None) -> None: ...
    def fill_normal(
        self,
        out: npt.NDArray[Union[np.floating, np.uint16]],
        dtype: str,
        loc: float,
        scale: float,
        runs: Optional[npt.NDArray[np.uint64]] = None,
    ) -> None: ...
    def fill_uniform(
        self,
        out: npt.NDArray[Union[np.floating, np.uint16]],
        dtype: str,
        low: float,
        high: float,
        runs: Optional[npt.NDArray[np.uint64]] = None,
    ) -> None: ...
    def fill_truncated_normal(
        self,
        out: npt.NDArray[Union[np.floating, np.uint16]],
        dtype: str,
        loc: float,
        scale: float,
        a: float,
        b: float,
        runs: Optional[npt.NDArray[np.uint64]] = None,
    ) -> None: ...
    def fill_integers(self, out: npt.NDArray[np.integer], low: int, range: int, runs: Optional[npt.NDArray[np.uint64]] = None) -> None: ...
    def fill_bernoulli(self, out: npt.NDArray[np.bool_], p: float, runs: Optional[npt.NDArray[np.uint64]] = None) -> None: ...
    def fill_bernoulli_per_element(self, out: npt.NDArray[np.bool_], p: npt.NDArray[np.float64]) -> None: ...
    def fill_permutation(self, out: npt.NDArray[np.int64]) -> None: ...
    def shuffle_rows(self, x: npt.NDArray[np.unsignedinteger]) -> None: ...
    def fill_dropout(self, input: npt.NDArray[np.floating], out: npt.NDArray[np.floating], p: float) -> int: ...
    def fill_sample_dropout(
        self,
        input: npt.NDArray[Union[np.floating, np.uint16]],
        out: npt.NDArray[Union[np.floating, np.uint16]],
        p: float,
        samples: int,
        first_sample: int,
        format: str,
        sample_box: Optional[Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]] = None,
    ) -> None:
        """Dropout of `samples` equal parts, part `j` with the stream `child(first_sample + j)`
        at position 0; with `sample_box = (shape, offset, local)` each part is that box of a
        sample of `shape`."""
    def fill_sample_bernoulli(
        self, out: npt.NDArray[np.bool_], p: float, samples: int, first_sample: int
    ) -> None: ...
    def fill_dropout_half(
        self, input: npt.NDArray[np.uint16], out: npt.NDArray[np.uint16], p: float, format: str
    ) -> int: ...
    def cuda_sample_table(self, out: npt.NDArray[np.uint32], first_sample: int, samples: int, sample_box: _Box) -> None:
        """Fills `out` with the samples' Philox keys and the box's run starts (host side of a GPU sample dropout)."""
    def cuda_draw(
        self,
        method: str,
        dtype: str,
        n: int,
        out: int,
        input: int,
        device: int,
        stream: int,
        params: List[Any],
    ) -> int:
        """Draws `n` elements of `method` into CUDA device memory at `out`; returns the first block."""

@final
class FeistelPermutation:
    """A keyed bijection of range(n) in O(1) memory."""

    def __new__(cls, n: int, keys: List[int]) -> "FeistelPermutation": ...
    def __len__(self) -> int: ...
    def get(self, i: int) -> int: ...
    def fill_strided(self, out: npt.NDArray[np.int64], first: int, stride: int, offset: int) -> None: ...

def fill_strided_identity(n: int, out: npt.NDArray[np.int64], first: int, stride: int, offset: int) -> None:
    """`out[k] = (offset + (first + k) * stride) % n`: the unshuffled order's strided positions."""

@final
class Pcg64Engine:
    """A raw PCG64 ("xsl-rr") or PCG64DXSM ("dxsm") engine with explicit state and increment."""

    def __new__(cls, state: int, increment: int, variant: str = "xsl-rr") -> "Pcg64Engine": ...
    @staticmethod
    def seeded(initstate: int, initseq: int, variant: str = "xsl-rr") -> "Pcg64Engine": ...
    def next_raw(self, n: int) -> npt.NDArray[np.uint64]: ...
    def advance(self, delta: int) -> None: ...
    @property
    def state(self) -> int: ...
    @property
    def increment(self) -> int: ...
    @property
    def variant(self) -> str: ...

@final
class SeedSequence:
    """The mixed entropy pool of NumPy's SeedSequence (use seedstream.SeedSequence)."""

    def __new__(cls, entropy: List[bytes], spawn_key: List[bytes], pool_size: int) -> "SeedSequence": ...
    @property
    def pool(self) -> List[int]: ...
    def fill_state_u32(self, out: npt.NDArray[np.uint32]) -> None: ...
    def fill_state_u64(self, out: npt.NDArray[np.uint64]) -> None: ...

@final
class Pcg64BitGen:
    """NumPy's PCG64 ("xsl-rr") or PCG64DXSM ("dxsm") behind a bitgen_t capsule."""

    def __new__(cls, lock: Any, words: List[int], variant: str) -> "Pcg64BitGen": ...
    @property
    def capsule(self) -> Any: ...
    @property
    def variant(self) -> str: ...
    def fill_raw(self, out: npt.NDArray[np.uint64]) -> None: ...
    def next_raw(self) -> int: ...
    def skip_raw(self, count: int) -> None: ...
    def get_state(self) -> Tuple[int, int, bool, int]: ...
    def set_state(self, state: int, inc: int, has_uint32: bool, uinteger: int) -> None: ...
    def advance(self, delta: int) -> None: ...
    def jump(self, jumps: int) -> None: ...

@final
class PhiloxBitGen:
    """NumPy's Philox (Philox4x64-10) behind a bitgen_t capsule."""

    def __new__(cls, lock: Any, key: List[int], counter: List[int]) -> "PhiloxBitGen": ...
    @property
    def capsule(self) -> Any: ...
    def fill_raw(self, out: npt.NDArray[np.uint64]) -> None: ...
    def next_raw(self) -> int: ...
    def skip_raw(self, count: int) -> None: ...
    def get_state(self) -> Tuple[List[int], List[int], List[int], int, bool, int]: ...
    def set_state(
        self,
        counter: List[int],
        key: List[int],
        buffer: List[int],
        buffer_pos: int,
        has_uint32: bool,
        uinteger: int,
    ) -> None: ...
    def advance(self, delta: bytes) -> None: ...
    def jump(self, jumps: int) -> None: ...

@final
class StreamBitGen:
    """A seedstream stream's 64-bit values behind a bitgen_t capsule."""

    def __new__(cls, lock: Any, algorithm: str, key: bytes, position: int, word: int) -> "StreamBitGen": ...
    @property
    def capsule(self) -> Any: ...
    def fill_raw(self, out: npt.NDArray[np.uint64]) -> None: ...
    def next_raw(self) -> int: ...
    def skip_raw(self, count: int) -> None: ...
    def get_state(self) -> Tuple[str, bytes, int, int, bool, int]: ...
    def advance(self, delta: int) -> None: ...
    def set_state(
        self, algorithm: str, key: bytes, position: int, word: int, has_uint32: bool, uinteger: int
    ) -> None: ...
