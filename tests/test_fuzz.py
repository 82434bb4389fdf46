"""Fuzz of the public NumPy-side API: every call either raises a documented exception whose
message names the argument, leaving the generator where it was, or returns exactly what the
reference implementation (tests/reference/seedstream_ref.py) gives for the same arguments.

A short, derandomized (so reproducible) run is part of `make test`; the `slow` variants run
the same bodies much longer, with fresh random examples each time.
"""

from __future__ import annotations

import pathlib
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_TESTS = str(pathlib.Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

import seedstream as ss  # noqa: E402
from reference import seedstream_ref as ref  # noqa: E402
from reference.seedstream_ref import RefGenerator  # noqa: E402

DOCUMENTED = (TypeError, ValueError, MemoryError)
# The NumPy bit generators keep NumPy's OverflowError where NumPy raises one.
DOCUMENTED_NUMPY = DOCUMENTED + (OverflowError,)
# "arg: ..." with arg an identifier, possibly indexed ("state['state']", "names").
NAMED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:")

BRIEF = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=4000, deadline=None, suppress_health_check=list(HealthCheck))

# -- odd values --------------------------------------------------------------------------
HUGE_INTS = [2**61, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**64 + 1, -(2**63) - 1, 10**400, -(10**400)]
ODD_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from(HUGE_INTS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, -0.0, 1e308, -1e308, 1e-300, 0.5, 1.0000000000000002]),
    st.text(max_size=3),
    st.sampled_from(["\ud800", "a\udfffb", "", "0.5", "3"]),
    st.binary(max_size=3),
    st.complex_numbers(max_magnitude=4),
    st.sampled_from([np.int8(3), np.uint64(2**64 - 1), np.int64(-1), np.uint32(4), np.float32(0.5),
                     np.float16(6e4), np.float64(np.nan), np.bool_(True), np.complex64(1), np.str_("a"),
                     np.longdouble(0.25), ml_dtypes.bfloat16(0.5)]),
)
ODD_CONTAINERS = st.one_of(
    st.lists(st.integers(-2, 5), max_size=3),
    st.tuples(st.integers(0, 4), st.integers(0, 4)),
    st.sampled_from([(0, 2**64), (2**40, 2**40), (2, -1), (2.0,), (), [()], {}, set(), object(),
                     np.array(3), np.array(0.5), np.array([2, 3]), np.array([0.5, 0.25]),
                     np.array([[1, 2]]), np.array([], dtype=np.int64), np.array(True), range(3),
                     memoryview(b"ab"), bytearray(b"ab")]),
)
ODD = st.one_of(ODD_SCALARS, ODD_CONTAINERS)

# Sizes stay small or are far too large to allocate: a fuzz never fills gigabytes.
SIZES = st.one_of(
    st.none(),
    st.integers(0, 9),
    st.lists(st.integers(0, 4), max_size=3).map(tuple),
    st.sampled_from([-1, (3, -2), 2**61, 2**63, 2**64, (0, 2**64), (2**40, 2**40), (2**64, 0), 2.0, "3",
                     (2, 1.5), np.int64(3), np.array(4), np.array([2, 2]), np.array([[2]]), [np.uint8(2), 3],
                     (True, 2), None, [], (0,)]),
)
FLOAT_DTYPES = [np.float64, np.float32, np.float16, "bfloat16", ml_dtypes.bfloat16, "float32", "<f8"]
INT_DTYPES = [np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8]
ODD_DTYPES = [None, object, "not-a-dtype", np.complex64, ">f8", np.bool_, np.longdouble, "U3", 3, np.void]
FLOATS = st.one_of(st.floats(-10, 10), st.sampled_from([0.0, 1.0, -1.0, 2.0, 0.02, 1e-300, 1e300]), ODD)
PROBS = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, 0.5, 2**-33, 1 - 2**-53]), ODD)
INTS = st.one_of(st.integers(-300, 300), st.sampled_from(HUGE_INTS + [0, 1, -1]), ODD)


