"""Smoke tests: the main job and the benchmark still run (no timing is asserted)."""

import json
import pathlib
import subprocess
import sys

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


def test_benchmark_runs_at_tiny_size(tmp_path):
    out = tmp_path / "r.json"
    r = subprocess.run(
        [sys.executable, str(ROOT / "benches" / "bench_numpy.py"), "--sizes", "1e3", "--repeats", "1",
         "--target-ms", "1", "--json", str(out)],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| random |" in r.stdout or "random" in r.stdout
    assert json.loads(out.read_text())


def test_bitgen_benchmark_runs_at_tiny_size():
    r = subprocess.run(
        [sys.executable, str(ROOT / "benches" / "bench_bitgen.py"), "--size", "1e3", "--repeats", "1"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| PCG64 | Generator.random(n) |" in r.stdout and "random_raw(n)" in r.stdout


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
