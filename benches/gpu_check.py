"""One-command check of the CUDA kernels on a real GPU (a few minutes on an H100/H200).

    python benches/gpu_check.py [--quick] [--device N]

Prints versions (driver, torch, NVRTC, device), then checks that every seedstream.torch
draw on the GPU equals the CPU's bit for bit: every method and dtype at sizes 1..9, 4097,
2^20+3 and 2^26, misaligned views, a non-default stream, ``init_module``, ``Dropout``
forward and backward, ``functional.sample_dropout`` forward and backward (whole samples and
tensor-parallel boxes, with torch's sync debug mode raising on any synchronisation), the
golden digests, and the CUDA-graph capture refusal; then times
seedstream against torch with CUDA events (GB/s and the fraction of the device's memory
bandwidth). Exits 1 if any check fails, 0 otherwise; without a CUDA GPU it says so and
exits 0. Needs only the built package (the kernels compile at first use).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

FAILURES: List[str] = []


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        FAILURES.append(what)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 2^20+3 and a shorter benchmark")
    parser.add_argument("--device", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("gpu_check: torch is not installed; nothing to check")
        return 0
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU is available here; nothing was checked")
        return 0
    import seedstream
    import seedstream.torch as sst
    from seedstream import _core
    from seedstream.torch import _cuda

    dev = torch.device("cuda", args.device)
    torch.cuda.set_device(dev)
    t0 = time.perf_counter()
    _cuda._configure()
    driver, nvrtc, sm = _core.cuda_versions(args.device)
    props = torch.cuda.get_device_properties(dev)
    print(f"device {props.name} (sm_{sm}, {props.multi_processor_count} SMs), driver CUDA {driver // 1000}.{driver % 1000 // 10}")
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), NVRTC {nvrtc[0]}.{nvrtc[1]} at {_cuda._configured}")
    print(f"seedstream {seedstream.__version__}")
    # The first draw compiles the kernels for this SM and loads the cubin: a cubin from a
    # newer NVRTC than the driver's CUDA version is the case this covers.
    try:
        t1 = time.perf_counter()
        sst.rand(1, generator=seedstream.Generator(0), device=dev)
        torch.cuda.synchronize(dev)
        check(True, f"kernels compiled by NVRTC {nvrtc[0]}.{nvrtc[1]} load and run on driver {driver} ({time.perf_counter() - t1:.1f} s)")
    except RuntimeError as exc:
        check(False, f"kernels do not load: {exc}")
        return 1

    sizes = list(range(1, 10)) + [4097, 2**20 + 3] + ([] if args.quick else [2**26])
    floats = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
    ints = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]

    def same(a: torch.Tensor, b: torch.Tensor) -> bool:
        a, b = a.detach().cpu(), b.detach().cpu()
        if a.dtype.is_floating_point:
            width = {8: torch.int64, 4: torch.int32, 2: torch.int16}[a.element_size()]
            return a.shape == b.shape and torch.equal(a.view(width), b.view(width))
        return torch.equal(a, b)

    draws: Dict[str, Callable[..., torch.Tensor]] = {}
    for dt in floats:
        draws[f"rand {dt}"] = lambda n, g, device, dt=dt, **k: sst.rand(n, generator=g, dtype=dt, device=device, **k)
        draws[f"randn {dt}"] = lambda n, g, device, dt=dt, **k: sst.randn(n, generator=g, dtype=dt, device=device, **k)
        draws[f"normal(3,0.5) {dt}"] = lambda n, g, device, dt=dt, **k: sst.normal(3.0, 0.5, (n,), generator=g, dtype=dt, device=device, **k)
        for bounds in [(-2.0, 2.0), (8.0, 9.0), (40.0, 41.0)]:
            draws[f"trunc_normal{bounds} {dt}"] = lambda n, g, device, dt=dt, b=bounds, **k: sst.trunc_normal(
                n, a=b[0], b=b[1], generator=g, dtype=dt, device=device, **k
            )
    for dt in ints:
        lo, hi = (0, 200) if dt == torch.uint8 else (-100, 100)
        draws[f"randint {dt}"] = lambda n, g, device, dt=dt, lo=lo, hi=hi, **k: sst.randint(lo, hi, (n,), generator=g, dtype=dt, device=device, **k)
    draws["randint int64 full"] = lambda n, g, device, **k: sst.randint(-(2**63), 2**63, (n,), generator=g, device=device, **k)
    draws["bernoulli(0.3)"] = lambda n, g, device, **k: sst.bernoulli(0.3, n, generator=g, device=device, **k)

    print("bit equality, GPU vs CPU (every method and dtype, sizes %s):" % sizes)
    for name, f in draws.items():
        bad = []
        for n in sizes:
            big = n >= 2**26
            if big and not name.startswith(("rand ", "randn", "bernoulli")):
                continue
            g_cpu, g_gpu = seedstream.Generator(7).child(name, n), seedstream.Generator(7).child(name, n)
            g_cpu.advance(3), g_gpu.advance(3)
            a, b = f(n, g_cpu, "cpu"), f(n, g_gpu, dev)
            if not (same(a, b) and g_cpu.position == g_gpu.position):
                bad.append(n)
        check(not bad, f"{name}" + (f" differs at sizes {bad}" if bad else ""))

    print("misaligned views and a non-default stream:")
    for dt in floats + ints:
        for offset in (1, 3):
            n = 4097
            base = torch.empty(n + offset, dtype=dt, device=dev)
            view = base[offset:]
            g1, g2 = seedstream.Generator(11), seedstream.Generator(11)
            if dt.is_floating_point:
                sst.randn(n, generator=g1, dtype=dt, device=dev, out=view)
                want = sst.randn(n, generator=g2, dtype=dt)
            else:
                sst.randint(0, 100, (n,), generator=g1, dtype=dt, device=dev, out=view)
                want = sst.randint(0, 100, (n,), generator=g2, dtype=dt)
            check(same(view, want), f"{dt} at element offset {offset}")
    side = torch.cuda.Stream(dev)
    with torch.cuda.stream(side):
        got = sst.rand(2**20 + 3, generator=seedstream.Generator(5), device=dev)
    side.synchronize()
    check(same(got, sst.rand(2**20 + 3, generator=seedstream.Generator(5))), "rand on a non-default stream")
    probs = torch.rand(4099, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    got = sst.bernoulli(probs.to(dev), generator=seedstream.Generator(9))
    check(same(got, sst.bernoulli(probs, generator=seedstream.Generator(9))), "bernoulli(probability tensor)")

    print("init_module and Dropout:")
    model = torch.nn.Sequential(torch.nn.Linear(300, 700), torch.nn.LayerNorm(700), torch.nn.Linear(700, 10))
    cpu_model = sst.init_module(model, 42)
    gpu_model = sst.init_module(torch.nn.Sequential(torch.nn.Linear(300, 700), torch.nn.LayerNorm(700), torch.nn.Linear(700, 10)).to(dev), 42)
    check(
        all(same(p, q) for p, q in zip(cpu_model.state_dict().values(), gpu_model.state_dict().values())),
        "init_module on CUDA equals CPU",
    )
    for dt in floats:
        x = torch.randn(2**20 + 3, generator=torch.Generator().manual_seed(3)).to(dt)
        outs = []
        for device in ("cpu", dev):
            d = sst.Dropout(0.1, seed=1, name="drop")
            xi = x.to(device).requires_grad_(True)
            y = d(xi)
            y.backward(torch.ones_like(y) * 2)
            assert xi.grad is not None
            outs.append((y, xi.grad))
        check(same(outs[0][0], outs[1][0]) and same(outs[0][1], outs[1][1]), f"Dropout forward and backward {dt}")

    print("sample_dropout (per-sample keys from the host, one kernel, no synchronisation):")
    _sample_dropout(torch, seedstream, dev, same, check)

    print("golden digests (python/seedstream/golden/v1), drawn on the GPU:")
    _golden(dev, sst, seedstream, check)

    print("CUDA graph capture:")
    g = seedstream.Generator(1)
    out = torch.empty(1024, device=dev)
    graph = torch.cuda.CUDAGraph()
    refused = False
    position = g.position
    try:
        with torch.cuda.graph(graph):
            sst.rand(1024, generator=g, device=dev, out=out)
    except RuntimeError as exc:
        refused = "captured into a CUDA graph" in str(exc)
    check(refused and g.position == position, "a draw while capturing raises and moves nothing")

    print(f"checks took {time.perf_counter() - t0:.1f} s")
    _bench(torch, sst, seedstream, dev, props, quick=args.quick)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) FAILED")
        return 1
    print("all checks passed")
    return 0


def _sample_dropout(torch: Any, seedstream: Any, dev: Any, same: Callable[[Any, Any], bool],
                    check: Callable[[bool, str], None]) -> None:
    """sample_dropout forward and backward on the GPU equal the CPU's, for whole samples and
    tensor-parallel boxes, with torch's sync debug mode set to raise on any synchronisation."""
    from seedstream.torch import functional as sf

    gen = seedstream.Generator(4).child("block.drop", 2)
    cases = [((8192, 1), None), ((1000, 257), None), ((64, 128, 512), ((128, 1024), (0, 512))),
             ((37, 5, 4), ((6, 9), (1, 5))), ((3, 2**20 + 3), None)]
    for dt in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        bad = []
        for shape, box in cases:
            kw: Dict[str, Any] = {} if box is None else {"sample_shape": box[0], "element_offset": box[1]}
            x = torch.randn(shape, generator=torch.Generator().manual_seed(5)).to(dt)
            grad = torch.randn(shape, generator=torch.Generator().manual_seed(6)).to(dt)
            xc = x.clone().requires_grad_(True)
            want = sf.sample_dropout(xc, 0.25, generator=gen, sample_offset=1000, **kw)
            want.backward(grad)
            # A misaligned input (element offset 1) on a non-default stream.
            base = torch.empty(x.numel() + 1, dtype=dt, device=dev)
            base[1:].copy_(x.reshape(-1))
            xg = base[1:].view(shape).requires_grad_(True)
            grad_gpu = grad.to(dev)
            side = torch.cuda.Stream(dev)
            side.wait_stream(torch.cuda.current_stream(dev))
            torch.cuda.set_sync_debug_mode("error")
            try:
                with torch.cuda.stream(side):
                    got = sf.sample_dropout(xg, 0.25, generator=gen, sample_offset=1000, **kw)
                    got.backward(grad_gpu)
            except RuntimeError as exc:
                bad.append(f"{shape}: {exc}")
                continue
            finally:
                torch.cuda.set_sync_debug_mode(0)
            side.synchronize()
            if not (same(got, want) and xg.grad is not None and xc.grad is not None and same(xg.grad, xc.grad)):
                bad.append(str(shape))
        check(not bad, f"sample_dropout forward and backward {dt}" + (f" differs: {bad}" if bad else ""))


