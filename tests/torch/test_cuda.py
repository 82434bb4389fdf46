"""The CUDA path from Python: clear errors where CUDA is missing, nothing moved by a draw
that fails, and (where a GPU exists) GPU draws equal to the CPU's bit for bit."""

from __future__ import annotations

import ctypes
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import seedstream
import seedstream.torch as sst
from seedstream._core import Stream
from seedstream.torch import _cuda

ROOT = Path(__file__).resolve().parents[2]


def _has_driver() -> bool:
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
no_driver = pytest.mark.skipif(_has_driver(), reason="a CUDA driver is installed here")


@no_driver
def test_missing_driver_is_named_and_moves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cuda, "_configured", None)
    monkeypatch.setenv(_cuda.NVRTC_ENV, "/nonexistent/libnvrtc.so.13")
    g = seedstream.Generator(1)
    g.advance(5)
    s = g._stream
    # A fake device address: the draw must fail before anything is launched.
    with pytest.raises(RuntimeError, match=r"^device: the CUDA driver \(libcuda\.so\.1\) could not be loaded"):
        s.cuda_draw("uniform", "float32", 10, 0x1000, 0, 0, 0, [0.0, 1.0])
    assert g.position == 5


def test_bad_arguments_raise_before_anything_moves() -> None:
    g = seedstream.Generator(2)
    with pytest.raises(ValueError, match="^high: "):
        g._stream.cuda_draw("uniform", "float32", 10, 0x1000, 0, 0, 0, [1.0, 0.0])
    with pytest.raises(ValueError, match="^p: "):
        g._stream.cuda_draw("bernoulli", "bool", 10, 0x1000, 0, 0, 0, [1.5])
    with pytest.raises(ValueError, match="^high: "):
        g._stream.cuda_draw("integers", "int64", 10, 0x1000, 0, 0, 0, [0, 0])
    with pytest.raises(ValueError, match="^dtype: "):
        g._stream.cuda_draw("normal", "float8", 10, 0x1000, 0, 0, 0, [0.0, 1.0])
    with pytest.raises(ValueError, match="^method: "):
        g._stream.cuda_draw("permutation", "int64", 10, 0x1000, 0, 0, 0, [])
    with pytest.raises(ValueError, match="^generator: CUDA kernels need a 'philox' stream"):
        seedstream.Generator(2, algorithm="pcg64")._stream.cuda_draw("uniform", "float32", 10, 0x1000, 0, 0, 0, [0.0, 1.0])
    assert g.position == 0


def test_nvrtc_path_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_cuda.NVRTC_ENV, "/opt/nvrtc/libnvrtc.so.13")
    assert _cuda.nvrtc_path() == "/opt/nvrtc/libnvrtc.so.13"


def test_missing_pathfinder_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_cuda.NVRTC_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "cuda", None)  # import of cuda.pathfinder fails
    with pytest.raises(RuntimeError, match="^nvrtc: CUDA tensors need NVRTC"):
        _cuda.nvrtc_path()


def test_pcg64_streams_have_no_kernels() -> None:
    assert _cuda.has_kernels(seedstream.Generator(0)._stream)
    assert not _cuda.has_kernels(seedstream.Generator(0, algorithm="pcg64")._stream)
    assert isinstance(seedstream.Generator(0)._stream, Stream)


def test_gpu_check_is_import_safe_and_exits_cleanly_without_a_gpu() -> None:
    path = ROOT / "benches" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # importing runs nothing
    assert callable(module.main)
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: run benches/gpu_check.py itself")
    run = subprocess.run([sys.executable, str(path), "--quick"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "no CUDA GPU is available here; nothing was checked" in run.stdout


# ---- with a GPU -------------------------------------------------------------------------


def _bits(t: torch.Tensor) -> torch.Tensor:
    t = t.detach().cpu()
    if t.dtype.is_floating_point:
        return t.view({8: torch.int64, 4: torch.int32, 2: torch.int16}[t.element_size()])
    return t


@needs_gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 9, 4097, 100_003])
def test_gpu_float_draws_equal_cpu(dtype: torch.dtype, n: int) -> None:
    for f in (
        lambda g, d: sst.rand(n, generator=g, dtype=dtype, device=d),
        lambda g, d: sst.randn(n, generator=g, dtype=dtype, device=d),
        lambda g, d: sst.normal(2.0, 3.0, (n,), generator=g, dtype=dtype, device=d),
        lambda g, d: sst.trunc_normal(n, a=-1.0, b=3.0, generator=g, dtype=dtype, device=d),
        lambda g, d: sst.trunc_normal(n, a=35.0, b=36.0, generator=g, dtype=dtype, device=d),
    ):
        a, b = seedstream.Generator(3), seedstream.Generator(3)
        assert torch.equal(_bits(f(a, "cpu")), _bits(f(b, "cuda")))
        assert a.position == b.position


@needs_gpu
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8])
def test_gpu_integers_and_bernoulli_equal_cpu(dtype: torch.dtype) -> None:
    for n in (1, 7, 4097):
        lo, hi = (0, 256) if dtype == torch.uint8 else (-5, 100)
        a, b = seedstream.Generator(4), seedstream.Generator(4)
        assert torch.equal(
            sst.randint(lo, hi, (n,), generator=a, dtype=dtype),
            sst.randint(lo, hi, (n,), generator=b, dtype=dtype, device="cuda").cpu(),
        )
        assert torch.equal(sst.bernoulli(0.3, n, generator=a), sst.bernoulli(0.3, n, generator=b, device="cuda").cpu())
        p = torch.linspace(0, 1, n, dtype=torch.float64)
        assert torch.equal(sst.bernoulli(p, generator=a), sst.bernoulli(p.cuda(), generator=b).cpu())


@needs_gpu
def test_gpu_misaligned_out_and_capture() -> None:
    base = torch.empty(4100, device="cuda")
    sst.randn(4097, generator=seedstream.Generator(5), device="cuda", out=base[3:])
    assert torch.equal(base[3:].cpu(), sst.randn(4097, generator=seedstream.Generator(5)))
    g = seedstream.Generator(6)
    graph = torch.cuda.CUDAGraph()
    out = torch.empty(16, device="cuda")
    with pytest.raises(RuntimeError, match="captured into a CUDA graph"):
        with torch.cuda.graph(graph):
            sst.rand(16, generator=g, device="cuda", out=out)
    assert g.position == 0


@needs_gpu
def test_gpu_dropout_kernel_equals_cpu() -> None:
    x = torch.randn(10_001, dtype=torch.float32)
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        xs = x.to(dtype)
        stream = seedstream.Generator(8)._stream
        got, first = _cuda.dropout(stream, xs.cuda(), 0.2)
        want = sst.functional.dropout(xs, 0.2, generator=seedstream.Generator(8))
        assert first == 0 and torch.equal(_bits(got), _bits(want))
        assert stream.position == (10_001 + 3) // 4  # as bernoulli(p, size=n)
