"""NumPy's own random test suite, run against seedstream's bit generators.

The classes of ``numpy/random/tests/test_direct.py`` and ``test_smoke.py`` in the installed
NumPy wheel are imported (not copied) and subclassed with seedstream's ``PCG64``,
``PCG64DXSM`` and ``Philox`` in place of NumPy's; every inherited test then runs as NumPy
runs it. The tests that cannot apply are listed in ``NOT_APPLICABLE`` with the reason. The
suite's other modules test classes seedstream does not replace (MT19937, RandomState,
NumPy's SeedSequence) or build C extensions (test_extending).
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
import pytest

import seedstream as ss

numpy_direct: Any = pytest.importorskip("numpy.random.tests.test_direct")
numpy_smoke: Any = pytest.importorskip("numpy.random.tests.test_smoke")

# Tests of NumPy's suite that cannot apply to seedstream's classes, with the reason.
NOT_APPLICABLE: Dict[str, str] = {
    # `_benchmark` is a private NumPy timing helper reading NumPy's own C struct; seedstream's
    # throughput is measured by benches/ instead.
    "test_benchmark": "NumPy's private _benchmark",
    # NumPy's __getstate__ must return NumPy's own SeedSequence class; seedstream's bit
    # generators keep the seed sequence they were given (seedstream.SeedSequence, an
    # ISpawnableSeedSequence, by default), so the isinstance check names another class.
    "test_getstate": "checks for numpy.random.SeedSequence by class",
}


def _mark(cls: type) -> type:
    for name, why in NOT_APPLICABLE.items():
        if hasattr(cls, name):
            setattr(cls, name, pytest.mark.skip(reason=f"not applicable: {why}")(getattr(cls, name)))
    return cls


def _direct(base: Any, ours: type) -> type:
    """``base`` (a test_direct class) with ``ours`` as its bit generator."""

    @classmethod  # type: ignore[misc]
    def setup_class(cls: Any) -> None:
        base.setup_class.__func__(cls)
        cls.bit_generator = ours

    return _mark(type(f"Test{ours.__name__}Direct", (base,), {"setup_class": setup_class}))


def _smoke(base: Any, ours: type) -> type:
    """``base`` (a test_smoke class) with ``ours`` as its bit generator."""

    @classmethod  # type: ignore[misc]
    def _create_rng(cls: Any) -> Any:
        data = base._create_rng.__func__(cls)
        data.bit_generator = ours
        data.rg = np.random.Generator(ours(*data.seed))
        return data

    return _mark(type(f"Test{ours.__name__}Smoke", (base,), {"_create_rng": _create_rng}))


TestPCG64Direct = _direct(numpy_direct.TestPCG64, ss.PCG64)
TestPCG64DXSMDirect = _direct(numpy_direct.TestPCG64DXSM, ss.PCG64DXSM)
TestPhiloxDirect = _direct(numpy_direct.TestPhilox, ss.Philox)
TestPCG64Smoke = _smoke(numpy_smoke.TestPCG64, ss.PCG64)
TestPCG64DXSMSmoke = _smoke(numpy_smoke.TestPCG64DXSM, ss.PCG64DXSM)
TestPhiloxSmoke = _smoke(numpy_smoke.TestPhilox, ss.Philox)


def test_the_suite_runs_seedstreams_classes():
    """The substitution took: the classes under test are seedstream's, not NumPy's."""
    TestPCG64Direct.setup_class()
    assert TestPCG64Direct.bit_generator is ss.PCG64
    assert type(TestPhiloxSmoke._create_rng().rg.bit_generator) is ss.Philox
