"""The statistical-battery script (benches/stat_batteries.py) on tiny inputs, so it cannot rot:
its word producers, its parsing of dieharder's output, its counts and its report. dieharder
runs only where the binary is installed, nistrng only where the package is."""

import importlib.util
import io
import json
import math
import pathlib
import shutil
import sys
import types

import numpy as np
import pytest

import seedstream as ss

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benches" / "stat_batteries.py"


@pytest.fixture(scope="module")
def sb():
    spec = importlib.util.spec_from_file_location("stat_batteries", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("config, algorithm", [("raw", "philox"), ("pcg64", "pcg64")])
def test_single_stream_sources_are_the_word_stream(sb, config, algorithm):
    # chunk_words=64 makes take() cross several chunks.
    got = sb.WordSource(config, 7, 16, 0, chunk_words=64).take(200)
    assert np.array_equal(got, ss.Generator(7, algorithm=algorithm).bits(200, dtype=np.uint32))
    # Segment i starts at block i * SEGMENT_BLOCKS.
    got = sb.WordSource(config, 7, 16, 3, chunk_words=64).take(10)
    g = ss.Generator(7, algorithm=algorithm).advance(3 * sb.SEGMENT_BLOCKS)
    assert np.array_equal(got, g.bits(10, dtype=np.uint32))


def test_interleaved_sources_take_words_round_robin(sb):
    k = 3
    children = sb.WordSource("children", 5, k, 1, chunk_words=12).take(60)
    seeds = sb.WordSource("seeds", 5, k, 0, chunk_words=12).take(60)
    for i in range(k):
        child = ss.Generator(5).child(i).advance(sb.SEGMENT_BLOCKS)
        assert np.array_equal(children[i::k], child.bits(20, dtype=np.uint32))
        assert np.array_equal(seeds[i::k], ss.Generator(5 + i).bits(20, dtype=np.uint32))


def test_produce_writes_raw_uint32_words(sb, monkeypatch):
    stdout = types.SimpleNamespace(buffer=io.BytesIO())
    monkeypatch.setattr(sys, "stdout", stdout)
    sb.main(["produce", "children", "--seed", "2", "--streams", "2", "--words", "10"])
    out = stdout.buffer.getvalue()
    expected = sb.WordSource("children", 2, 2, 0).take(10)
    assert np.array_equal(np.frombuffer(out, dtype=np.uint32), expected)


DIEHARDER_OUTPUT = """\
#=============================================================================#
#            dieharder version 3.31.1 Copyright 2003 Robert G. Brown          #
#=============================================================================#
   rng_name    |rands/second|   Seed   |
stdin_input_raw|  3.71e+07  |1412342108|
#=============================================================================#
        test_name   |ntup| tsamples |psamples|  p-value |Assessment
#=============================================================================#
          sts_serial|  16|    100000|     100|0.99770455|   WEAK   
          sts_serial|  16|    100000|     100|0.31673292|  PASSED  
       diehard_craps|   0|    200000|     100|0.00000000|  FAILED  
"""


def test_parse_dieharder_reads_every_result_row(sb):
    rows = sb.parse_dieharder(DIEHARDER_OUTPUT)
    assert [(r["test"], r["ntup"], r["psamples"], r["assessment"]) for r in rows] == [
        ("sts_serial", 16, 100, "WEAK"), ("sts_serial", 16, 100, "PASSED"),
        ("diehard_craps", 0, 100, "FAILED")]
    assert rows[0]["p"] == 0.99770455 and rows[0]["tsamples"] == 100000
    assert [sb.dieharder_flag(r["p"]) for r in rows] == [r["assessment"] for r in rows]


def test_binomial_tail(sb):
    def below(k, n, p):  # P(X < k), summed from the other side
        return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k))

    for k, n, p in [(1, 10, 0.01), (3, 200, 0.01), (9, 300, 0.01), (2, 5, 0.5)]:
        assert sb.binom_sf(k, n, p) == pytest.approx(1 - below(k, n, p), rel=1e-9)
    assert sb.binom_sf(0, 10, 0.01) == 1.0
    assert sb.binom_sf(5, 5, 0.5) == pytest.approx(1 / 32)
    assert sb.binom_sf(6, 5, 0.5) == 0.0


