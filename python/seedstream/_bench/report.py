"""From records to rows, and from rows to the tables of the console and the Markdown file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from seedstream._bench.harness import MEMORY_MIN_SIZE, NUMPY_BITGENS
from seedstream._bench.units import fmt_bytes, fmt_ns, fmt_ratio, fmt_size

FRESH_LIMIT = 1.1  # zero copy: a fresh output's peak should be about its own size
IN_PLACE_LIMIT = 0.1  # an out=/in-place call should allocate next to nothing
# Resident memory grows in 2 MiB steps where huge pages back an allocation (NumPy asks for
# them), so each end of an allocation can add up to one huge page that is not its own.
PAGE_SLACK = 4 << 20


@dataclass
class Row:
    """One (case, output mode): medians by column key."""

    rec: Dict[str, Any]
    output: str
    ns: Dict[str, float]
    peak: Dict[str, Optional[int]]
    fill_ns: Optional[float]
    fill_cuda_ns: Optional[float]
    # ns/element of the memory fill by thread count; 1 thread is `fill_ns`.
    fill_ns_threads: Dict[int, float] = field(default_factory=dict)

    @property
    def expected(self) -> int:
        return self.rec["expected_bytes"].get(self.output, 0)

    def ratio(self, other: str, mine: str) -> Optional[float]:
        if other in self.ns and mine in self.ns:
            return self.ns[other] / self.ns[mine]
        return None

    def flagged(self, key: str) -> bool:
        peak = self.peak.get(key)
        if peak is None:
            return False
        if self.expected > 0:
            return peak > FRESH_LIMIT * self.expected + PAGE_SLACK
        return peak > IN_PLACE_LIMIT * self.rec["out_bytes"] + PAGE_SLACK


def rows_of(records: List[Dict[str, Any]]) -> List[Row]:
    rows = []
    for rec in records:
        if rec.get("skipped"):
            continue
        outputs: List[str] = []
        for m in rec["measurements"]:
            if m["output"] not in outputs:
                outputs.append(m["output"])
        for output in outputs:
            ms = [m for m in rec["measurements"] if m["output"] == output and m["ns_per_element"] is not None]
            el = rec["elements"]
            rows.append(Row(
                rec, output,
                {m["key"]: m["ns_per_element"] for m in ms},
                {m["key"]: m["peak_bytes"] for m in ms},
                rec["out_bytes"] / rec["fill_GBps"] / el if rec["fill_GBps"] else None,
                rec["out_bytes"] / rec["fill_cuda_GBps"] / el if rec["fill_cuda_GBps"] else None,
                {int(t): rec["out_bytes"] / g / el for t, g in rec.get("fill_GBps_threads", {}).items() if g},
            ))
    return rows


def case_name(r: Row) -> str:
    return r.rec["label"] + (f" {r.rec['dtype']}" if r.rec["dtype"] else "")


def main_table(rows: List[Row], meta: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
    """ns/element of every contender, seedstream's ratios at 1 thread, GB/s and % of fill."""
    t1, tn = "seedstream 1t", f"seedstream {meta['max_ss_threads']}t"
    ss_keys = [t1] + ([tn] if tn != t1 else [])
    torch_keys = [f"torch {t}t" for t in meta["torch_threads"]]

    def numpy_na(r: Row) -> bool:
        return not any(k.startswith("numpy-") for k in r.ns)

    def fill_pct(key: str) -> Callable[[Row], str]:
        # Against the fastest fill with at most as many threads (1 thread in result files
        # that predate the multi-thread fill): at small sizes starting threads costs more
        # than filling, so the multi-thread fill alone would be no reference there.
        threads = int(key.split()[1].rstrip("t"))

        def cell(r: Row) -> str:
            fills = [ns for t, ns in r.fill_ns_threads.items() if t <= threads and ns]
            if not fills and r.fill_ns:
                fills = [r.fill_ns]
            return f"{100 * min(fills) / r.ns[key]:.0f}%" if fills and key in r.ns else "—"
        return cell

    def gbps(r: Row) -> str:
        return f"{r.rec['out_bytes'] / (r.ns[t1] * r.rec['elements']):.2f}" if t1 in r.ns else "—"

    cols: List[Tuple[str, Callable[[Row], str]]] = [
        ("workload", case_name), ("size", lambda r: fmt_size(r.rec["elements"])), ("output", lambda r: r.output)]
    def ns(key: str, numpy: bool = False) -> Callable[[Row], str]:
        return lambda r: "n/a" if numpy and numpy_na(r) else fmt_ns(r.ns.get(key))

    cols += [(f"{k} ns/el", ns(k)) for k in ss_keys]
    cols += [(f"NumPy {b} ns/el", ns(f"numpy-{b}", numpy=True)) for b in NUMPY_BITGENS]
    cols += [(f"{k} ns/el", ns(k)) for k in torch_keys]
    cols.append(("vs NumPy PCG64 (1t)", lambda r: "n/a" if numpy_na(r) else fmt_ratio(r.ratio("numpy-PCG64", t1))))
    if torch_keys:
        cols.append(("vs torch (1t)", lambda r: fmt_ratio(r.ratio("torch 1t", t1))))
    cols.append(("GB/s (1t)", gbps))
    cols += [(f"% of fill ({k.split()[1]})", fill_pct(k)) for k in ss_keys]
    return [h for h, _ in cols], [[f(r) for _, f in cols] for r in rows]


