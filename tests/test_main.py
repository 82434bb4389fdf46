"""Smoke tests: the main job and the benchmark still run (no timing is asserted)."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_main_job_self_check_passes():
    r = subprocess.run([sys.executable, "-m", "seedstream", "--no-bench"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ALL CHECKS PASSED" in r.stdout
    assert "FAIL" not in r.stdout


def test_main_job_prints_throughput_table():
    r = subprocess.run([sys.executable, "-m", "seedstream", "--size", "1000"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "random float32 (out=)" in r.stdout and "permutation" in r.stdout


def test_self_check_reports_failure(monkeypatch, capsys):
    from seedstream import _selfcheck

    bad = [(a, n, f, "0" * 64) for a, n, f, _ in _selfcheck.GOLDEN[:1]]
    monkeypatch.setattr(_selfcheck, "GOLDEN", bad)
    assert _selfcheck.main(["--no-bench"]) == 1
    assert "FAIL  golden" in capsys.readouterr().out


def test_bench_command_runs_at_tiny_size(tmp_path, monkeypatch, capsys):
    """`python -m seedstream bench` writes its JSON and Markdown without rich and matplotlib
    (hidden here), saying that the plot was skipped. Nothing about timing is asserted."""
    import seedstream as ss
    from seedstream import _selfcheck

    for name in ("rich", "rich.console", "rich.progress", "rich.table", "matplotlib",
                 "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: ImportError
    threads = ss.get_num_threads()
    argv = ["bench", "--quick", "--sizes", "1e3", "--only", "random,bernoulli", "--repeats", "1",
            "--target-ms", "1", "--out", str(tmp_path)]
    assert _selfcheck.main(argv) == 0
    assert ss.get_num_threads() == threads

    (js,) = tmp_path.glob("*.json")
    (md,) = tmp_path.glob("*.md")
    assert not list(tmp_path.glob("*.png"))
    result = json.loads(js.read_text())
    assert {(c["workload"], c["dtype"]) for c in result["cases"]} == {
        ("random", "float32"), ("random", "float64"), ("bernoulli", "bool")}
    impls = {m["impl"] for c in result["cases"] for m in c["measurements"]}
    assert {"seedstream", "numpy-PCG64", "numpy-Philox", "numpy-MT19937"} <= impls
    assert any("matplotlib is not installed" in n for n in result["notes"])
    assert "| random float32 | 1e3 | out= |" in md.read_text()
    assert "random float32" in capsys.readouterr().out
    # The memory fill is measured at 1 thread and at the most seedstream threads.
    most = str(result["meta"]["max_ss_threads"])
    assert all(set(c["fill_GBps_threads"]) == {"1", most} for c in result["cases"])


def test_bench_percent_of_fill_is_taken_against_the_fastest_fill_up_to_the_thread_count():
    """The `% of fill` column at t threads relates to the fastest memory fill with at most t
    threads, and the fill table lists every thread count measured."""
    from seedstream._bench import report

    def m(key, ns):
        return {"key": key, "output": "out=", "ns_per_element": ns, "peak_bytes": None}

    rec = {"workload": "random", "label": "random", "dtype": "float32", "size": 1000,
           "elements": 1000, "out_bytes": 4000, "expected_bytes": {"out=": 0},
           "fill_GBps": 4.0, "fill_cuda_GBps": None, "fill_GBps_threads": {"1": 4.0, "2": 8.0},
           "measurements": [m("seedstream 1t", 2.0), m("seedstream 2t", 1.0)]}
    header, body = report.main_table(report.rows_of([rec]), {"max_ss_threads": 2, "torch_threads": []})
    row = dict(zip(header, body[0]))
    # The fill: 1 ns per element at 1 thread (4 bytes at 4 GB/s), 0.5 ns at 2 threads.
    assert row["% of fill (1t)"] == "50%"
    assert row["% of fill (2t)"] == "50%"
    header, body = report.fill_table([rec])
    assert header == ["bytes", "fill GB/s (1 thread)", "fill GB/s (2 threads)"]
    assert body[0][1:] == ["4.0", "8.0"]
    # Where threads fill slower than one (small sizes), the one-thread fill is the reference.
    rec["fill_GBps_threads"] = {"1": 4.0, "2": 0.1}
    header, body = report.main_table(report.rows_of([rec]), {"max_ss_threads": 2, "torch_threads": []})
    assert dict(zip(header, body[0]))["% of fill (2t)"] == "100%"
    # A result file without the multi-thread fill keeps its one-thread reference.
    del rec["fill_GBps_threads"]
    header, body = report.main_table(report.rows_of([rec]), {"max_ss_threads": 2, "torch_threads": []})
    assert dict(zip(header, body[0]))["% of fill (2t)"] == "100%"


def test_bench_simd_option_forces_and_records_the_level(tmp_path, monkeypatch):
    """`--simd` runs seedstream at the given level, records it with the CPU model, and
    leaves the level as it was."""
    import seedstream as ss
    from seedstream import _selfcheck

    for name in ("rich", "rich.console", "rich.progress", "rich.table", "matplotlib",
                 "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    before = ss.simd_level()
    level = "baseline" if before == "scalar" else "scalar"
    argv = ["bench", "--simd", level, "--quick", "--sizes", "1e3", "--only", "random",
            "--repeats", "1", "--target-ms", "1", "--threads", "1", "--out", str(tmp_path)]
    assert _selfcheck.main(argv) == 0
    assert ss.simd_level() == before
    (js,) = tmp_path.glob("*.json")
    meta = json.loads(js.read_text())["meta"]
    assert meta["simd_level"] == level
    assert meta["cpu"]
    with pytest.raises(SystemExit):
        _selfcheck.main(["bench", "--simd", "sse9", "--out", str(tmp_path)])


def test_bench_wrapper_in_benches_shows_help():
    r = subprocess.run([sys.executable, str(ROOT / "benches" / "run.py"), "--help"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "--quick" in r.stdout and "--out" in r.stdout


def test_bitgen_benchmark_runs_at_tiny_size():
    r = subprocess.run(
        [sys.executable, str(ROOT / "benches" / "bench_bitgen.py"), "--size", "1e3", "--repeats", "1"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| PCG64 | Generator.random(n) |" in r.stdout and "random_raw(n)" in r.stdout


def test_kernel_benchmark_runs_at_tiny_size():
    r = subprocess.run(
        [sys.executable, str(ROOT / "benches" / "bench_kernels.py"), "--simd", "scalar", "--size", "1e3",
         "--repeats", "1", "--cpu-time"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "scalar   normal32 " in r.stdout and "integers_fresh" in r.stdout


def test_distribution_benchmark_runs_at_tiny_size(tmp_path):
    out = tmp_path / "d.json"
    r = subprocess.run(
        [sys.executable, str(ROOT / "benches" / "bench_distributions.py"), "--size", "1e3", "--repeats", "1",
         "--json", str(out)],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| standard_normal float32 |" in r.stdout
    assert json.loads(out.read_text())["n"] == 1000


def test_accuracy_sweep_runs_quickly():
    r = subprocess.run([sys.executable, str(ROOT / "benches" / "detmath_accuracy.py"), "--quick"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| ln binary32 |" in r.stdout and "| AS 241 central |" in r.stdout