def _rows(sb, ps, rerun=False):
    return [{"test": f"t{i}", "ntup": 0, "tsamples": 1, "psamples": 100, "p": p,
             "assessment": sb.dieharder_flag(p), "rerun": rerun} for i, p in enumerate(ps)]


def _result(sb, dieharder_rows, nist_rows):
    entry = {"description": sb.CONFIGS["raw"], "elapsed_s": 1.0, "dieharder": dieharder_rows,
             "nist": nist_rows, "dieharder_summary": sb.summarize_dieharder(dieharder_rows),
             "nist_summary": sb.summarize_nist(nist_rows)}
    meta = {"host": "h", "date": "d", "datetime": "t", "command": "c", "cpu": "cpu", "cores": 2,
            "platform": "p", "python": "3", "numpy": "2", "seedstream": "0", "commit": None,
            "dieharder": "3.31.1", "nistrng": "1.2.3", "seed": 0, "streams": 16, "psamples": None,
            "dieharder_tests": [[0, None]], "nist_sequences": 1, "nist_bits": 64,
            "nist_tests": ["monobit"], "elapsed_s": 1.0}
    return {"meta": meta, "notes": [], "configs": {"raw": entry}}


def test_report_counts_and_verdict(sb, tmp_path):
    # 200 evenly spread p-values: exactly two fall in the WEAK tails (0.0025 and 0.9975).
    ps = [(i + 0.5) / 200 for i in range(200)]
    rows = _rows(sb, ps) + _rows(sb, [0.5, 0.4], rerun=True)
    nist = [{"test": "monobit", "p_values": [0.5, 0.005], "passed": False}]
    result = _result(sb, rows, nist)
    d = result["configs"]["raw"]["dieharder_summary"]
    assert (d["p_values"], d["weak"], d["failed"], d["reruns"]) == (200, 2, 0, 2)
    assert d["expected_weak_or_failed"] == pytest.approx(2.0)
    assert d["deciles"] == [20] * 10
    s = result["configs"]["raw"]["nist_summary"]
    assert (s["p_values"], s["below_alpha"]) == (2, 1)

    sb.write_markdown(str(tmp_path / "r.md"), result)
    text = (tmp_path / "r.md").read_text()
    assert "**Verdict: PASS**" in text
    assert "2 WEAK and 0 FAILED of 200 p-values (expected 2.0 WEAK; P(>= 2) = 0.6" in text
    assert "r 0.5000" in text  # rerun rows are marked
    json.dumps(result)

    # A test flagged again on fresh data fails the verdict.
    failing = _result(sb, _rows(sb, ps) + _rows(sb, [0.999]), nist)
    failing["configs"]["raw"]["dieharder"][-1]["rerun"] = True
    failing["configs"]["raw"]["dieharder_summary"] = sb.summarize_dieharder(
        failing["configs"]["raw"]["dieharder"])
    assert sb.verdict_line(failing).startswith("**Verdict: FAIL**")
    # So does a count of WEAK far beyond chance (12 of 200: P far below 0.001).
    many = _result(sb, _rows(sb, ps[1:189] + [0.999] * 12), [])
    ok, reasons = sb.verdict(many["configs"])
    assert not ok and "12 WEAK/FAILED of 200" in reasons[0]


def test_nist_on_a_tiny_sequence(sb):
    pytest.importorskip("nistrng")
    bits = sb.words_to_bits(ss.Generator(1).bits(128, dtype=np.uint32))
    assert bits.size == 4096 and set(np.unique(bits)) <= {0, 1}
    # Most significant bit first.
    assert bits[:32].tolist() == [int(c) for c in format(int(ss.Generator(1).bits(1)[0]), "032b")]
    rows = sb.run_nist(bits, ["monobit", "runs", "cumulative sums", "random_excursion"], seed=0)
    assert [r["test"] for r in rows] == ["monobit", "runs", "cumulative sums", "random_excursion"]
    for r in rows[:3]:
        assert r["p_values"] and all(0.0 <= p <= 1.0 for p in r["p_values"])
    assert len(rows[2]["p_values"]) == 2
    # 4096 bits cannot have 500 zero-return cycles: SP 800-22 says the test does not apply.
    assert rows[3]["passed"] is None and "J =" in rows[3]["note"]


