"""`python -m seedstream`: checks this machine reproduces the specified bits, then times a
few fills against NumPy's default generator. `python -m seedstream bench` runs the full
benchmark (the seedstream._bench package)."""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import platform
import statistics
import sys
from typing import Callable, Dict, List, Tuple

import numpy as np

import seedstream as ss
from seedstream import _core
from seedstream._bench.timer import time_calls

N_GOLDEN = 65_536
# The frozen golden digests of tests/golden/v1, shipped with the package for this check
# (tests/test_golden.py asserts the files are byte-identical). SHA-256 of the LE bytes of 65,536
# outputs (16-bit formats as their uint16 bits), by "algorithm|seed|case[|dtype]".
DIGESTS = pathlib.Path(__file__).with_name("golden") / "v1"
FROZEN: Dict[str, str] = {
    key: value
    for name in ("digests.json", "digests_distributions.json")
    for key, value in json.loads((DIGESTS / name).read_text())["digests"].items()
}

GOLDEN: List[Tuple[str, str, Callable[[], np.ndarray], str]] = [
    ("philox", "bits uint32", lambda: ss.Generator(42).bits(N_GOLDEN), FROZEN["philox|42|bits-uint32"]),
    ("philox", "random float64", lambda: ss.Generator(42).random(N_GOLDEN), FROZEN["philox|42|random-float64"]),
    ("philox", "random float32", lambda: ss.Generator(42).random(N_GOLDEN, dtype=np.float32),
     FROZEN["philox|42|random-float32"]),
    ("philox", "integers [0, 1000)", lambda: ss.Generator(42).integers(0, 1000, size=N_GOLDEN),
     FROZEN["philox|42|integers-int64-0-1000"]),
    ("philox", "integers uint64 full range",
     lambda: ss.Generator(42).integers(0, 2**64 - 1, size=N_GOLDEN, dtype=np.uint64, endpoint=True),
     FROZEN["philox|42|integers-uint64-full-endpoint"]),
    ("philox", "bernoulli 0.3", lambda: ss.Generator(42).bernoulli(0.3, size=N_GOLDEN),
     FROZEN["philox|42|bernoulli-0.3"]),
    ("philox", "permutation", lambda: ss.Generator(42).permutation(N_GOLDEN), FROZEN["philox|42|permutation"]),
    ("pcg64", "bits uint64", lambda: ss.Generator(42, algorithm="pcg64").bits(N_GOLDEN, dtype=np.uint64),
     FROZEN["pcg64|42|bits-uint64"]),
    ("pcg64", "random float64 'hello'", lambda: ss.Generator("hello", algorithm="pcg64").random(N_GOLDEN),
     FROZEN["pcg64|'hello'|random-float64"]),
    ("philox", "standard_normal float64", lambda: ss.Generator(42).standard_normal(N_GOLDEN),
     FROZEN["philox|42|standard_normal|float64"]),
    ("philox", "standard_normal float32", lambda: ss.Generator(42).standard_normal(N_GOLDEN, dtype=np.float32),
     FROZEN["philox|42|standard_normal|float32"]),
    ("philox", "standard_normal bfloat16", lambda: ss.Generator(42).standard_normal(N_GOLDEN, dtype="bfloat16"),
     FROZEN["philox|42|standard_normal|bfloat16"]),
    ("philox", "uniform(-2, 5) float16", lambda: ss.Generator(42).uniform(-2.0, 5.0, N_GOLDEN, dtype=np.float16),
     FROZEN["philox|42|uniform(-2,5)|float16"]),
    ("philox", "truncated_normal float32",
     lambda: ss.Generator(42).truncated_normal(size=N_GOLDEN, dtype=np.float32),
     FROZEN["philox|42|truncated_normal(0,1,-2,2)|float32"]),
    ("philox", "truncated_normal a = 8 sigma",
     lambda: ss.Generator(42).truncated_normal(0.0, 1.0, 8.0, 9.0, size=N_GOLDEN),
     FROZEN["philox|42|truncated_normal(0,1,8,9)|float64"]),
]


def _digest(arr: np.ndarray) -> str:
    if arr.dtype.itemsize == 2:  # float16 / bfloat16: their bits
        arr = arr.view(np.uint16)
    le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(np.ascontiguousarray(le).tobytes()).hexdigest()


class Report:
    def __init__(self) -> None:
        self.failures = 0

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        print(f"{'PASS' if ok else 'FAIL'}  {name}{'' if ok else ': ' + detail}")
        self.failures += not ok


