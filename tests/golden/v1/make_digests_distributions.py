"""Writes digests_distributions.json: SHA-256 of the first 65,536 outputs of each golden
case of the continuous distributions (normal-v1, uniform-v1, truncated-normal-v1) in
every output format. float16 and bfloat16 are hashed as their little-endian uint16 bits.

Run once when a mapping version is added; never rerun to make a test pass. These digests
are frozen: a change of output is a new version in a new directory (docs/spec.md#versions).
Usage: python tests/golden/v1/make_digests_distributions.py  (from the repository root)
"""

import hashlib
import importlib.util
import json
import pathlib
import sys

import ml_dtypes
import numpy as np

import seedstream as ss

HERE = pathlib.Path(__file__).resolve().parent
N = 65_536
DTYPES = {
    "float64": np.float64,
    "float32": np.float32,
    "float16": np.float16,
    "bfloat16": ml_dtypes.bfloat16,
}
# name -> (method, kwargs); each case draws N outputs from a fresh stream at position 0.
CASES = {
    "standard_normal": ("standard_normal", {}),
    "normal(-1,3)": ("normal", {"loc": -1.0, "scale": 3.0}),
    "uniform(-2,5)": ("uniform", {"low": -2.0, "high": 5.0}),
    "truncated_normal(0,1,-2,2)": ("truncated_normal", {}),
    "truncated_normal(0,0.02,-2,2)": ("truncated_normal", {"loc": 0.0, "scale": 0.02}),
    "truncated_normal(1,2,-0.5,9)": ("truncated_normal", {"loc": 1.0, "scale": 2.0, "a": -0.5, "b": 9.0}),
    "truncated_normal(0,1,8,9)": ("truncated_normal", {"a": 8.0, "b": 9.0}),
    "truncated_normal(0,1,-12,-6)": ("truncated_normal", {"a": -12.0, "b": -6.0}),
    "truncated_normal(0,1,30.5,31)": ("truncated_normal", {"a": 30.5, "b": 31.0}),
}


def _streams():
    """The same seeds and children as digests.json (make_digests.streams)."""
    spec = importlib.util.spec_from_file_location("make_digests_v1", HERE / "make_digests.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.streams()


def digest(arr: np.ndarray) -> str:
    if arr.dtype.itemsize == 2:
        arr = arr.view(np.uint16)
    le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(np.ascontiguousarray(le).tobytes()).hexdigest()


def draw(g: ss.Generator, method: str, kwargs: dict, dtype) -> np.ndarray:
    return getattr(g, method)(size=N, dtype=dtype, **kwargs)


def cases():
    """(key, make, method, kwargs, dtype) for every golden case."""
    for algorithm, label, make in _streams():
        for case, (method, kwargs) in CASES.items():
            for dname, dtype in DTYPES.items():
                yield f"{algorithm}|{label}|{case}|{dname}", make, method, kwargs, dtype


def compute() -> dict:
    return {key: digest(draw(make(), method, kwargs, dtype)) for key, make, method, kwargs, dtype in cases()}


if __name__ == "__main__":
    path = HERE / "digests_distributions.json"
    if path.exists() and "--force" not in sys.argv:
        sys.exit(f"{path} exists and is frozen; a new output version goes in a new directory")
    path.write_text(json.dumps({"n": N, "digests": compute()}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")