def test_main_writes_report_without_dieharder(sb, tmp_path):
    pytest.importorskip("nistrng")
    sb.main(["--configs", "seeds", "--streams", "2", "--no-dieharder", "--nist-sequences", "1",
             "--nist-bits", "2048", "--nist-tests", "monobit,runs", "--out", str(tmp_path),
             "--name", "r"])
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["configs"]["seeds"]["nist_summary"]["p_values"] == 2
    assert "Verdict" in (tmp_path / "r.md").read_text()


@pytest.mark.skipif(shutil.which("dieharder") is None, reason="dieharder not installed")
def test_dieharder_end_to_end(sb, tmp_path):
    # diehard_birthdays with one psample reads a few thousand words: well under a second.
    sb.main(["--configs", "raw,children", "--streams", "2", "--tests", "0", "--psamples", "1",
             "--no-nist", "--no-rerun", "--out", str(tmp_path), "--name", "r"])
    result = json.loads((tmp_path / "r.json").read_text())
    for name in ("raw", "children"):
        (row,) = result["configs"][name]["dieharder"]
        assert row["test"] == "diehard_birthdays" and row["psamples"] == 1
        assert 0.0 <= row["p"] <= 1.0
    assert result["meta"]["dieharder"]


def test_a_rerun_checks_only_the_flagged_p_values(sb):
    # sts_serial gives many p-values per run; its rerun is judged on the one that was WEAK,
    # not on the others, any of which may be WEAK by chance.
    first = [dict(r, d=102, segment=4) for r in _rows(sb, [0.5, 0.999, 0.5], rerun=False)]
    again = [dict(r, d=102, segment=5) for r in _rows(sb, [0.999, 0.5, 0.5], rerun=True)]
    rows = first + again
    sb.mark_rerun_checks(rows)
    assert [r.get("checks") for r in again] == [False, True, False]
    d = sb.summarize_dieharder(rows)
    assert (d["p_values"], d["weak"], d["reruns"], d["reruns_not_passed"]) == (3, 1, 1, 0)
    ok, _ = sb.verdict({"raw": {"dieharder_summary": d}})
    assert ok


def test_nist_tests_that_nistrng_gets_wrong_are_not_counted(sb):
    rows = [{"test": "monobit", "p_values": [0.5], "passed": True},
            {"test": "overlapping_template_matching", "p_values": [0.0], "passed": False}]
    s = sb.summarize_nist(rows)
    assert (s["p_values"], s["below_alpha"]) == (1, 0)
    assert s["excluded_tests"] == ["overlapping_template_matching"]
    assert not set(sb.NIST_DEFAULT) & set(sb.NIST_BROKEN)


def test_numpy_reference_source(sb):
    got = sb.WordSource("numpy", 3, 16, 2, chunk_words=64).take(100)
    bitgen = np.random.PCG64(3).advance(2 * 2 * sb.SEGMENT_BLOCKS)
    assert np.array_equal(got, bitgen.random_raw(50).view(np.uint32))


def test_the_verdict_also_counts_over_all_streams(sb):
    # 6 WEAK of 200 in each of three streams: each count passes (P = 0.016), the total of
    # 18 of 600 (expected 6) does not.
    ps = [(i + 0.5) / 200 for i in range(200)]
    d = sb.summarize_dieharder(_rows(sb, ps[1:195] + [0.999] * 6))
    assert d["weak"] == 6 and d["p_at_least_observed"] > sb.COUNT_LEVEL
    ok, reasons = sb.verdict({name: {"dieharder_summary": d} for name in ("a", "b", "c")})
    assert not ok and reasons == [reasons[0]] and reasons[0].startswith("all: 18 WEAK/FAILED of 600")