def plain(x: Any) -> Any:
    """`x` with NumPy scalars and arrays made Python numbers and tuples, as the reference
    implementation takes them."""
    if isinstance(x, np.ndarray):
        return x.item() if x.ndim == 0 else tuple(plain(v) for v in x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, list):
        return tuple(plain(v) for v in x)
    return x


def out_array(kind: str, shape: Tuple[int, ...], dtype: np.dtype) -> Any:
    """An `out` argument of the given kind for a draw of `shape` and `dtype`."""
    n = int(np.prod(shape)) if shape else 1
    if kind == "good":
        return np.full(shape, 7, dtype=dtype) if dtype.kind != "V" else np.empty(shape, dtype)
    if kind == "wrong dtype":
        return np.empty(shape, np.float32 if dtype != np.float32 else np.float64)
    if kind == "non-contiguous":
        return np.empty(shape + (2,), dtype)[..., 0]
    if kind == "fortran":
        return np.empty(shape, dtype, order="F")
    if kind == "misaligned":
        return np.empty(n * dtype.itemsize + 1, np.uint8)[1:].view(dtype).reshape(shape)
    if kind == "read-only":
        a = np.empty(shape, dtype)
        a.flags.writeable = False
        return a
    if kind == "0-d":
        return np.empty((), dtype)
    if kind == "byte-swapped":
        return np.empty(shape, dtype.newbyteorder())
    if kind == "wrong shape":
        return np.empty((n + 1,), dtype)
    if kind == "list":
        return [0] * n
    if kind == "subclass":
        return np.ma.masked_array(np.empty(shape, dtype))
    raise AssertionError(kind)


OUT_KINDS = ["good", "wrong dtype", "non-contiguous", "fortran", "misaligned", "read-only", "0-d",
             "byte-swapped", "wrong shape", "list", "subclass"]


