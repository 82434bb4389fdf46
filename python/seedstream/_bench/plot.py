"""The PNG: throughput against size, one panel per workload and output mode (matplotlib,
when installed)."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

from seedstream._bench.report import Row, case_name

PLOT_STYLE = {
    "numpy-PCG64": ("tab:orange", "--"),
    "numpy-Philox": ("tab:brown", "--"),
    "numpy-MT19937": ("tab:pink", "--"),
    "torch-cuda": ("tab:purple", ":"),
    "seedstream-cuda": ("tab:cyan", ":"),
}


def _plot_style(key: str, meta: Dict[str, Any]) -> Tuple[str, str]:
    if key in PLOT_STYLE:
        return PLOT_STYLE[key]
    if key.startswith("seedstream"):
        return ("tab:blue" if key == "seedstream 1t" else "navy"), "-"
    return ("tab:red" if key == "torch 1t" else "darkred"), "-."


def write_plot(path: str, result: Dict[str, Any], rows: List[Row]) -> Optional[str]:
    """Throughput against size, one panel per workload and output mode. Returns why no plot
    was written, or None."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return "matplotlib is not installed: no plot (pip install 'seedstream[bench]')"
    meta = result["meta"]
    panels: Dict[Tuple[str, str], List[Row]] = {}
    for r in rows:
        panels.setdefault((case_name(r), r.output), []).append(r)
    if not panels:
        return "nothing was measured: no plot"
    ss_keys = {"seedstream 1t", f"seedstream {meta['max_ss_threads']}t"}
    cols = min(4, len(panels))
    nrows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.3 * nrows + 0.9))
    FigureCanvasAgg(fig)
    handles: Dict[str, Any] = {}
    for i, ((name, output), prs) in enumerate(panels.items()):
        ax = fig.add_subplot(nrows, cols, i + 1)
        prs = sorted(prs, key=lambda r: r.rec["size"])
        keys: List[str] = []
        for r in prs:
            keys += [k for k in r.ns if k not in keys]
        for key in keys:
            if key.startswith("seedstream ") and key not in ss_keys:
                continue  # the intermediate thread counts are in the scaling table
            pts = [(r.rec["elements"], 1e3 / r.ns[key]) for r in prs if key in r.ns]
            color, style = _plot_style(key, meta)
            (line,) = ax.plot(*zip(*pts), style, color=color, marker="o", ms=3, label=key)
            handles.setdefault(key, line)
        fill = [(r.rec["elements"], 1e3 / r.fill_ns) for r in prs if r.fill_ns]
        if fill:
            (line,) = ax.plot(*zip(*fill), ":", color="grey", label="memory fill (1t)")
            handles.setdefault("memory fill (1t)", line)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{name}, {output}", fontsize=9)
        ax.set_xlabel("elements" if "init_module" not in name else "parameters", fontsize=8)
        ax.set_ylabel("M elements / s", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="major", alpha=0.3)
    fig.legend(list(handles.values()), list(handles.keys()), loc="lower center",
               ncol=min(6, len(handles)), fontsize=8, frameon=False)
    fig.suptitle(f"seedstream {meta['seedstream']} vs NumPy {meta['numpy']}"
                 + (f" and torch {meta['torch']}" if meta["torch"] else "")
                 + f" — {meta['cpu']}, {meta['cores']} CPUs, {meta['date']} (higher is better)", fontsize=10)
    fig.tight_layout(rect=(0, 0.07 if nrows > 1 else 0.12, 1, 0.96))
    fig.savefig(path, dpi=110)
    return None
