#!/usr/bin/env python3
"""Statistical batteries on seedstream's output: dieharder and NIST SP 800-22 (nistrng).

A benchmark-style check, not a test: it never fails a build; it writes a report.

    python benches/stat_batteries.py                      # the default run (see benches/README.md)
    python benches/stat_batteries.py --quick              # a few tests, about a minute
    python benches/stat_batteries.py produce raw | dieharder -g 200 -a   # any tool, raw uint32 words
    python benches/stat_batteries.py report benches/results/batteries-HOST-DATE.json  # redo the .md

Four streams (``--configs``):

- ``raw``: ``Generator(seed)``, its word stream.
- ``children``: ``Generator(seed).child(0) ... child(k - 1)``, interleaved word by word.
- ``seeds``: ``Generator(seed) ... Generator(seed + k - 1)`` (consecutive integer seeds),
  interleaved word by word.
- ``pcg64``: ``Generator(seed, algorithm="pcg64")``, its word stream.
- ``numpy`` (not in the default run): NumPy's own ``PCG64(seed)``, to calibrate the batteries.

Each dieharder test reads its own segment of the stream(s): segment ``i`` starts every
stream at block ``i * 2**40``, so no two tests see the same words. dieharder reads raw
uint32 words from stdin (``dieharder -g 200``); each NIST sequence also gets its own segment.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

import seedstream as ss

CONFIGS = {
    "raw": "Generator(seed): one word stream",
    "children": "Generator(seed).child(0 .. k-1), interleaved word by word",
    "seeds": "Generator(seed), Generator(seed+1), ... Generator(seed+k-1), interleaved word by word",
    "pcg64": 'Generator(seed, algorithm="pcg64"): one word stream',
    "numpy": "numpy.random.PCG64(seed).random_raw() as uint32 words: a reference, not seedstream",
}
# The default run; "numpy" calibrates the batteries themselves against NumPy's generator.
DEFAULT_CONFIGS = ["raw", "children", "seeds", "pcg64"]

# Blocks between segments: far more than any test reads (2**42 words, 16 TiB).
SEGMENT_BLOCKS = 1 << 40
CHUNK_WORDS = 1 << 20

# dieharder tests as (number, ntuple or None for dieharder's default). The default set: every
# test rated "Good" by `dieharder -l` except 17 (marsaglia_tsang_gcd, the slowest), with
# dieharder's own tsamples and psamples; rgb_bitdist, rgb_minimum_distance and rgb_lagged_sum
# at a few ntuples. rgb_minimum_distance needs one (d = 2 .. 5): at its default, 0, it fails
# every generator.
DEFAULT_TESTS: List[Tuple[int, Optional[int]]] = [
    (0, None), (1, None), (2, None), (3, None), (4, None), (8, None), (9, None), (10, None),
    (11, None), (12, None), (13, None), (15, None), (16, None),
    (100, None), (101, None), (102, None),
    (200, 1), (200, 4), (200, 8), (200, 12), (201, 2), (201, 5), (202, None),
    (203, 0), (203, 1), (203, 7), (204, None),
    (205, None), (206, None), (207, None), (208, None), (209, None),
]
# `dieharder -a`'s list (rgb_bitdist at 1..12, rgb_minimum_distance and rgb_permutations at
# 2..5, rgb_lagged_sum at 0..32), including the "Suspect" and "Do Not Use" ones.
ALL_TESTS: List[Tuple[int, Optional[int]]] = []
ALL_TESTS += [(d, None) for d in range(18)] + [(100, None), (101, None), (102, None)]
ALL_TESTS += [(200, n) for n in range(1, 13)] + [(201, n) for n in range(2, 6)]
ALL_TESTS += [(202, n) for n in range(2, 6)] + [(203, n) for n in range(33)]
ALL_TESTS += [(204, None), (205, None), (206, None), (207, None), (208, None), (209, None)]
QUICK_TESTS: List[Tuple[int, Optional[int]]] = [(0, None), (2, None), (100, None), (204, None)]

# dieharder's default thresholds (-W, -X): two-sided, so a perfect generator gives WEAK
# (or FAILED) with probability 2 * 0.005 = 1% per p-value and FAILED with 2e-6.
WEAK = 0.005
FAIL = 1e-6
# NIST SP 800-22: a p-value below alpha fails; alpha = 0.01 (one-sided).
NIST_ALPHA = 0.01
# Verdict: a count of flagged p-values this unlikely under the null hypothesis is a failure.
COUNT_LEVEL = 0.001

# nistrng's names; linear_complexity is left out by default (pure-Python Berlekamp-Massey:
# about 100 s per 2**20-bit sequence on a 2-core VM).
NIST_TESTS = [
    "monobit", "frequency_within_block", "runs", "longest_run_ones_in_a_block",
    "binary_matrix_rank", "dft", "non_overlapping_template_matching",
    "overlapping_template_matching", "maurers_universal", "linear_complexity", "serial",
    "approximate_entropy", "cumulative sums", "random_excursion", "random_excursion_variant",
]
# Tests of nistrng 1.2.3 whose p-values are wrong for every input (checked on NumPy's PCG64
# output, 2**20-bit sequences, and in nistrng's source): they run only with --nist-tests
# naming them or "all", and are left out of the counts and the verdict.
NIST_BROKEN = {
    "non_overlapping_template_matching":
        "divides the chi-square by the variance squared: p = 1.0 for every input",
    "overlapping_template_matching": "p = 0 for every input",
    "maurers_universal":
        "divides by sqrt(variance) where SP 800-22 has c * sqrt(variance / K): p > 0.99 for every input",
    "random_excursion": "p = 0 on NumPy's PCG64 output",
    "random_excursion_variant":
        "returns the statistic |xi - J| / sqrt(2J(4|x| - 2)), not its p-value erfc(...): values above 1 occur",
}
NIST_DEFAULT = [t for t in NIST_TESTS if t != "linear_complexity" and t not in NIST_BROKEN]
NIST_QUICK = ["monobit", "frequency_within_block", "runs", "dft", "cumulative sums"]


# --- producers -----------------------------------------------------------------------------


def make_streams(config: str, seed: int, streams: int) -> List[ss.Generator]:
    """The generators of a configuration, at position 0."""
    if config == "raw":
        return [ss.Generator(seed)]
    if config == "pcg64":
        return [ss.Generator(seed, algorithm="pcg64")]
    if config == "children":
        parent = ss.Generator(seed)
        return [parent.child(i) for i in range(streams)]
    if config == "seeds":
        return [ss.Generator(seed + i) for i in range(streams)]
    raise ValueError(f"config: expected one of {', '.join(CONFIGS)}, got {config!r}")


class WordSource:
    """uint32 words of a configuration, segment ``segment`` onwards, in chunks.

    With k streams, word ``j`` of the output is word ``j // k`` of stream ``j % k``.
    """

    def __init__(self, config: str, seed: int, streams: int, segment: int,
                 chunk_words: int = CHUNK_WORDS) -> None:
        self.numpy: Optional[np.random.PCG64] = None
        if config == "numpy":
            # Two uint64 draws per 4-word block, so segments line up with seedstream's.
            self.numpy = np.random.PCG64(seed).advance(2 * segment * SEGMENT_BLOCKS)
            self.chunk = np.empty(chunk_words - chunk_words % 2, dtype=np.uint32)
            return
        self.gens = make_streams(config, seed, streams)
        for g in self.gens:
            g.advance(segment * SEGMENT_BLOCKS)
        k = len(self.gens)
        self.per_stream = max(1, chunk_words // k)
        self.rows = np.empty((k, self.per_stream), dtype=np.uint32)
        self.chunk = np.empty(self.per_stream * k, dtype=np.uint32)

    def next_chunk(self) -> np.ndarray:
        """The next chunk (a buffer reused by the next call)."""
        if self.numpy is not None:
            self.chunk[:] = self.numpy.random_raw(self.chunk.size // 2).view(np.uint32)
            return self.chunk
        if len(self.gens) == 1:
            self.gens[0].bits(dtype=np.uint32, out=self.chunk)
            return self.chunk
        for g, row in zip(self.gens, self.rows):
            g.bits(dtype=np.uint32, out=row)
        np.copyto(self.chunk.reshape(self.per_stream, len(self.gens)), self.rows.T)
        return self.chunk

    def take(self, words: int) -> np.ndarray:
        """The next ``words`` words as a new array (the rest of the last chunk is dropped)."""
        parts = []
        have = 0
        while have < words:
            c = self.next_chunk()[: words - have].copy()
            parts.append(c)
            have += c.size
        return np.concatenate(parts)


def produce(argv: Sequence[str]) -> int:
    """Writes raw uint32 words (native byte order) to stdout until the reader closes it."""
    p = argparse.ArgumentParser(prog="stat_batteries.py produce",
                                description="Raw uint32 words of one configuration to stdout.")
    p.add_argument("config", choices=list(CONFIGS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--streams", type=int, default=16, help="k for children and seeds")
    p.add_argument("--segment", type=int, default=0, help="start at block segment * 2**40")
    p.add_argument("--words", type=int, default=None, help="stop after this many words")
    args = p.parse_args(argv)
    src = WordSource(args.config, args.seed, args.streams, args.segment)
    out = sys.stdout.buffer
    left = args.words
    try:
        while left is None or left > 0:
            chunk = src.next_chunk()
            if left is not None:
                chunk = chunk[:left]
                left -= chunk.size
            out.write(chunk.data)
        out.flush()
    except BrokenPipeError:
        # The reader has what it wanted; keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


# --- dieharder -----------------------------------------------------------------------------

_ROW = re.compile(
    r"^\s*(?P<test>[\w.-]+)\|\s*(?P<ntup>\d+)\|\s*(?P<tsamples>\d+)\|\s*(?P<psamples>\d+)\|"
    r"\s*(?P<p>[0-9.eE+-]+)\|\s*(?P<assessment>PASSED|WEAK|FAILED)\s*$")


def parse_dieharder(text: str) -> List[Dict[str, Any]]:
    """The result rows of dieharder's default table output."""
    rows = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if m:
            rows.append({
                "test": m["test"], "ntup": int(m["ntup"]), "tsamples": int(m["tsamples"]),
                "psamples": int(m["psamples"]), "p": float(m["p"]), "assessment": m["assessment"],
            })
    return rows