def same(a: Any, b: Any) -> bool:
    """Bit-for-bit equality of two results (arrays or scalars), dtype and shape included."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return a.tobytes() == b.tobytes()


def check_error(exc: BaseException, allowed: Tuple[type, ...] = DOCUMENTED) -> None:
    assert isinstance(exc, allowed), f"{type(exc).__name__}: {exc}"
    assert NAMED.match(str(exc)), f"message does not start with an argument name: {exc}"


# -- the Generator's draws ---------------------------------------------------------------
METHODS: Dict[str, Callable[[Any], Dict[str, Any]]] = {
    "bits": lambda d: {"size": d(SIZES), "dtype": d(st.sampled_from([np.uint32, np.uint64, "uint64"] + ODD_DTYPES))},
    "random": lambda d: {"size": d(SIZES), "dtype": d(st.sampled_from([np.float64, np.float32] + ODD_DTYPES))},
    "standard_normal": lambda d: {"size": d(SIZES), "dtype": d(st.sampled_from(FLOAT_DTYPES + ODD_DTYPES))},
    "normal": lambda d: {"loc": d(FLOATS), "scale": d(FLOATS), "size": d(SIZES),
                         "dtype": d(st.sampled_from(FLOAT_DTYPES + ODD_DTYPES))},
    "uniform": lambda d: {"low": d(FLOATS), "high": d(FLOATS), "size": d(SIZES),
                          "dtype": d(st.sampled_from(FLOAT_DTYPES + ODD_DTYPES))},
    "truncated_normal": lambda d: {"loc": d(FLOATS), "scale": d(FLOATS), "a": d(FLOATS), "b": d(FLOATS),
                                   "size": d(SIZES), "dtype": d(st.sampled_from(FLOAT_DTYPES + ODD_DTYPES))},
    "integers": lambda d: {"low": d(INTS), "high": d(st.one_of(st.none(), INTS)), "size": d(SIZES),
                           "dtype": d(st.sampled_from(INT_DTYPES + ODD_DTYPES)),
                           "endpoint": d(st.one_of(st.booleans(), st.sampled_from([0, 1, np.bool_(True)])))},
    "bernoulli": lambda d: {"p": d(PROBS), "size": d(SIZES)},
}
OUT_DTYPE = {"bits": np.uint32, "random": np.float64, "standard_normal": np.float64, "normal": np.float64,
             "uniform": np.float64, "truncated_normal": np.float64, "integers": np.int64, "bernoulli": np.bool_}

SEEDS = st.one_of(st.integers(0, 2**64 - 1), st.text(max_size=6), ODD)
NAMES = st.lists(st.one_of(st.integers(0, 2**64 - 1), st.text(max_size=4), st.binary(max_size=4), ODD),
                 min_size=0, max_size=3)


def fuzz_generator_method(data: Any) -> None:
    d = data.draw
    algorithm = d(st.sampled_from(["philox", "pcg64"]))
    position = d(st.one_of(st.integers(0, 50), st.sampled_from([2**64 - 1, 2**64 - 2, 2**64 - 5])))
    g = ss.Generator(d(st.integers(0, 2**64 - 1)), algorithm=algorithm).advance(position)
    r = RefGenerator.from_key(algorithm, g.key.to_bytes(32, "little"), position)
    name = d(st.sampled_from(sorted(METHODS)))
    kwargs = METHODS[name](d)
    out_kind = d(st.sampled_from([None] * 4 + OUT_KINDS))
    if out_kind is not None:
        try:
            shape = plain(kwargs["size"])
            shape = () if shape is None else (shape,) if isinstance(shape, int) else tuple(shape)
            dt = np.dtype(kwargs.get("dtype") or OUT_DTYPE[name])
            kwargs["out"] = out_array(out_kind, tuple(int(s) for s in shape), dt)
        except (TypeError, ValueError, OverflowError, MemoryError):
            kwargs["out"] = out_array(out_kind, (2,), np.dtype(OUT_DTYPE[name]))
        if d(st.booleans()):
            kwargs["size"] = None  # out alone gives the shape
    key_before = g.key
    try:
        got = getattr(g, name)(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the point is to see which exceptions leave
        check_error(exc)
        assert g.position == position and g.key == key_before, "a failed draw moved the generator"
        return
    out = kwargs.pop("out", None)
    if out is not None:
        assert got is out
        kwargs["size"] = out.shape
    p = kwargs.get("p")
    if isinstance(p, np.ndarray) and p.ndim > 0:  # a probability per element
        thresholds = np.array([round(float(q) * 2.0**32) for q in p.reshape(-1)], dtype=np.uint64)
        want = (r._words(p.size).astype(np.uint64) < thresholds).reshape(p.shape)
        assert same(got, want) and g.position == r.position
        return
    ref_kwargs = {k: plain(v) for k, v in kwargs.items()}
    if "dtype" in ref_kwargs and isinstance(ref_kwargs["dtype"], str) and ref_kwargs["dtype"] == "bfloat16":
        ref_kwargs["dtype"] = ml_dtypes.bfloat16
    if name == "integers":
        ref_kwargs["endpoint"] = bool(ref_kwargs["endpoint"])
    with np.errstate(over="ignore", invalid="ignore"):  # the reference computes in NumPy
        want = getattr(r, name)(**ref_kwargs)
    assert same(got, want), (name, kwargs, got, want)
    assert g.position == r.position, (name, kwargs)
    if name == "random":
        assert np.all((np.asarray(got) >= 0) & (np.asarray(got) < 1))
    if name == "bernoulli":
        assert np.asarray(got).dtype == np.bool_


@BRIEF
@given(data=st.data())
def test_generator_methods(data):
    fuzz_generator_method(data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_generator_methods_long(data):
    fuzz_generator_method(data)


# -- seeds, names, positions and state dicts ------------------------------------------------
def fuzz_identity(data: Any) -> None:
    d = data.draw
    seed = d(SEEDS)
    try:
        g = ss.Generator(seed, algorithm=d(st.sampled_from(["philox", "pcg64", "mt19937", None, 1])))
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
        return
    assert g.key == RefGenerator(plain(seed)).key
    names = d(NAMES)
    try:
        c = g.child(*names)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
    else:
        plain_names = [bytes(n) if isinstance(n, (bytearray, memoryview)) else plain(n) for n in names]
        assert c.key == RefGenerator(plain(seed)).child(*plain_names).key and c.position == 0
    step = d(st.one_of(INTS, st.sampled_from([2**64 - 1, 2**64])))
    try:
        g.advance(step)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
        assert g.position == 0
    else:
        assert g.position == plain(step)
    n = d(st.one_of(st.integers(-2, 5), st.sampled_from([2**64 + 1, -(2**70), 1.0, "2", None, np.int8(2)])))
    try:
        kids = g.spawn(n)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
    else:
        assert [k.key for k in kids] == [g.child(i).key for i in range(plain(n))]
    state = dict(g.state)
    edit = d(st.sampled_from(["none", "replace", "delete", "add"]))
    if edit == "replace":
        state[d(st.sampled_from(sorted(state)))] = d(ODD)
    elif edit == "delete":
        del state[d(st.sampled_from(sorted(state)))]
    elif edit == "add":
        state["extra"] = d(ODD)
    if d(st.booleans()):
        state = d(st.sampled_from([None, [], "state", 3, {}]))  # type: ignore[assignment]
    try:
        h = ss.Generator.from_state(state)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
    else:
        assert h.algorithm == state["algorithm"] and h.key == state["key"] and h.position == state["position"]
        r = RefGenerator.from_key(h.algorithm, h.key.to_bytes(32, "little"), h.position)
        try:
            got = h.bits(5)
        except Exception as exc:  # noqa: BLE001
            check_error(exc)
            assert h.position == r.position
        else:
            assert same(got, r.bits(5)) and h.position == r.position


@BRIEF
@given(data=st.data())
def test_identity_and_state(data):
    fuzz_identity(data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_identity_and_state_long(data):
    fuzz_identity(data)


# -- permutation and shuffle --------------------------------------------------------------
SHUFFLEABLE = st.sampled_from([
    "list", "tuple", "1-d", "2-d", "3-byte rows", "0-d", "empty", "read-only", "non-contiguous",
    "fortran", "object", "masked", "structured", "str", "bool rows", "1-row",
])


def shuffle_input(kind: str) -> Any:
    if kind == "list":
        return list(range(7))
    if kind == "tuple":
        return tuple(range(7))
    if kind == "1-d":
        return np.arange(9, dtype=np.int16)
    if kind == "2-d":
        return np.arange(24.0).reshape(6, 4)
    if kind == "3-byte rows":
        return np.arange(15, dtype=np.uint8).reshape(5, 3)
    if kind == "0-d":
        return np.array(3)
    if kind == "empty":
        return np.empty((0, 3))
    if kind == "read-only":
        a = np.arange(5)
        a.flags.writeable = False
        return a
    if kind == "non-contiguous":
        return np.arange(20).reshape(10, 2)[::2]
    if kind == "fortran":
        return np.asfortranarray(np.arange(12).reshape(4, 3))
    if kind == "object":
        return np.array([{"a": i} for i in range(5)], dtype=object)
    if kind == "masked":
        return np.ma.array(np.arange(6), mask=[0, 1, 0, 0, 1, 0])
    if kind == "structured":
        return np.array([(i, float(i)) for i in range(5)], dtype=[("a", "i4"), ("b", "f8")])
    if kind == "str":
        return "abc"
    if kind == "bool rows":
        return np.array([[True, False], [False, False], [True, True]])
    if kind == "1-row":
        return np.arange(4).reshape(1, 4)
    raise AssertionError(kind)


def fuzz_permutation(data: Any) -> None:
    d = data.draw
    seed = d(st.integers(0, 2**64 - 1))
    g, r = ss.Generator(seed), RefGenerator(seed)
    kind = d(SHUFFLEABLE)
    x = shuffle_input(kind)
    if d(st.booleans()):
        try:
            g.shuffle(x)
        except Exception as exc:  # noqa: BLE001
            check_error(exc)
            assert g.position == 0
            return
        y = shuffle_input(kind)
        r.shuffle(y)
        if isinstance(x, np.ma.MaskedArray):
            assert np.array_equal(x.data, y.data) and np.array_equal(x.mask, y.mask)
        else:
            assert np.array_equal(np.asarray(x), np.asarray(y)) if not isinstance(x, list) else x == y
    else:
        arg = d(st.one_of(st.just(x), INTS.filter(lambda v: not isinstance(v, int) or v < 2000 or v >= 2**61)))
        try:
            got = g.permutation(arg)
        except Exception as exc:  # noqa: BLE001
            check_error(exc)
            assert g.position == 0
            return
        assert same(got, r.permutation(plain(arg) if not isinstance(arg, np.ndarray) or arg.ndim == 0 else arg))
    assert g.position == r.position


@BRIEF
@given(data=st.data())
def test_permutation_and_shuffle(data):
    fuzz_permutation(data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_permutation_and_shuffle_long(data):
    fuzz_permutation(data)


# -- NumPy bit generators and SeedSequence ----------------------------------------------------
BITGENS = {"PCG64": (ss.PCG64, np.random.PCG64), "PCG64DXSM": (ss.PCG64DXSM, np.random.PCG64DXSM),
           "Philox": (ss.Philox, np.random.Philox)}


def fuzz_bit_generator(data: Any) -> None:
    d = data.draw
    name = d(st.sampled_from(sorted(BITGENS)))
    ours, numpys = BITGENS[name]
    seed = d(st.one_of(st.integers(0, 2**130), st.lists(st.integers(0, 2**40), max_size=3), ODD))
    if name == "Philox" and d(st.booleans()):  # key and counter given directly
        words = st.one_of(st.integers(0, 2**256), st.lists(st.integers(0, 2**64), max_size=5), ODD)
        key, counter = d(words), d(st.one_of(st.none(), words))
        try:
            bg = ss.Philox(key=key, counter=counter)
        except Exception as exc:  # noqa: BLE001
            check_error(exc, DOCUMENTED_NUMPY)
        else:
            if key is None:
                return  # seeded from fresh OS entropy
            nb = np.random.Philox(key=plain(key), counter=plain(counter))
            assert same(bg.random_raw(5), nb.random_raw(5))
        return
    try:
        bg = ours(seed)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, DOCUMENTED_NUMPY)
        return
    if seed is None:
        return  # fresh OS entropy: nothing to compare with
    nb = numpys(plain(seed) if not isinstance(seed, np.ndarray) or seed.ndim == 0 else seed)
    size = d(SIZES)
    try:
        got = bg.random_raw(size)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, DOCUMENTED_NUMPY)
    else:
        assert same(got, nb.random_raw(plain(size) if size is not None else None))
    state = dict(bg.state)
    if d(st.booleans()):
        key = d(st.sampled_from(sorted(state)))
        state[key] = d(ODD)
    try:
        bg.state = state
    except Exception as exc:  # noqa: BLE001
        check_error(exc, DOCUMENTED_NUMPY)
    else:
        nb.state = state  # a state ours takes, NumPy's takes too, with the same outputs after
        assert same(bg.random_raw(3), nb.random_raw(3))
    delta = d(INTS)
    try:
        bg.advance(delta)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, DOCUMENTED_NUMPY)


@BRIEF
@given(data=st.data())
def test_bit_generators(data):
    fuzz_bit_generator(data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_bit_generators_long(data):
    fuzz_bit_generator(data)


def fuzz_seed_sequence(data: Any) -> None:
    d = data.draw
    kwargs: Dict[str, Any] = {"entropy": d(st.one_of(st.integers(0, 2**130), st.lists(st.integers(0, 9)), ODD))}
    if d(st.booleans()):
        kwargs["spawn_key"] = d(st.one_of(st.lists(st.integers(0, 9), max_size=2).map(tuple), ODD))
    if d(st.booleans()):
        kwargs["pool_size"] = d(st.one_of(st.integers(0, 12), st.sampled_from([2**64, 2**63, -1, 4.0])))
    if kwargs["entropy"] is None:
        kwargs["entropy"] = 1
    try:
        s = ss.SeedSequence(**kwargs)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
        return
    n = d(st.one_of(st.integers(0, 9), st.sampled_from([-1, 2**64, 1.5, None])))
    dtype = d(st.sampled_from([np.uint32, np.uint64, np.int32, "uint64", None]))
    try:
        got = s.generate_state(n, dtype)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
        return
    np_kwargs = {k: v if isinstance(v, np.ndarray) and v.ndim > 0 else plain(v) for k, v in kwargs.items()}
    assert same(got, np.random.SeedSequence(**np_kwargs).generate_state(plain(n), dtype))


@BRIEF
@given(data=st.data())
def test_seed_sequence(data):
    fuzz_seed_sequence(data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_seed_sequence_long(data):
    fuzz_seed_sequence(data)


def test_fuzz_values_are_spec_checked():
    """The reference comparison is live: a wrong value is seen."""
    g = ss.Generator(3)
    r = RefGenerator(3)
    assert same(g.random(4), r.random(4))
    assert not same(g.random(4), ref.RefGenerator(4).random(4))


# -- module functions and the stream bit generator ------------------------------------------
WORDS = st.one_of(st.lists(st.one_of(st.integers(0, 2**32 - 1), st.integers(-1, 2**64), ODD_SCALARS), max_size=5),
                  ODD)


def fuzz_functions(data: Any) -> None:
    d = data.draw
    counter, key = d(WORDS), d(WORDS)
    try:
        got = ss.philox4x32_10(counter, key)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
    else:
        assert list(got) == list(ref.philox4x32_10([plain(c) for c in counter], [plain(k) for k in key]))
    try:
        got = ss.philox4x64_10(counter, key)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
    else:
        assert len(got) == 4 and all(0 <= w < 2**64 for w in got)
    saved = ss.get_num_threads()
    n = d(st.one_of(st.integers(-2, 4), st.sampled_from([1025, 2**64, 2**70, 1.0, "2", None, np.int8(2), True])))
    try:
        ss.set_num_threads(n)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
        assert ss.get_num_threads() == saved
    else:
        assert ss.get_num_threads() == plain(n)
    finally:
        ss.set_num_threads(saved)
    g = ss.Generator(d(st.integers(0, 2**64 - 1)), algorithm=d(st.sampled_from(["philox", "pcg64"])))
    bg = g.bit_generator()
    size = d(SIZES)
    try:
        raw = bg.random_raw(size)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, DOCUMENTED_NUMPY)
    else:
        want = ss.Generator.from_state(g.state).bits(plain(size), dtype=np.uint64)
        if size is None:  # one Python int, as NumPy's random_raw()
            assert type(raw) is int and raw == int(want)
        else:
            assert same(raw, want)
    delta = d(INTS)
    try:
        bg.advance(delta)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, DOCUMENTED_NUMPY)
    kids = d(st.one_of(st.integers(-1, 3), st.sampled_from([2**64, 1.5, None])))
    try:
        children = bg.spawn(kids)
    except Exception as exc:  # noqa: BLE001
        check_error(exc, DOCUMENTED_NUMPY)
    else:
        assert [c.state["state"]["key"] for c in children] == [g.child(i).key for i in range(plain(kids))]


@BRIEF
@given(data=st.data())
def test_functions_and_stream_bit_generator(data):
    fuzz_functions(data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_functions_and_stream_bit_generator_long(data):
    fuzz_functions(data)
