"""Writes digests.json: SHA-256 of the first 65,536 outputs of each golden case.

Run once when a mapping version is added; never rerun to make a test pass. These digests
are frozen: a change of output is a new version in a new directory (docs/spec.md#versions).
Usage: python tests/golden/v1/make_digests.py  (from the repository root)
"""

import hashlib
import json
import pathlib
import sys

import numpy as np

import seedstream as ss

N = 65_536
SEEDS = {"0": 0, "42": 42, "2**64-1": 2**64 - 1, "'hello'": "hello"}
CHILDREN = {
    "42/'model'/'encoder.0.weight'": (42, ("model", "encoder.0.weight")),
    "0/3": (0, (3,)),
    "'hello'/b'bytes'/7": ("hello", (b"bytes", 7)),
}
# name -> (method, kwargs); each case draws N outputs from a fresh stream at position 0.
CASES = {
    "bits-uint32": ("bits", {"dtype": "uint32"}),
    "bits-uint64": ("bits", {"dtype": "uint64"}),
    "random-float32": ("random", {"dtype": "float32"}),
    "random-float64": ("random", {"dtype": "float64"}),
    "integers-int64-0-1000": ("integers", {"low": 0, "high": 1000, "dtype": "int64"}),
    "integers-int8-full-endpoint": ("integers", {"low": -128, "high": 127, "dtype": "int8", "endpoint": True}),
    "integers-int32-pm1e9": ("integers", {"low": -(10**9), "high": 10**9, "dtype": "int32"}),
    "integers-uint64-full-endpoint": ("integers", {"low": 0, "high": 2**64 - 1, "dtype": "uint64", "endpoint": True}),
    "integers-int64-2**63+1": ("integers", {"low": -(2**62), "high": 2**62 + 1, "dtype": "int64"}),
    "bernoulli-0.3": ("bernoulli", {"p": 0.3}),
    "permutation": ("permutation", {}),
}


def digest(arr: np.ndarray) -> str:
    le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(np.ascontiguousarray(le).tobytes()).hexdigest()


def draw(g: ss.Generator, method: str, kwargs: dict) -> np.ndarray:
    if method == "permutation":
        return g.permutation(N)
    return getattr(g, method)(size=N, **kwargs)


def streams():
    for algorithm in ("philox", "pcg64"):
        for label, seed in SEEDS.items():
            yield algorithm, label, lambda a=algorithm, s=seed: ss.Generator(s, algorithm=a)
        for label, (seed, names) in CHILDREN.items():
            yield algorithm, label, lambda a=algorithm, s=seed, n=names: ss.Generator(s, algorithm=a).child(*n)


def compute() -> dict:
    out = {}
    for algorithm, label, make in streams():
        for case, (method, kwargs) in CASES.items():
            out[f"{algorithm}|{label}|{case}"] = digest(draw(make(), method, kwargs))
    return out


if __name__ == "__main__":
    path = pathlib.Path(__file__).with_name("digests.json")
    if path.exists() and "--force" not in sys.argv:
        sys.exit(f"{path} exists and is frozen; a new output version goes in a new directory")
    path.write_text(json.dumps({"n": N, "digests": compute()}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")
