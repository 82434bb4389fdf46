"""PCG64 and PCG64-DXSM engines against NumPy's live bit generators."""

import numpy as np
import pytest

from seedstream._core import Pcg64Engine

VARIANTS = [("xsl-rr", np.random.PCG64), ("dxsm", np.random.PCG64DXSM)]


def _engine(np_bg, variant):
    st = np_bg.state["state"]
    return Pcg64Engine(st["state"], st["inc"], variant)


@pytest.mark.parametrize("variant,np_cls", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1, 42, 0xDEADBEAF, 2**64 - 1, 2**128 + 12345])
def test_random_raw_matches_numpy(variant, np_cls, seed):
    bg = np_cls(seed)
    g = _engine(bg, variant)
    assert np.array_equal(g.next_raw(5000), bg.random_raw(5000))
    assert g.state == bg.state["state"]["state"]


@pytest.mark.parametrize("variant,np_cls", VARIANTS)
@pytest.mark.parametrize("delta", [0, 1, 7, 2**40 + 3, 2**127 + 5, (-9) % 2**128])
def test_advance_matches_numpy(variant, np_cls, delta):
    bg = np_cls(2024)
    g = _engine(bg, variant)
    bg.advance(delta)
    g.advance(delta)
    assert g.state == bg.state["state"]["state"]
    assert np.array_equal(g.next_raw(100), bg.random_raw(100))


@pytest.mark.parametrize(
    "variant,np_cls,expected",
    [
        ("xsl-rr", np.random.PCG64, 135275564607035429730177404003164635391),
        ("dxsm", np.random.PCG64DXSM, 277778083536782149546677086420637664879),
    ],
)
def test_numpy_advance_large(variant, np_cls, expected):
    """numpy/random/tests/test_direct.py test_advance_large."""
    bg = np_cls(38219308213743)
    g = _engine(bg, variant)
    assert g.state == 287608843259529770491897792873167516365
    g.advance(sum(2**i for i in (96, 64, 32, 16, 8, 4, 2, 1)))
    assert g.state == expected


@pytest.mark.parametrize("variant", ["xsl-rr", "dxsm"])
def test_advance_equals_stepping(variant):
    a = Pcg64Engine.seeded(3, 4, variant)
    b = Pcg64Engine.seeded(3, 4, variant)
    a.next_raw(1234)
    b.advance(1234)
    assert a.state == b.state


def test_seeded_matches_numpy_seeding():
    """NumPy seeds both variants with pcg_setseq_128_srandom_r(initstate, initseq)."""
    w = np.random.SeedSequence(0).generate_state(4, np.uint64).tolist()
    initstate, initseq = (w[0] << 64) | w[1], (w[2] << 64) | w[3]
    for variant, np_cls in VARIANTS:
        g = Pcg64Engine.seeded(initstate, initseq, variant)
        st = np_cls(0).state["state"]
        assert (g.state, g.increment) == (st["state"], st["inc"])


def test_bad_engine_arguments():
    with pytest.raises(ValueError, match="increment"):
        Pcg64Engine(1, 2)
    with pytest.raises(ValueError, match="variant"):
        Pcg64Engine(1, 3, "xsh")
    with pytest.raises(OverflowError):
        Pcg64Engine(-1, 3)
