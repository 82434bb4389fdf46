"""The CUDA path from Python: clear errors where CUDA is missing, nothing moved by a draw
that fails, and (where a GPU exists) GPU draws equal to the CPU's bit for bit."""

from __future__ import annotations

import ctypes
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import seedstream
import seedstream.torch as sst
from seedstream import _core
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


def test_sample_table_holds_each_samples_philox_key_and_the_run_starts() -> None:
    g = seedstream.Generator(3).child("drop", 5)
    box = ((4, 7), (1, 3), (2, 4))  # rows 1 and 2, columns 3..6: runs at 10 and 17
    words = _core.cuda_sample_table_words(300, box)
    assert words == 4 * 300 + 2 * 2
    table = np.zeros(words, dtype=np.uint32)
    g._stream.cuda_sample_table(table, 2**64 - 301, 300, box)
    for j in (0, 1, 256, 299):
        key = g._stream.child([2**64 - 301 + j]).key
        assert table[4 * j:4 * j + 4].tolist() == np.frombuffer(key[:16], dtype="<u4").tolist()
    assert table[1200:].tolist() == [10, 0, 17, 0]
    assert g.position == 0
    whole = ((9,), (0,), (9,))
    assert _core.cuda_sample_table_words(5, whole) == 4 * 5 + 2


def test_sample_table_errors_name_the_argument() -> None:
    s = seedstream.Generator(3)._stream
    box = ((9,), (0,), (9,))
    with pytest.raises(ValueError, match="^generator: CUDA kernels need a 'philox' stream"):
        seedstream.Generator(3, algorithm="pcg64")._stream.cuda_sample_table(np.zeros(22, np.uint32), 0, 5, box)
    with pytest.raises(ValueError, match="^out: expected 22 words"):
        s.cuda_sample_table(np.zeros(21, np.uint32), 0, 5, box)
    with pytest.raises(ValueError, match="^sample_offset: "):
        s.cuda_sample_table(np.zeros(22, np.uint32), 2**64 - 3, 5, box)
    with pytest.raises(ValueError, match="^element_offset: "):
        _core.cuda_sample_table_words(5, ((9,), (3,), (7,)))
    with pytest.raises(ValueError, match="^p: "):
        _core.cuda_sample_dropout("float32", 1.5, 5, box, 0x1000, 0x2000, 0x3000, 0, 0)


@no_driver
def test_sample_dropout_launch_without_a_driver_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cuda, "_configured", None)
    monkeypatch.setenv(_cuda.NVRTC_ENV, "/nonexistent/libnvrtc.so.13")
    _cuda._configure()
    with pytest.raises(RuntimeError, match=r"^device: the CUDA driver \(libcuda\.so\.1\) could not be loaded"):
        _core.cuda_prepare(0, 0)
    with pytest.raises(RuntimeError, match=r"^device: the CUDA driver \(libcuda\.so\.1\) could not be loaded"):
        _core.cuda_sample_dropout("float32", 0.5, 5, ((9,), (0,), (9,)), 0x1000, 0x2000, 0x3000, 0, 0)


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


@needs_gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize(
    "shape, box",
    [
        ((1, 1), None),
        ((8192, 3), None),
        ((300, 257), None),
        ((37, 5, 4), ((6, 9), (1, 5))),
        ((16, 8, 64), ((8, 128), (0, 64))),
        ((5, 3, 4, 6), ((3, 5, 7), (0, 1, 1))),
    ],
)
def test_gpu_sample_dropout_equals_cpu_and_does_not_sync(dtype: torch.dtype, shape: tuple, box: object) -> None:
    from seedstream.torch import functional as sf

    g = seedstream.Generator(9).child("block.drop", 3)
    kw = {} if box is None else {"sample_shape": box[0], "element_offset": box[1]}  # type: ignore[index]
    x = torch.randn(shape).to(dtype)
    grad = torch.randn(shape).to(dtype)
    xc = x.clone().requires_grad_(True)
    want = sf.sample_dropout(xc, 0.3, generator=g, sample_offset=2**40, **kw)
    want.backward(grad)
    # The input at element offset 1 (misaligned for the vector loads), on a side stream.
    base = torch.empty(x.numel() + 1, dtype=dtype, device="cuda")
    base[1:].copy_(x.reshape(-1))
    xg = base[1:].view(shape).requires_grad_(True)
    grad_gpu = grad.cuda()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    sf.sample_dropout(xg.detach(), 0.3, generator=g, **kw)  # compiles the kernels first
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        with torch.cuda.stream(side):
            got = sf.sample_dropout(xg, 0.3, generator=g, sample_offset=2**40, **kw)
            got.backward(grad_gpu)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    side.synchronize()
    assert torch.equal(_bits(got), _bits(want))
    assert xg.grad is not None and xc.grad is not None
    assert torch.equal(_bits(xg.grad), _bits(xc.grad))
    assert g.position == 0


@needs_gpu
def test_gpu_sample_dropout_refuses_capture() -> None:
    from seedstream.torch import functional as sf

    x = torch.ones(4, 8, device="cuda")
    graph = torch.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="captured into a CUDA graph"):
        with torch.cuda.graph(graph):
            sf.sample_dropout(x, 0.5, generator=seedstream.Generator(1))