def _golden(dev: Any, sst: Any, seedstream: Any, check: Callable[[bool, str], None]) -> None:
    import ast
    import re

    import numpy as np
    import torch
    from importlib import resources

    root = resources.files("seedstream") / "golden" / "v1"
    dist = json.loads((root / "digests_distributions.json").read_text())["digests"]
    names = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    n = 65_536
    for key, want in sorted(dist.items()):
        algorithm, label, case, dtype_name = key.split("|")
        if algorithm != "philox" or "/" in label:
            continue
        seed = 2**64 - 1 if label == "2**64-1" else ast.literal_eval(label)
        g = seedstream.Generator(seed)
        dt = names[dtype_name]
        nums = [float(v) for v in re.findall(r"-?[\d.]+", case.split("(", 1)[1])] if "(" in case else []
        if case == "standard_normal":
            t = sst.randn(n, generator=g, dtype=dt, device=dev)
        elif case.startswith("normal"):
            t = sst.normal(nums[0], nums[1], (n,), generator=g, dtype=dt, device=dev)
        elif case.startswith("uniform"):
            t = sst.init.uniform_(torch.empty(n, dtype=dt, device=dev), nums[0], nums[1], generator=g)
        else:
            t = sst.trunc_normal(n, mean=nums[0], std=nums[1], a=nums[2], b=nums[3], generator=g, dtype=dt, device=dev)
        arr = t.cpu()
        if arr.element_size() == 2:
            arr = arr.view(torch.int16)
        got = hashlib.sha256(np.ascontiguousarray(arr.numpy()).tobytes()).hexdigest()
        check(got == want, key)