def dieharder_version(binary: str) -> Optional[str]:
    try:
        out = subprocess.run([binary, "-l"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"dieharder version (\S+)", out)
    return m.group(1) if m else None


def dieharder_command(binary: str, test: int, ntuple: Optional[int],
                      psamples: Optional[int]) -> List[str]:
    cmd = [binary, "-g", "200", "-d", str(test)]
    if ntuple is not None:
        cmd += ["-n", str(ntuple)]
    if psamples is not None:
        cmd += ["-p", str(psamples)]
    return cmd


def run_dieharder(binary: str, src: WordSource, test: int, ntuple: Optional[int],
                  psamples: Optional[int]) -> Tuple[List[Dict[str, Any]], str]:
    """Runs one dieharder test fed from ``src`` through its stdin; rows and full output."""
    cmd = dieharder_command(binary, test, ntuple, psamples)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        try:
            while True:
                stdin.write(src.next_chunk().data)
        except (BrokenPipeError, ValueError, OSError):
            pass  # dieharder has finished reading

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    with proc.stdout:
        text = proc.stdout.read().decode("utf-8", "replace")
    proc.wait()
    try:
        stdin.close()
    except OSError:
        pass
    writer.join()
    rows = parse_dieharder(text)
    if not rows:
        raise RuntimeError(f"{' '.join(cmd)} gave no result rows (exit {proc.returncode}):\n{text}")
    return rows, text


# --- NIST SP 800-22 ------------------------------------------------------------------------


def words_to_bits(words: np.ndarray) -> np.ndarray:
    """Bits of each word from the most significant, words in stream order (int64 0/1)."""
    shifts = np.arange(31, -1, -1, dtype=np.uint32)
    return ((words[:, None] >> shifts) & 1).astype(np.int64).ravel()


def excursion_cycles(bits: np.ndarray) -> int:
    """J of SP 800-22 section 2.14: the number of zero-return cycles of the +-1 walk."""
    walk = np.cumsum(2 * bits - 1)
    return int(np.count_nonzero(walk == 0)) + (1 if walk[-1] != 0 else 0)


def run_nist(bits: np.ndarray, tests: Sequence[str], seed: int) -> List[Dict[str, Any]]:
    """nistrng's SP 800-22 tests on one sequence; one row per test."""
    from nistrng import SP800_22R1A_BATTERY

    cycles = excursion_cycles(bits)
    rows = []
    for name in tests:
        test = SP800_22R1A_BATTERY[name]
        row: Dict[str, Any] = {"test": name}
        if name.startswith("random_excursion") and cycles < 500:
            # SP 800-22 2.14.7: the test does not apply to sequences with J < 500.
            row.update(p_values=[], passed=None, note=f"not applicable: J = {cycles} < 500")
        elif not test.is_eligible(bits):
            row.update(p_values=[], passed=None, note=f"not eligible at {bits.size} bits")
        else:
            # nistrng picks the non-overlapping template with Python's random module.
            random.seed(seed)
            # A fresh copy for every test: some of nistrng's tests write into their input.
            result, _ = test.run(bits.copy())
            # Result keeps every p-value (2 for serial and cumulative sums, 8 and 18 for the
            # random excursion tests) in _score_list; .score is only their mean.
            scores = getattr(result, "_score_list", np.array(result.score))
            row.update(p_values=[float(x) for x in np.atleast_1d(scores)],
                       passed=bool(result.passed))
        rows.append(row)
    return rows


# --- counting and the verdict --------------------------------------------------------------


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return min(1.0, sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def dieharder_flag(p: float) -> str:
    """dieharder's assessment of a p-value at its default thresholds."""
    if p < FAIL or p > 1 - FAIL:
        return "FAILED"
    if p < WEAK or p > 1 - WEAK:
        return "WEAK"
    return "PASSED"


def deciles(ps: Sequence[float]) -> List[int]:
    counts = [0] * 10
    for p in ps:
        counts[min(9, max(0, int(p * 10)))] += 1
    return counts


def mark_rerun_checks(rows: Sequence[Dict[str, Any]]) -> None:
    """Sets ``checks`` on each rerun row: whether it repeats a flagged p-value of the first
    run. A rerun repeats the whole test (sts_serial gives 30 p-values); only the p-values
    that were flagged are checked, as each of the others may be WEAK by chance again."""
    first: Dict[Tuple[int, int], List[Dict[str, Any]]] = {}
    for r in rows:
        if not r.get("rerun"):
            first.setdefault((r["d"], r["segment"]), []).append(r)
    position: Dict[Tuple[int, int], int] = {}
    for r in rows:
        if r.get("rerun"):
            k = (r["d"], r["segment"])
            i = position.get(k, 0)
            position[k] = i + 1
            original = first.get((r["d"], r["segment"] - 1), [])
            r["checks"] = i < len(original) and original[i]["assessment"] != "PASSED"


def summarize_dieharder(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    first = [r for r in rows if not r.get("rerun")]
    reruns = [r for r in rows if r.get("rerun") and r.get("checks", True)]
    n = len(first)
    flagged = sum(r["assessment"] != "PASSED" for r in first)
    failed = sum(r["assessment"] == "FAILED" for r in first)
    return {
        "p_values": n,
        "weak": flagged - failed,
        "failed": failed,
        "expected_weak_or_failed": n * 2 * WEAK,
        "sd_weak_or_failed": math.sqrt(n * 2 * WEAK * (1 - 2 * WEAK)),
        "p_at_least_observed": binom_sf(flagged, n, 2 * WEAK),
        "reruns": len(reruns),
        "reruns_not_passed": sum(r["assessment"] != "PASSED" for r in reruns),
        "deciles": deciles([r["p"] for r in first]),
    }


def summarize_nist(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    ps = [p for r in rows if r["test"] not in NIST_BROKEN for p in r["p_values"]]
    n = len(ps)
    below = sum(p < NIST_ALPHA for p in ps)
    return {
        "p_values": n,
        "below_alpha": below,
        "expected_below_alpha": n * NIST_ALPHA,
        "p_at_least_observed": binom_sf(below, n, NIST_ALPHA),
        "not_applicable": sum(r["passed"] is None for r in rows),
        "excluded_tests": sorted({r["test"] for r in rows if r["test"] in NIST_BROKEN}),
    }


def verdict(configs: Dict[str, Dict[str, Any]]) -> Tuple[bool, List[str]]:
    """PASS when no count of flagged p-values is beyond chance and every flagged dieharder
    p-value passes again on fresh data; the reasons otherwise."""
    reasons = []
    for name, c in configs.items():
        d = c.get("dieharder_summary")
        if d:
            if d["p_at_least_observed"] < COUNT_LEVEL:
                reasons.append(f"{name}: {d['weak'] + d['failed']} WEAK/FAILED of {d['p_values']} "
                               f"dieharder p-values (P = {d['p_at_least_observed']:.2g})")
            if d["reruns_not_passed"]:
                reasons.append(f"{name}: {d['reruns_not_passed']} dieharder p-value(s) flagged "
                               "again on fresh data")
        s = c.get("nist_summary")
        if s and s["p_at_least_observed"] < COUNT_LEVEL:
            reasons.append(f"{name}: {s['below_alpha']} NIST p-values below {NIST_ALPHA} of "
                           f"{s['p_values']} (P = {s['p_at_least_observed']:.2g})")
    n, flagged = dieharder_totals(configs)
    if len(configs) > 1 and binom_sf(flagged, n, 2 * WEAK) < COUNT_LEVEL:
        reasons.append(f"all: {flagged} WEAK/FAILED of {n} dieharder p-values "
                       f"(P = {binom_sf(flagged, n, 2 * WEAK):.2g})")
    return (not reasons), reasons


def dieharder_totals(configs: Dict[str, Dict[str, Any]]) -> Tuple[int, int]:
    """Number of first-run dieharder p-values and how many of them are WEAK or FAILED."""
    dh = [c["dieharder_summary"] for c in configs.values() if c.get("dieharder_summary")]
    return sum(d["p_values"] for d in dh), sum(d["weak"] + d["failed"] for d in dh)


# --- report --------------------------------------------------------------------------------


def _fmt_p(p: float) -> str:
    return f"{p:.4f}" if 1e-4 <= p <= 1 - 1e-4 else f"{p:.2e}"


def verdict_line(result: Dict[str, Any]) -> str:
    ok, reasons = verdict(result["configs"])
    dh = [c["dieharder_summary"] for c in result["configs"].values() if c.get("dieharder_summary")]
    ni = [c["nist_summary"] for c in result["configs"].values() if c.get("nist_summary")]
    parts = []
    if dh:
        n = sum(d["p_values"] for d in dh)
        flagged = sum(d["weak"] + d["failed"] for d in dh)
        parts.append(f"dieharder {sum(d['weak'] for d in dh)} WEAK and "
                     f"{sum(d['failed'] for d in dh)} FAILED of {n} p-values "
                     f"(expected {n * 2 * WEAK:.1f} WEAK; P(>= {flagged}) = "
                     f"{binom_sf(flagged, n, 2 * WEAK):.2g}), "
                     f"{sum(d['reruns_not_passed'] for d in dh)} of "
                     f"{sum(d['reruns'] for d in dh)} reruns flagged again")
    if ni:
        n = sum(s["p_values"] for s in ni)
        parts.append(f"NIST {sum(s['below_alpha'] for s in ni)} of {n} p-values below "
                     f"{NIST_ALPHA} (expected {n * NIST_ALPHA:.1f})")
    if not parts:
        return "**Verdict: NO DATA** (neither dieharder nor nistrng ran)"
    head = "PASS" if ok else "FAIL"
    tail = "" if ok else " — " + "; ".join(reasons)
    return f"**Verdict: {head}**: " + "; ".join(parts) + tail


def write_markdown(path: str, result: Dict[str, Any]) -> None:
    meta = result["meta"]
    configs = result["configs"]
    names = list(configs)
    lines = [f"# Statistical batteries: {meta['host']}, {meta['date']}", "", verdict_line(result), ""]
    lines += [
        "| | |", "| --- | --- |",
        f"| command | `{meta['command']}` |",
        f"| CPU | {meta['cpu']} ({meta['cores']} logical CPUs), {meta['platform']} |",
        f"| versions | seedstream {meta['seedstream']} ({meta['commit'] or 'no git'}), "
        f"dieharder {meta['dieharder'] or 'absent'}, nistrng {meta['nistrng'] or 'absent'}, "
        f"NumPy {meta['numpy']}, Python {meta['python']} |",
        f"| started | {meta['datetime']} |",
        f"| runtime | {meta['elapsed_s'] / 60:.1f} min ("
        + ", ".join(f"{n} {configs[n]['elapsed_s'] / 60:.1f}" for n in names) + ") |",
        f"| seed, k | seed {meta['seed']}, k = {meta['streams']} streams for children and seeds |",
        f"| dieharder | {len(meta['dieharder_tests'])} runs of `dieharder -g 200 -d N [-n ntuple]`"
        + (f" -p {meta['psamples']}" if meta["psamples"] else ", default tsamples and psamples")
        + "; each on its own segment (block i * 2^40) |",
        f"| NIST SP 800-22 | {meta['nist_sequences']} sequence(s) of {meta['nist_bits']} bits per "
        f"configuration; tests: {', '.join(meta['nist_tests']) or 'none'} |",
        "",
    ]
    for note in result["notes"]:
        lines.append(f"- {note}")
    if result["notes"]:
        lines.append("")

    lines += ["## How to read this", "",
              "Every p-value of a good generator is uniform on [0, 1]. dieharder calls a p-value "
              f"WEAK below {WEAK} or above {1 - WEAK} and FAILED below {FAIL:g} or above "
              f"{1 - FAIL:g} (two-sided), so a perfect generator shows WEAK on "
              f"{2 * WEAK:.0%} of its p-values: about {2 * WEAK:.2f} n of n, with standard "
              f"deviation sqrt(n * {2 * WEAK} * {1 - 2 * WEAK}). A few WEAK are expected; a "
              "count far above that, or a test that stays WEAK on fresh data, is a finding. "
              "Each WEAK or FAILED test is run once more on the next unused segment (the "
              "`r` rows). NIST SP 800-22 fails a p-value below 0.01: 1% expected (tests that nistrng "
              "gets wrong for every input are listed but not counted). "
              f"P(>= observed) is the binomial probability of at least that many flagged "
              f"p-values by chance; the verdict fails below {COUNT_LEVEL}.", ""]

    lines += ["## Summary", "",
              "| configuration | dieharder p-values | WEAK | FAILED | expected WEAK (sd) | P(>= observed) "
              "| reruns flagged again | p-value deciles | NIST p-values | below 0.01 | expected | P(>= observed) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for n in names:
        c = configs[n]
        d = c.get("dieharder_summary")
        s = c.get("nist_summary")
        dcell = (f"{d['p_values']} | {d['weak']} | {d['failed']} | {d['expected_weak_or_failed']:.2f} "
                 f"({d['sd_weak_or_failed']:.2f}) | {d['p_at_least_observed']:.3f} | "
                 f"{d['reruns_not_passed']} of {d['reruns']} | {' '.join(map(str, d['deciles']))}"
                 if d else "— | | | | | |")
        scell = (f"{s['p_values']} | {s['below_alpha']} | {s['expected_below_alpha']:.2f} | "
                 f"{s['p_at_least_observed']:.3f}" if s else "— | | |")
        lines.append(f"| {n}: {c['description']} | {dcell} | {scell} |")
    lines.append("")

    if any(configs[n].get("dieharder") for n in names):
        lines += ["## dieharder p-values", "",
                  "One row per test and ntuple (sts_serial and some others give two p-values: "
                  "both are listed). `W`: WEAK, `F`: FAILED, `r`: the same p-value of the test "
                  "run again on fresh data (the JSON file has the whole rerun).", "",
                  "| test | ntup | " + " | ".join(names) + " |",
                  "| --- | ---: |" + " ---: |" * len(names)]
        keys: List[Tuple[str, int]] = []
        cells: Dict[Tuple[str, int, str], List[str]] = {}
        for n in names:
            for r in configs[n].get("dieharder", []):
                if r.get("rerun") and not r.get("checks", True):
                    continue
                k = (r["test"], r["ntup"])
                if k not in keys:
                    keys.append(k)
                mark = {"PASSED": "", "WEAK": " W", "FAILED": " F"}[r["assessment"]]
                cells.setdefault((r["test"], r["ntup"], n), []).append(
                    ("r " if r.get("rerun") else "") + _fmt_p(r["p"]) + mark)
        for k in keys:
            lines.append(f"| {k[0]} | {k[1]} | " + " | ".join(
                ", ".join(cells.get((k[0], k[1], n), ["—"])) for n in names) + " |")
        lines.append("")

    if any(configs[n].get("nist") for n in names):
        lines += ["## NIST SP 800-22 p-values (nistrng)", "",
                  "One cell per sequence (` / ` between sequences), p-values separated by "
                  "spaces (serial and cumulative sums give 2). "
                  "`*`: below 0.01.", "",
                  "| test | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
        tests: List[str] = []
        for n in names:
            for r in configs[n].get("nist", []):
                if r["test"] not in tests:
                    tests.append(r["test"])
        for t in tests:
            row = []
            label = f"{t} (excluded: nistrng {NIST_BROKEN[t]})" if t in NIST_BROKEN else t
            for n in names:
                seqs = [r for r in configs[n].get("nist", []) if r["test"] == t]
                row.append(" / ".join(
                    (r.get("note") or " ".join(f"{p:.3f}" + ("*" if p < NIST_ALPHA else "")
                                               for p in r["p_values"])) for r in seqs) or "—")
            lines.append(f"| {label} | " + " | ".join(row) + " |")
        lines.append("")

    with open(path, "w") as f:
        f.write("\n".join(lines))


# --- the run -------------------------------------------------------------------------------


def parse_tests(spec: str) -> List[Tuple[int, Optional[int]]]:
    """'default', 'all', 'quick' or a comma-separated list of N or N:ntuple."""
    named = {"default": DEFAULT_TESTS, "all": ALL_TESTS, "quick": QUICK_TESTS}
    if spec in named:
        return list(named[spec])
    out: List[Tuple[int, Optional[int]]] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        num, _, ntup = item.partition(":")
        try:
            out.append((int(num), int(ntup) if ntup else None))
        except ValueError:
            raise SystemExit(f"--tests: expected N or N:ntuple items, got {item!r}") from None
    return out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            info = dict(line.split(":", 1) for line in f if ":" in line)
        info = {k.strip(): v.strip() for k, v in info.items()}
        model = info.get("model name", "unknown")
        if "cpu family" in info:
            model += f" (family {info['cpu family']}, model {info.get('model', '?')})"
        return model
    except OSError:
        return platform.processor() or platform.machine() or "unknown"


def git_commit() -> Optional[str]:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=os.path.dirname(os.path.abspath(__file__)), timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def package_version(name: str) -> Optional[str]:
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def summarize_all(configs: Dict[str, Dict[str, Any]]) -> None:
    for entry in configs.values():
        if entry.get("dieharder"):
            mark_rerun_checks(entry["dieharder"])
            entry["dieharder_summary"] = summarize_dieharder(entry["dieharder"])
        if entry.get("nist"):
            entry["nist_summary"] = summarize_nist(entry["nist"])


def rewrite_report(argv: Sequence[str]) -> int:
    """Writes the Markdown report again from a result's JSON file."""
    if len(argv) != 1 or not argv[0].endswith(".json"):
        raise SystemExit("usage: stat_batteries.py report RESULT.json")
    with open(argv[0]) as f:
        result = json.load(f)
    summarize_all(result["configs"])
    ok, reasons = verdict(result["configs"])
    result["verdict"] = {"pass": ok, "reasons": reasons, "line": verdict_line(result)}
    with open(argv[0], "w") as f:
        json.dump(result, f, indent=1)
    write_markdown(argv[0][: -len(".json")] + ".md", result)
    print(verdict_line(result))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "produce":
        return produce(argv[1:])
    if argv and argv[0] == "report":
        return rewrite_report(argv[1:])
    p = argparse.ArgumentParser(description="dieharder and NIST SP 800-22 on seedstream's streams.")
    p.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                   help=f"comma-separated, from {', '.join(CONFIGS)} (default: all but numpy)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--streams", type=int, default=16, help="k for children and seeds (default 16)")
    p.add_argument("--tests", default="default",
                   help="dieharder tests: default, all (dieharder -a's list), quick, or N[:ntuple],...")
    p.add_argument("--psamples", type=int, default=None,
                   help="dieharder -p for every test (default: each test's own)")
    p.add_argument("--nist-sequences", type=int, default=2)
    p.add_argument("--nist-bits", type=int, default=1 << 20,
                   help="bits per NIST sequence (default 2**20; overlapping templates need 1028016)")
    p.add_argument("--nist-tests", default="default",
                   help="default (all but linear_complexity and the ones nistrng gets wrong), all, "
                        "or nistrng names, comma-separated")
    p.add_argument("--no-dieharder", action="store_true")
    p.add_argument("--no-nist", action="store_true")
    p.add_argument("--no-rerun", action="store_true", help="do not rerun WEAK/FAILED tests")
    p.add_argument("--quick", action="store_true",
                   help="--tests quick, one short NIST sequence with the fast tests")
    p.add_argument("--dieharder", default="dieharder", help="the dieharder binary")
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    p.add_argument("--name", default=None, help="file stem (default batteries-<host>-<date>)")
    args = p.parse_args(argv)

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        if c not in CONFIGS:
            raise SystemExit(f"--configs: expected names from {', '.join(CONFIGS)}, got {c!r}")
    if args.quick:
        args.tests = "quick" if args.tests == "default" else args.tests
        args.nist_sequences = 1
        args.nist_tests = "quick" if args.nist_tests == "default" else args.nist_tests
    tests = parse_tests(args.tests)
    nist_named = {"default": NIST_DEFAULT, "all": NIST_TESTS, "quick": NIST_QUICK}
    nist_tests = nist_named.get(args.nist_tests) or [t.strip() for t in args.nist_tests.split(",")]
    for t in nist_tests:
        if t not in NIST_TESTS:
            raise SystemExit(f"--nist-tests: unknown test {t!r}; expected from {', '.join(NIST_TESTS)}")

    notes: List[str] = []
    binary = shutil.which(args.dieharder)
    dh_version = dieharder_version(binary) if binary else None
    if args.no_dieharder:
        tests = []
    elif binary is None:
        notes.append(f"dieharder not found ({args.dieharder}): install it (Debian: apt-get install "
                     "dieharder); dieharder was skipped")
        tests = []
    have_nist = package_version("nistrng") is not None
    if args.no_nist:
        nist_tests = []
    elif not have_nist:
        notes.append("nistrng not installed (pip install nistrng): NIST SP 800-22 was skipped")
        nist_tests = []
    nist_seqs = args.nist_sequences if nist_tests else 0

    now = _dt.datetime.now(_dt.timezone.utc)
    started = time.perf_counter()
    results: Dict[str, Dict[str, Any]] = {}
    try:
        for ci, config in enumerate(configs):
            c_start = time.perf_counter()
            entry: Dict[str, Any] = {"description": CONFIGS[config], "dieharder": [], "nist": []}
            results[config] = entry
            segment = 0
            for test, ntuple in tests:
                t0 = time.perf_counter()
                src = WordSource(config, args.seed, args.streams, segment)
                try:
                    rows, _ = run_dieharder(binary or args.dieharder, src, test, ntuple, args.psamples)
                except RuntimeError as e:
                    notes.append(f"{config}: dieharder -d {test} gave no result: {str(e)[:300]}")
                    segment += 1
                    continue
                for r in rows:
                    r.update(segment=segment, d=test, seconds=round(time.perf_counter() - t0, 2))
                entry["dieharder"].extend(rows)
                segment += 1
                log(f"{config}: dieharder -d {test}" + (f" -n {ntuple}" if ntuple is not None else "")
                    + ": " + ", ".join(f"{r['p']:.4f} {r['assessment']}" for r in rows))
                if not args.no_rerun and any(r["assessment"] != "PASSED" for r in rows):
                    src = WordSource(config, args.seed, args.streams, segment)
                    again, _ = run_dieharder(binary or args.dieharder, src, test, ntuple, args.psamples)
                    for r in again:
                        r.update(segment=segment, d=test, rerun=True)
                    entry["dieharder"].extend(again)
                    segment += 1
                    log(f"{config}: rerun -d {test}: "
                        + ", ".join(f"{r['p']:.4f} {r['assessment']}" for r in again))
            for s in range(nist_seqs):
                # NIST sequences use segments from 2**20 on, apart from dieharder's.
                seg = (1 << 20) + s
                src = WordSource(config, args.seed, args.streams, seg)
                bits = words_to_bits(src.take((args.nist_bits + 31) // 32))[: args.nist_bits]
                rows = run_nist(bits, nist_tests, seed=args.seed * 1000 + s)
                for r in rows:
                    r.update(sequence=s, segment=seg)
                entry["nist"].extend(rows)
                log(f"{config}: NIST sequence {s}: "
                    + ", ".join(f"{r['test']} {'ok' if r['passed'] else r['passed']}" for r in rows))
            entry["elapsed_s"] = time.perf_counter() - c_start
            summarize_all({config: entry})
            log(f"{config} done in {entry['elapsed_s'] / 60:.1f} min ({ci + 1} of {len(configs)})")
    except KeyboardInterrupt:
        notes.append(f"interrupted after {len(results)} configuration(s); the last one is partial")
        for entry in results.values():
            entry.setdefault("elapsed_s", time.perf_counter() - started)
        summarize_all(results)

    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname().split(".")[0]) or "host"
    meta = {
        "host": host,
        "date": now.date().isoformat(),
        "datetime": now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": " ".join(["python benches/stat_batteries.py"] + [shlex.quote(a) for a in argv]),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "seedstream": ss.__version__,
        "commit": git_commit(),
        "dieharder": dh_version,
        "nistrng": package_version("nistrng"),
        "seed": args.seed,
        "streams": args.streams,
        "psamples": args.psamples,
        "dieharder_tests": [[t, n] for t, n in tests],
        "nist_sequences": nist_seqs,
        "nist_bits": args.nist_bits,
        "nist_tests": nist_tests,
        "weak_threshold": WEAK,
        "fail_threshold": FAIL,
        "nist_alpha": NIST_ALPHA,
        "elapsed_s": time.perf_counter() - started,
    }
    result: Dict[str, Any] = {"meta": meta, "notes": notes, "configs": results}
    ok, reasons = verdict(results)
    result["verdict"] = {"pass": ok, "reasons": reasons, "line": verdict_line(result)}

    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, args.name or f"batteries-{host}-{meta['date']}")
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=1)
    write_markdown(stem + ".md", result)
    print(result["verdict"]["line"])
    print(f"wrote {stem}.md and {stem}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
