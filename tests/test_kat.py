"""Known-answer tests: Philox4x32-10 and Philox4x64-10 against Random123, PCG64/PCG64DXSM against
NumPy and pcg-c."""

import numpy as np
import pytest

import seedstream as ss
from seedstream._core import Pcg64Engine

# Random123 tests/kat_vectors, the "philox4x32 10" lines: counter, key, expected.
PHILOX_KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]


@pytest.mark.parametrize("counter,key,expected", PHILOX_KAT)
def test_philox_embedded_kat(counter, key, expected):
    assert list(ss.philox4x32_10(counter, key)) == expected


def _philox_lines(path):
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) == 12 and f[0] == "philox4x32" and f[1] == "10":
            words = [int(x, 16) for x in f[2:]]
            yield words[0:4], words[4:6], words[6:10]


@pytest.mark.parametrize("name", ["random123_kat_vectors.txt", "random123_old_kat_vectors.txt"])
def test_philox_reference_files(reference_dir, name):
    cases = list(_philox_lines(reference_dir / name))
    assert cases, f"no philox4x32 10 lines in {name}"
    for counter, key, expected in cases:
        assert list(ss.philox4x32_10(counter, key)) == expected, (counter, key)


# Random123 tests/kat_vectors, the "philox4x64 10" lines: counter, key, expected.
PHILOX4X64_KAT = [
    ([0] * 4, [0] * 2, [0x16554D9ECA36314C, 0xDB20FE9D672D0FDC, 0xD7E772CEE186176B, 0x7E68B68AEC7BA23B]),
    ([2**64 - 1] * 4, [2**64 - 1] * 2,
     [0x87B092C3013FE90B, 0x438C3C67BE8D0224, 0x9CC7D7C69CD777B6, 0xA09CAEBF594F0BA0]),
    (
        [0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89],
        [0x452821E638D01377, 0xBE5466CF34E90C6C],
        [0xA528F45403E61D95, 0x38C72DBD566E9788, 0xA5A1610E72FD18B5, 0x57BD43B5E52B7FE6],
    ),
]


@pytest.mark.parametrize("counter,key,expected", PHILOX4X64_KAT)
def test_philox4x64_embedded_kat(counter, key, expected):
    assert list(ss.philox4x64_10(counter, key)) == expected


def _philox4x64_lines(path):
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) == 12 and f[0] == "philox4x64" and f[1] == "10":
            words = [int(x, 16) for x in f[2:]]
            yield words[0:4], words[4:6], words[6:10]


@pytest.mark.parametrize("name,count", [("random123_kat_vectors.txt", 3), ("random123_old_kat_vectors.txt", 44)])
def test_philox4x64_reference_files(reference_dir, name, count):
    cases = list(_philox4x64_lines(reference_dir / name))
    assert len(cases) == count, f"expected {count} philox4x64 10 lines in {name}"
    for counter, key, expected in cases:
        assert list(ss.philox4x64_10(counter, key)) == expected, (counter, key)


def test_philox4x64_argument_errors():
    with pytest.raises((TypeError, ValueError)):
        ss.philox4x64_10([0, 0, 0], [0, 0])
    with pytest.raises((TypeError, OverflowError, ValueError)):
        ss.philox4x64_10([2**64, 0, 0, 0], [0, 0])


def test_philox_argument_errors():
    with pytest.raises((TypeError, ValueError)):
        ss.philox4x32_10([0, 0, 0], [0, 0])
    with pytest.raises((TypeError, OverflowError, ValueError)):
        ss.philox4x32_10([2**32, 0, 0, 0], [0, 0])


def _bounded(g, bound):
    # pcg-c pcg64_boundedrand_r: reject below (2^64 - bound) mod bound, then reduce.
    threshold = (2**64 - bound) % bound
    while True:
        r = int(g.next_raw(1)[0])
        if r >= threshold:
            return r % bound


def _pcg_rounds(text):
    """Parses check-pcg64.out into rounds of {label: whitespace-separated fields}."""
    rounds, current, label = [], None, None
    for line in text.splitlines():
        if line.startswith("Round "):
            current = {}
            rounds.append(current)
        elif current is not None and line.startswith("  ") and ":" in line:
            label, rest = line.strip().split(":", 1)
            current[label] = rest.split()
        elif current is not None and line.startswith("\t") and label:
            current[label] += line.split()
    return rounds


def test_pcg_c_check_pcg64(reference_dir):
    """pcg-c check-pcg64.out, all 5 rounds: raw outputs, stepping back, coins, rolls, cards."""
    rounds = _pcg_rounds((reference_dir / "pcg" / "pcg-c_check-pcg64.out").read_text())
    assert len(rounds) == 5
    g = Pcg64Engine.seeded(42, 54)
    assert g.state == 0xDE2BCE05BE013BE3D3F6C45A41E54320
    for r in rounds:
        want = [int(x, 16) for x in r["64bit"]]
        assert g.next_raw(6).tolist() == want
        g.advance((-6) % 2**128)
        assert g.next_raw(6).tolist() == [int(x, 16) for x in r["Again"]]
        coins = "".join("H" if _bounded(g, 2) else "T" for _ in range(65))
        assert coins == r["Coins"][0]
        assert [_bounded(g, 6) + 1 for _ in range(33)] == [int(x) for x in r["Rolls"]]
        cards = list(range(52))
        for i in range(52, 1, -1):
            c = _bounded(g, i)
            cards[c], cards[i - 1] = cards[i - 1], cards[c]
        names = ["A23456789TJQK"[c // 4] + "hcds"[c % 4] for c in cards]
        assert names == r["Cards"]


def _read_csv(path):
    lines = path.read_text().splitlines()
    seed = int(lines[0].split(",")[1].strip(), 0)
    data = [int(line.split(",")[-1].strip(), 0) for line in lines[1:]]
    return seed, data


@pytest.mark.parametrize(
    "stem,variant,np_cls",
    [
        ("pcg64", "xsl-rr", np.random.PCG64),
        ("pcg64dxsm", "dxsm", np.random.PCG64DXSM),
    ],
)
@pytest.mark.parametrize("which", [1, 2])
def test_numpy_pcg_testsets(reference_dir, stem, variant, np_cls, which):
    """NumPy's pcg64/pcg64dxsm test sets: 1000 raw outputs after SeedSequence seeding."""
    seed, data = _read_csv(reference_dir / "numpy" / f"{stem}-testset-{which}.csv")
    st = np_cls(seed).state["state"]
    g = Pcg64Engine(st["state"], st["inc"], variant)
    assert g.next_raw(1000).tolist() == data