def scaling_table(rows: List[Row], meta: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
    """ns/element at each thread count, and the speed-up of the most threads over one."""
    groups = [("seedstream", meta["ss_threads"])]
    if meta["torch_threads"]:
        groups.append(("torch", meta["torch_threads"]))
    header = ["workload", "size", "output"]
    for impl, ts in groups:
        header += [f"{impl} {t}t" for t in ts] + [f"{impl} {ts[-1]}t / 1t"]
    body = []
    for r in rows:
        if r.rec["size"] < MEMORY_MIN_SIZE:
            continue
        cells = [case_name(r), fmt_size(r.rec["elements"]), r.output]
        for impl, ts in groups:
            cells += [fmt_ns(r.ns.get(f"{impl} {t}t")) for t in ts]
            cells.append(_speedup(r.ns.get(f"{impl} 1t"), r.ns.get(f"{impl} {ts[-1]}t")))
        body.append(cells)
    return header, body


def _speedup(one: Optional[float], many: Optional[float]) -> str:
    return f"{one / many:.2f}x" if one is not None and many is not None else "—"


MEMORY_KEYS = ["seedstream 1t", "numpy-PCG64", "torch 1t", "seedstream-cuda", "torch-cuda"]


def memory_table(rows: List[Row]) -> Tuple[List[str], List[List[str]]]:
    keys = [k for k in MEMORY_KEYS if any(k in r.peak and r.peak[k] is not None for r in rows)]
    header = ["workload", "size", "output", "output bytes", "zero-copy allocation"] + [f"{k} peak" for k in keys]
    header.append("flagged")
    body = []
    for r in rows:
        if r.rec["size"] < MEMORY_MIN_SIZE:
            continue
        ref = r.expected or r.rec["out_bytes"]
        cells = [case_name(r), fmt_size(r.rec["elements"]), r.output, fmt_bytes(r.rec["out_bytes"]),
                 fmt_bytes(r.expected) if r.expected else "0"]
        for k in keys:
            p = r.peak.get(k)
            cells.append("—" if p is None else f"{fmt_bytes(p)} ({p / ref:.2f}x){' !' if r.flagged(k) else ''}")
        cells.append(", ".join(k for k in r.peak if r.flagged(k)) or "—")
        body.append(cells)
    return header, body


def cuda_table(rows: List[Row]) -> Tuple[List[str], List[List[str]]]:
    header = ["workload", "size", "output", "torch-cuda ns/el", "seedstream-cuda ns/el", "vs torch-cuda",
              "% of fill_"]
    body = []
    for r in rows:
        if "torch-cuda" not in r.ns and "seedstream-cuda" not in r.ns:
            continue
        sc = r.ns.get("seedstream-cuda")
        body.append([case_name(r), fmt_size(r.rec["elements"]), r.output, fmt_ns(r.ns.get("torch-cuda")),
                     fmt_ns(sc), fmt_ratio(r.ratio("torch-cuda", "seedstream-cuda")),
                     f"{100 * r.fill_cuda_ns / sc:.0f}%" if sc and r.fill_cuda_ns else "—"])
    return header, body


def fill_table(records: List[Dict[str, Any]]) -> Tuple[List[str], List[List[str]]]:
    seen: Dict[int, Dict[int, float]] = {}
    for rec in records:
        if rec.get("fill_GBps") and rec["out_bytes"] not in seen:
            by_threads = {int(t): g for t, g in rec.get("fill_GBps_threads", {}).items()}
            seen[rec["out_bytes"]] = by_threads or {1: rec["fill_GBps"]}
    threads = sorted({t for g in seen.values() for t in g})
    header = ["bytes"] + [f"fill GB/s ({t} thread{'s' if t > 1 else ''})" for t in threads]
    return header, [[fmt_bytes(b)] + [f"{g[t]:.1f}" if t in g else "—" for t in threads]
                    for b, g in sorted(seen.items())]


def markdown_table(header: List[str], body: List[List[str]], empty: str = "(no rows)") -> str:
    if not body:
        return empty + "\n"
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def method_notes(meta: Dict[str, Any]) -> List[str]:
    return [
        f"Time: median over repeats of the per-call time (time.perf_counter, garbage collector off); "
        f"each contender gets one warm-up call and a loop of calls lasting about {meta['target_ms']:g} ms "
        "per repeat (one call where a call is longer), and the repeats go round-robin over all "
        "contenders of a case.",
        f"Threads: seedstream at {', '.join(map(str, meta['ss_threads']))} threads "
        f"(seedstream.set_num_threads); torch CPU at {', '.join(map(str, meta['torch_threads']))} "
        "threads (torch.set_num_threads); a contender at t threads sets both pools to t. NumPy's "
        "Generator is single-threaded; the memory fill runs at 1 and at the most seedstream "
        "threads.",
        "Output: `out=` writes into one preallocated, already touched array shared by every "
        "contender (torch sees it through torch.from_numpy); `fresh` allocates the output in each "
        "call with the library's own allocator (NumPy's asks for huge pages; first touch of new "
        "pages is part of the cost); `in-place` re-initialises existing parameters; `iterate` "
        "consumes a sampler's indices. NumPy has out= only for random and standard_normal.",
        "NumPy bernoulli is `rng.random(n) < p` (a float64 temporary); torch bernoulli is "
        "`Tensor.bernoulli_(p)` on a bool tensor; torch's sampler is "
        "torch.utils.data.RandomSampler (it iterates torch.randperm(n).tolist()); torch's "
        "init_module is every module's reset_parameters() (MultiheadAttention's "
        "_reset_parameters()); dropout is forward and backward with a gradient of ones, "
        "seedstream.torch.functional.dropout vs torch.nn.functional.dropout.",
        "Ratios (vs NumPy PCG64, vs torch): the other's time divided by seedstream's at 1 thread; "
        "above 1 seedstream is faster, below 1 it is slower and says so.",
        "% of fill: bytes per second of the output relative to `ndarray.fill` of a "
        "preallocated byte buffer of the same size in the same round-robin: the fastest fill "
        "with at most the same number of threads (at t threads, t Python threads each fill one "
        "slice; ndarray.fill releases the GIL). Below the last-level cache size it is a cache "
        "bandwidth, and at 1e3 mostly call overhead.",
        f"Peak memory: resident-set growth sampled from /proc/self/statm in a background thread "
        f"during one call (after gc and malloc_trim), its result kept alive; CUDA from "
        f"torch.cuda.max_memory_allocated. Reported from {fmt_size(MEMORY_MIN_SIZE)} elements: "
        "below that, allocator caches and page rounding swamp it. A fresh output should need "
        f"about its own bytes: flagged (!) above {FRESH_LIMIT:g}x; an out=/in-place/iterate call "
        f"is flagged above {IN_PLACE_LIMIT:g}x the output bytes. Both limits allow "
        f"{PAGE_SLACK >> 20} MiB for huge-page rounding at the ends of an allocation, so flags are "
        "reliable from 1e7 elements. Dropout's zero-copy allocation is its output plus the "
        "input gradient.",
    ]


def write_markdown(path: str, result: Dict[str, Any], rows: List[Row]) -> None:
    meta = result["meta"]
    lines = [f"# seedstream benchmark: {meta['host']}, {meta['date']}", ""]
    lines += [f"- {k}: {v}" for k, v in meta_lines(meta)]
    lines += ["", "## Method", ""] + [f"- {n}" for n in method_notes(meta)]
    sections = [
        ("Throughput (ns per element, lower is better)", main_table(rows, meta)),
        ("Thread scaling (ns per element)", scaling_table(rows, meta)),
        ("Peak memory", memory_table(rows)),
        ("Memory-fill bandwidth of this machine", fill_table(result["cases"])),
    ]
    if meta["cuda_device"]:
        sections.append(("CUDA", cuda_table(rows)))
    large_only = f"(none: measured from {fmt_size(MEMORY_MIN_SIZE)} elements)"
    for title, (header, body) in sections:
        lines += ["", f"## {title}", "", markdown_table(header, body, large_only).rstrip("\n")]
    if result["notes"]:
        lines += ["", "## Skipped and not measured", ""] + [f"- {n}" for n in result["notes"]]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def meta_lines(meta: Dict[str, Any]) -> List[Tuple[str, str]]:
    versions = f"Python {meta['python']}, NumPy {meta['numpy']}, seedstream {meta['seedstream']} " \
               f"(SIMD {meta['simd_level']})"
    if meta["torch"]:
        versions += f", torch {meta['torch']}"
    mem = meta["mem_available_bytes"]
    return [
        ("command", f"`{meta['command']}`"),
        ("date", meta["datetime"]),
        ("CPU", f"{meta['cpu']} ({meta['cores']} logical CPUs), {meta['platform']}"),
        ("GPU", meta["cuda_device"] or "none"),
        ("versions", versions),
        ("memory available at start", fmt_bytes(mem) if mem else "unknown"),
        ("run time", f"{meta['elapsed_s']:.0f} s"),
    ]


def print_table(title: str, header: List[str], body: List[List[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(f"\n## {title}\n\n" + markdown_table(header, body), flush=True)
        return
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i < 3 else "right", overflow="fold")
    for row in body:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(160, 14 * len(header)))  # a file or pipe: do not wrap at 80
    console.print(table)
