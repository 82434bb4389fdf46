"""The CUDA kernels without a GPU: NVRTC compiles them for every architecture it supports,
the PTX holds only exactly rounded float operations, and (slow) the host build of the same
source equals the Rust core on every float32 word.

The bit-for-bit comparison of the kernels, compiled as host C++, with the CPU fills is
`rust/core/tests/cuda_host.rs` (run by `cargo test`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Set

import pytest

from seedstream import _core


def _nvrtc() -> str:
    path = os.environ.get("SEEDSTREAM_NVRTC")
    if path:
        return path
    try:
        from cuda import pathfinder  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        pytest.skip("NVRTC is absent: cuda-pathfinder is not installed (it comes with torch's CUDA wheels)")
    try:
        return str(pathfinder.load_nvidia_dynamic_lib("nvrtc").abs_path)
    except Exception as exc:
        pytest.skip(f"NVRTC is absent: {exc}")


@pytest.fixture(scope="module")
def nvrtc() -> str:
    return _nvrtc()


# Float instructions allowed in the PTX. Requiring the explicit `.rn` on add/sub/mul matters
# beyond rounding: the PTX ISA lets ptxas fuse a mul and an add that have no rounding
# modifier into an FMA, never ones that have it. Allowed: correctly rounded + - * / sqrt and reciprocal
# (`rcp.rn` is IEEE 1/x, which the compiler emits for `1.0 / x`), conversions that round to
# nearest (or truncate a float to an integer, exactly as C does), exact widening, and
# comparisons, moves, loads, stores and selections, which do not round.
_ALLOWED = [
    r"(add|sub|mul|div|sqrt|rcp)\.rn\.f(32|64)",
    r"cvt\.(rn|rzi)\.[a-z0-9]+\.[a-z0-9]+",
    r"cvt\.f64\.f32",
    r"(neg|abs)\.f(32|64)",
    r"setp\.[a-z]+\.f(32|64)",
    r"(mov|selp)\.f(32|64)",
    r"(ld|st)(\.[a-z]+)*\.(v[24]\.)?f(32|64)",
]
_OPCODE = re.compile(r"^\s*(?:@!?%p\d+\s+)?([a-z][a-z0-9]*(?:\.[a-z0-9]+)*)\s", re.M)
_FLOAT_TYPE = re.compile(r"\.(f16|f16x2|bf16|bf16x2|f32|f64)(\.|$)")


def float_ops(ptx: str) -> Set[str]:
    """The distinct instructions (whole opcodes) of `ptx` that have a floating-point type."""
    return {op for op in _OPCODE.findall(ptx) if _FLOAT_TYPE.search(op)}


def forbidden(ptx: str) -> List[str]:
    bad = sorted(op for op in float_ops(ptx) if not any(re.fullmatch(a, op) for a in _ALLOWED))
    bad += [w for w in ("fma.", "mad.", ".ftz", ".approx", "rsqrt.", "ex2.", "lg2.") if w in ptx]
    return bad


def test_whitelist_rejects_contracted_or_approximate_ops() -> None:
    # The check must be able to fail: each of these PTX lines is one the kernels must not hold.
    for line in [
        "fma.rn.f32 %f3, %f1, %f2, %f3;",
        "mul.ftz.f32 %f3, %f1, %f2;",
        "div.approx.f32 %f3, %f1, %f2;",
        "div.full.f32 %f3, %f1, %f2;",
        "sqrt.approx.f32 %f2, %f1;",
        "add.f64 %fd3, %fd1, %fd2;",
        "lg2.approx.f32 %f2, %f1;",
        "rcp.approx.ftz.f64 %fd2, %fd1;",
        "fma.rn.f64 %fd4, %fd1, %fd2, %fd3;",
    ]:
        assert forbidden(f"\t{line}\n"), line
    assert forbidden("\tadd.rn.f64 %fd3, %fd1, %fd2;\n\tcvt.rn.f32.u32 %f1, %r1;\n") == []
    assert float_ops("\t@%p1 cvt.rn.f32.u32 %f1, %r1;\n\tmul.wide.u32 %rd1, %r1, %r2;\n") == {"cvt.rn.f32.u32"}


def _archs(nvrtc: str) -> List[int]:
    version, archs = _core.cuda_nvrtc_info(nvrtc)
    assert version[0] >= 11 and archs, (version, archs)
    return list(archs)


def test_source_is_built_from_the_rust_constants() -> None:
    src = _core.cuda_source()
    assert "#define SS_PHILOX_M0 0xD2511F53u" in src
    assert "#define SS_LN2_HI_F64 0x1.62e42feep-1" in src
    assert "#define SS_SIN_F32 0x1.921fb6p-1f, -0x1.4abbbap-4f, 0x1.465ec4p-9f, -0x1.2d9b4p-15f" in src
    for k in _core.cuda_kernels():
        assert f"X({k}," in src
    assert list(_core.cuda_nvrtc_options())[:4] == [
        "--fmad=false",
        "--prec-div=true",
        "--prec-sqrt=true",
        "--ftz=false",
    ]


def test_every_kernel_compiles_to_exact_ptx_and_cubin_for_every_arch(nvrtc: str) -> None:
    archs = _archs(nvrtc)
    # One compilation per architecture gives both; they run in parallel (NVRTC is called
    # with the GIL released).
    with ThreadPoolExecutor(max_workers=min(len(archs), os.cpu_count() or 1)) as pool:
        results = dict(zip(archs, pool.map(lambda a: _core.cuda_compile(nvrtc, a), archs)))
    for arch, (ptx_bytes, cubin) in results.items():
        ptx = ptx_bytes.decode()
        assert f".target sm_{arch}" in ptx, arch
        for k in _core.cuda_kernels():
            assert f".entry {k}(" in ptx, (arch, k)
        assert forbidden(ptx) == [], (arch, forbidden(ptx))
        # Division and square root really are there, correctly rounded (the checks above
        # would pass vacuously on a kernel that lost them).
        ops = float_ops(ptx)
        assert {"div.rn.f64", "div.rn.f32", "sqrt.rn.f64", "sqrt.rn.f32"} <= ops, (arch, ops)
        assert cubin[:4] == b"\x7fELF", arch
    # Byte-identical output from a second compilation.
    first = archs[0]
    assert _core.cuda_compile(nvrtc, first) == results[first]


def test_whitelist_catches_contraction_in_real_compiler_output(nvrtc: str) -> None:
    """Negative control on NVRTC's own output: the same source compiled without
    `--fmad=false` holds `fma`, and the check reports it."""
    try:
        from cuda.bindings import nvrtc as api  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        pytest.skip("cuda-bindings is not installed")
    err, prog = api.nvrtcCreateProgram(_core.cuda_source().encode(), b"seedstream.cu", 0, [], [])
    assert err == api.nvrtcResult.NVRTC_SUCCESS
    options = [o.encode() for o in _core.cuda_nvrtc_options() if o != "--fmad=false"]
    options.append(b"--gpu-architecture=sm_90")
    (err,) = api.nvrtcCompileProgram(prog, len(options), options)
    assert err == api.nvrtcResult.NVRTC_SUCCESS
    err, size = api.nvrtcGetPTXSize(prog)
    ptx = b" " * size
    (err,) = api.nvrtcGetPTX(prog, ptx)
    api.nvrtcDestroyProgram(prog)
    bad = forbidden(ptx.decode(errors="replace"))
    assert "fma." in bad, bad


def test_compiler_errors_and_missing_library_are_clear(nvrtc: str) -> None:
    with pytest.raises(RuntimeError, match="^nvrtc: NVRTC could not be loaded from"):
        _core.cuda_nvrtc_info("/nonexistent/libnvrtc.so.13")
    with pytest.raises(RuntimeError, match="^nvrtc: "):
        _core.cuda_compile(nvrtc, 1)  # no such architecture


@pytest.mark.slow
def test_exhaustive_host_build_equals_the_core() -> None:
    """All 2^32 words through the binary32 Box–Muller radius, all 2^26 angles of
    cos-sin-octant, float16/bfloat16 rounding of every float32 bit pattern and random-v1 of
    every word, the kernel header built as host C++ against the Rust core."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        ["cargo", "test", "--release", "-q", "-p", "seedstream-core", "--test", "cuda_host", "--", "--ignored"],
        cwd=root,
        check=True,
    )