def _bench(torch: Any, sst: Any, seedstream: Any, dev: Any, props: Any, quick: bool) -> None:
    """Times with CUDA events; reports GB/s of output written (plus input read for dropout)."""
    from seedstream.torch import functional as sf

    bandwidth = _peak_bandwidth(props)
    exps = [20, 24] if quick else [20, 24, 28]
    print("benchmark (median of 20, CUDA events): GB/s and % of the device's memory bandwidth")

    def timed(f: Callable[[], Any]) -> float:
        f()
        torch.cuda.synchronize()
        times = []
        for _ in range(20):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            f()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        return sorted(times)[len(times) // 2]

    print(f"  device memory bandwidth: {bandwidth:.0f} GB/s" if bandwidth else "  device memory bandwidth: unknown")
    for e in exps:
        n = 2**e
        out = torch.empty(n, device=dev)
        x = torch.randn(n, device=dev, requires_grad=True)
        g = seedstream.Generator(0)
        tg = torch.Generator(dev).manual_seed(0)
        d = sst.Dropout(0.1, seed=0, name="bench")

        def ours_dropout() -> None:
            d(x).backward(torch.ones_like(x))

        def torch_dropout() -> None:
            torch.nn.functional.dropout(x, 0.1).backward(torch.ones_like(x))

        def ours_sample_dropout() -> None:
            sf.sample_dropout(x.view(8192, -1), 0.1, generator=g).backward(torch.ones_like(x).view(8192, -1))

        rows: List[Tuple[str, Callable[[], Any], Callable[[], Any], float]] = [
            ("rand f32", lambda: sst.rand(n, generator=g, device=dev, out=out), lambda: torch.rand(n, generator=tg, device=dev, out=out), 4.0),
            ("randn f32", lambda: sst.randn(n, generator=g, device=dev, out=out), lambda: torch.randn(n, generator=tg, device=dev, out=out), 4.0),
            ("bernoulli_ 0.3", lambda: sst.bernoulli(0.3, n, generator=g, device=dev), lambda: torch.empty(n, dtype=torch.bool, device=dev).bernoulli_(0.3, generator=tg), 1.0),
            ("trunc_normal_ f32", lambda: sst.init.trunc_normal_(out, generator=g), lambda: torch.nn.init.trunc_normal_(out, generator=tg), 4.0),
            ("dropout fwd+bwd f32", ours_dropout, torch_dropout, 16.0),
            ("sample_dropout 8192 samples fwd+bwd f32", ours_sample_dropout, torch_dropout, 16.0),
        ]
        for name, ours, theirs, bytes_per_element in rows:
            t_ours, t_torch = timed(ours), timed(theirs)
            gbs = n * bytes_per_element / t_ours / 1e9
            share = f"{100 * gbs / bandwidth:.0f}%" if bandwidth else "?"
            print(f"  2^{e} {name:40s} seedstream {gbs:8.1f} GB/s ({share})  torch {n * bytes_per_element / t_torch / 1e9:8.1f} GB/s  ratio {t_torch / t_ours:.2f}x")


# Nominal memory bandwidth (GB/s, vendor data sheets) where torch does not report the clock.
_NOMINAL_GBS = {"H200": 4800.0, "H100 SXM": 3350.0, "H100 80GB HBM3": 3350.0, "H100 NVL": 3900.0, "H100 PCIe": 2000.0, "A100-SXM4-80GB": 2039.0, "A100-SXM4-40GB": 1555.0}


def _peak_bandwidth(props: Any) -> float:
    """Theoretical memory bandwidth in GB/s: from torch's device properties if they hold the
    memory clock and bus width, else the nominal figure of a known device (0 if unknown)."""
    clock = getattr(props, "memory_clock_rate", 0)  # kHz
    width = getattr(props, "memory_bus_width", 0)  # bits
    if clock and width:
        return 2 * clock * 1e3 * width / 8 / 1e9
    return next((v for k, v in _NOMINAL_GBS.items() if k in props.name), 0.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
