"""Shared fixtures: the public known-answer data in ../shared/reference (skipped when absent)."""

import os
import pathlib

import pytest

import seedstream as ss

_DEFAULT_REFERENCE = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "reference"
REFERENCE_DIR = pathlib.Path(os.environ.get("SEEDSTREAM_REFERENCE", _DEFAULT_REFERENCE))


@pytest.fixture(scope="session")
def reference_dir() -> pathlib.Path:
    """The reference-data directory; skips the test when it is not there."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE_DIR}")
    return REFERENCE_DIR


@pytest.fixture
def threads():
    """Restores the thread count, chunk size and SIMD level a test changes."""
    from seedstream import _core

    saved = (ss.get_num_threads(), _core._get_chunk_blocks(), ss.simd_level())
    yield
    ss.set_num_threads(saved[0])
    _core._set_chunk_blocks(saved[1])
    _core._set_simd_level(saved[2])
