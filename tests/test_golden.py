"""Frozen golden digests (tests/golden/v1): the bits of every method never change."""

import importlib.util
import json
import pathlib

import pytest

GOLDEN = pathlib.Path(__file__).with_name("golden") / "v1"


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_digests_v1", GOLDEN / "make_digests.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MAKER = _load_maker()
FROZEN = json.loads((GOLDEN / "digests.json").read_text())


def test_golden_file_covers_every_case():
    want = {
        f"{a}|{label}|{case}"
        for a, label, _ in MAKER.streams()
        for case in MAKER.CASES
    }
    assert set(FROZEN["digests"]) == want
    assert FROZEN["n"] == 65_536


@pytest.mark.parametrize("algorithm", ["philox", "pcg64"])
def test_golden_digests(algorithm):
    mismatches = []
    for a, label, make in MAKER.streams():
        if a != algorithm:
            continue
        for case, (method, kwargs) in MAKER.CASES.items():
            key = f"{a}|{label}|{case}"
            if MAKER.digest(MAKER.draw(make(), method, kwargs)) != FROZEN["digests"][key]:
                mismatches.append(key)
    assert not mismatches, f"output changed for {mismatches}"


# ------------------------------------------------------------------------------------
# Continuous distributions: tests/golden/v1/digests_distributions.json
# ------------------------------------------------------------------------------------
def _load(name):
    spec = importlib.util.spec_from_file_location(name, GOLDEN / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


DIST_MAKER = _load("make_digests_distributions")
DIST_FROZEN = json.loads((GOLDEN / "digests_distributions.json").read_text())


def test_distribution_golden_file_covers_every_case():
    assert set(DIST_FROZEN["digests"]) == {key for key, *_ in DIST_MAKER.cases()}
    assert DIST_FROZEN["n"] == 65_536


@pytest.mark.parametrize("algorithm", ["philox", "pcg64"])
def test_distribution_golden_digests(algorithm):
    mismatches = []
    for key, make, method, kwargs, dtype in DIST_MAKER.cases():
        if key.startswith(algorithm + "|"):
            if DIST_MAKER.digest(DIST_MAKER.draw(make(), method, kwargs, dtype)) != DIST_FROZEN["digests"][key]:
                mismatches.append(key)
    assert not mismatches, f"output changed for {mismatches}"


@pytest.mark.parametrize("name", ["digests.json", "digests_distributions.json"])
def test_the_package_ships_the_frozen_digests_unchanged(name):
    """`python -m seedstream` checks the copy shipped in the package; it is these files."""
    from seedstream._selfcheck import DIGESTS

    assert (DIGESTS / name).read_bytes() == (GOLDEN / name).read_bytes()
