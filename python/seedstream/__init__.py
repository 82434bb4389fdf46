"""seedstream: deterministic, reproducible random numbers for machine-learning training.

The same seed and the same names give the same bits on any machine, any thread count and
in every release. See docs/spec.md for the exact definition of every output.
"""

from seedstream._core import (
    __version__,
    get_num_threads,
    philox4x32_10,
    philox4x64_10,
    set_num_threads,
    simd_level,
)
from seedstream._bitgen import PCG64, PCG64DXSM, Philox, StreamBitGenerator
from seedstream._generator import Generator
from seedstream._ranges import fill_box, fill_range
from seedstream._seed_sequence import SeedSequence
from seedstream._seeding import seed_everything

__all__ = [
    "Generator",
    "PCG64",
    "PCG64DXSM",
    "Philox",
    "SeedSequence",
    "StreamBitGenerator",
    "__version__",
    "fill_box",
    "fill_range",
    "get_num_threads",
    "philox4x32_10",
    "philox4x64_10",
    "seed_everything",
    "set_num_threads",
    "simd_level",
]