def _kats(r: Report) -> None:
    r.check(
        "Philox4x32-10 Random123 KAT (zero)",
        list(ss.philox4x32_10([0] * 4, [0] * 2)) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8],
    )
    r.check(
        "Philox4x32-10 Random123 KAT (pi)",
        list(ss.philox4x32_10([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0]))
        == [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    )
    pcg = _core.Pcg64Engine.seeded(42, 54).next_raw(3).tolist()
    r.check("PCG64 pcg-c check-pcg64 (42, 54)", pcg == [0x86B1DA1D72062B68, 0x1304AA46C9853D39, 0xA3670E9E0DD50358])
    dxsm = np.random.PCG64DXSM(7)
    st = dxsm.state["state"]
    mine = _core.Pcg64Engine(st["state"], st["inc"], "dxsm").next_raw(1000)
    r.check("PCG64DXSM equals NumPy's PCG64DXSM", bool(np.array_equal(mine, dxsm.random_raw(1000))))
    r.check(
        "Philox4x64-10 Random123 KAT (pi)",
        list(ss.philox4x64_10([0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89],
                              [0x452821E638D01377, 0xBE5466CF34E90C6C]))
        == [0xA528F45403E61D95, 0x38C72DBD566E9788, 0xA5A1610E72FD18B5, 0x57BD43B5E52B7FE6],
    )
    drop_in = np.random.Generator(ss.PCG64(42)).normal(size=10_000)
    r.check("Generator(seedstream.PCG64(42)) equals default_rng(42)",
            bool(np.array_equal(drop_in, np.random.default_rng(42).normal(size=10_000))))
    r.check("seedstream.Philox equals NumPy's Philox",
            bool(np.array_equal(ss.Philox(7).random_raw(1000), np.random.Philox(7).random_raw(1000))))


def _golden(r: Report) -> None:
    for algorithm, name, draw, want in GOLDEN:
        got = _digest(draw())
        r.check(f"golden {algorithm} {name}", got == want, f"digest {got[:16]}... != {want[:16]}...")


def _invariance(r: Report) -> None:
    saved = (ss.get_num_threads(), _core._get_chunk_blocks(), ss.simd_level())
    try:
        ss.set_num_threads(1)
        want = ss.Generator("threads").random(1_000_003, dtype=np.float32)
        ok = True
        for threads, chunk in [(2, 1 << 14), (7, 1000), (3, 1)]:
            ss.set_num_threads(threads)
            _core._set_chunk_blocks(chunk)
            ok &= bool(np.array_equal(ss.Generator("threads").random(1_000_003, dtype=np.float32), want))
        r.check("identical bits for 1, 2, 3 and 7 threads and any chunk size", ok)
        _core._set_chunk_blocks(saved[1])
        ss.set_num_threads(saved[0])
        levels = [lv for lv in ("scalar", "baseline", "avx2", "avx512") if _core._set_simd_level(lv)]

        def draws() -> List[bytes]:
            g = ss.Generator("simd")
            return [g.bits(100_003).tobytes(), g.standard_normal(100_003).tobytes(),
                    g.standard_normal(100_003, dtype=np.float32).tobytes(),
                    g.truncated_normal(size=100_003, dtype="bfloat16").tobytes()]

        _core._set_simd_level("scalar")
        want_draws = draws()
        ok = True
        for lv in levels:
            _core._set_simd_level(lv)
            ok &= draws() == want_draws
        r.check(f"identical bits at every SIMD level ({', '.join(levels)}), also for normals", ok)
    finally:
        ss.set_num_threads(saved[0])
        _core._set_chunk_blocks(saved[1])
        _core._set_simd_level(saved[2])


def _time(f: Callable[[], object], repeats: int) -> float:
    return statistics.median(time_calls({"": f}, repeats)[""])


def _throughput(n: int) -> None:
    rng = np.random.default_rng(0)
    g = ss.Generator(0)
    f32, f64 = np.empty(n, np.float32), np.empty(n)
    i64, mask = np.empty(n, np.int64), np.empty(n, bool)
    cases = [
        ("random float32 (out=)", lambda: rng.random(n, dtype=np.float32, out=f32),
         lambda: g.random(dtype=np.float32, out=f32)),
        ("random float64 (out=)", lambda: rng.random(n, out=f64), lambda: g.random(out=f64)),
        ("integers [0, 1000) int64", lambda: rng.integers(0, 1000, n), lambda: g.integers(0, 1000, out=i64)),
        ("bernoulli 0.5 vs random() < p", lambda: rng.random(n) < 0.5, lambda: g.bernoulli(0.5, out=mask)),
        ("permutation", lambda: rng.permutation(n), lambda: g.permutation(n)),
        ("standard_normal float32 (out=)", lambda: rng.standard_normal(n, dtype=np.float32, out=f32),
         lambda: g.standard_normal(dtype=np.float32, out=f32)),
        ("standard_normal float64 (out=)", lambda: rng.standard_normal(n, out=f64),
         lambda: g.standard_normal(out=f64)),
    ]
    saved = ss.get_num_threads()
    print(f"\nThroughput, {n:.0e} elements, median of 5 (NumPy default_rng = PCG64, 1 thread)")
    print(f"{'workload':32} {'numpy ns/el':>11} {'ss 1 thr':>9} {'x numpy':>8} {'ss all':>8} {'x numpy':>8}")
    try:
        for name, np_call, ss_call in cases:
            t_np = _time(np_call, 5) / n * 1e9
            ss.set_num_threads(1)
            t1 = _time(ss_call, 5) / n * 1e9
            ss.set_num_threads(saved)
            ta = _time(ss_call, 5) / n * 1e9
            print(f"{name:32} {t_np:11.2f} {t1:9.2f} {t_np / t1:7.1f}x {ta:8.2f} {t_np / ta:7.1f}x")
    finally:
        ss.set_num_threads(saved)
    print(f"('all' = {saved} threads; ns/element, lower is better; "
          "`python -m seedstream bench` is the full benchmark)")


def main(argv: "List[str] | None" = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # Imported here: the self-check must not pay for (or depend on) the benchmark's imports.
        from seedstream._bench.cli import main as bench_main

        return bench_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m seedstream", description=__doc__,
        epilog="python -m seedstream bench --help: options of the full benchmark")
    parser.add_argument("--no-bench", action="store_true", help="run the checks only")
    parser.add_argument("--size", type=float, default=1e7, help="elements per timed fill (default 1e7)")
    args = parser.parse_args(argv)
    print(f"seedstream {ss.__version__} on {platform.machine()} {platform.system()}, "
          f"Python {platform.python_version()}, NumPy {np.__version__}, SIMD {ss.simd_level()}, "
          f"{ss.get_num_threads()} threads")
    r = Report()
    _kats(r)
    _golden(r)
    _invariance(r)
    print(f"\n{'ALL CHECKS PASSED' if r.failures == 0 else f'{r.failures} CHECK(S) FAILED'}")
    if not args.no_bench:
        _throughput(int(args.size))
    return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
