"""Bad input raises a clear exception that names the argument; nothing panics or aborts."""

import numpy as np
import pytest

import seedstream as ss
from seedstream import _core


@pytest.mark.parametrize(
    "seed,exc",
    [(-1, ValueError), (2**64, ValueError), (1.5, TypeError), (None, TypeError), (True, TypeError),
     (b"x", TypeError), ([1], TypeError)],
)
def test_bad_seed(seed, exc):
    with pytest.raises(exc, match="seed"):
        ss.Generator(seed)


def test_bad_algorithm():
    with pytest.raises(ValueError, match="algorithm"):
        ss.Generator(1, algorithm="mt19937")
    with pytest.raises(ValueError, match="algorithm"):
        _core.Stream.from_seed(1, "nope")


@pytest.mark.parametrize("name,exc", [(-1, ValueError), (2**64, ValueError), (1.0, TypeError),
                                      (None, TypeError), (False, TypeError), ((1,), TypeError)])
def test_bad_child_names(name, exc):
    with pytest.raises(exc, match="names"):
        ss.Generator(1).child("ok", name)


def test_child_needs_a_name():
    with pytest.raises(TypeError, match="names"):
        ss.Generator(1).child()


@pytest.mark.parametrize(
    "size,exc",
    [(-1, ValueError), ((3, -2), ValueError), (2.0, TypeError), ((2, 1.5), TypeError), ("3", TypeError)],
)
def test_bad_size(size, exc):
    g = ss.Generator(1)
    for call in (lambda: g.random(size), lambda: g.bits(size), lambda: g.integers(5, size=size),
                 lambda: g.bernoulli(0.5, size=size)):
        with pytest.raises(exc, match="size"):
            call()
    assert g.position == 0


def test_size_too_large_is_memory_error_before_allocating():
    g = ss.Generator(1)
    with pytest.raises(MemoryError, match="size"):
        g.random(2**62)
    with pytest.raises(MemoryError, match="size"):
        g.random((2**40, 2**40))
    with pytest.raises(MemoryError, match="size"):
        g.bits(2**45, dtype=np.uint64)
    with pytest.raises(MemoryError, match="x"):
        g.permutation(2**61)
    assert g.position == 0


@pytest.mark.parametrize("p", [-0.1, 1.0000001, float("nan"), float("inf"), -float("inf")])
def test_bad_probability(p):
    g = ss.Generator(1)
    with pytest.raises(ValueError, match="p"):
        g.bernoulli(p, size=3)
    assert g.position == 0


@pytest.mark.parametrize("p", ["0.5", None, [0.5], (0.5,)])
def test_probability_type(p):
    with pytest.raises(TypeError, match="p"):
        ss.Generator(1).bernoulli(p)


@pytest.mark.parametrize(
    "args,kwargs,name",
    [
        ((5, 5), {}, "high"),
        ((5, 4), {"endpoint": True}, "high"),
        ((0,), {}, "high"),
        ((-1, 10), {"dtype": np.uint8}, "low"),
        ((0, 257), {"dtype": np.uint8}, "high"),
        ((0, 256), {"dtype": np.uint8, "endpoint": True}, "high"),
        ((-(2**63) - 1, 0), {}, "low"),
        ((0, 2**64 + 1), {"dtype": np.uint64}, "high"),
    ],
)
def test_bad_integer_bounds(args, kwargs, name):
    g = ss.Generator(1)
    with pytest.raises(ValueError, match=name):
        g.integers(*args, size=3, **kwargs)
    assert g.position == 0


def test_integer_bound_types():
    with pytest.raises(TypeError, match="low"):
        ss.Generator(1).integers(1.5, 3)
    with pytest.raises(TypeError, match="high"):
        ss.Generator(1).integers(1, "3")


@pytest.mark.parametrize(
    "call,exc",
    [
        # TypeError, as NumPy's "Unsupported dtype"
        (lambda g: g.random(3, dtype=np.int32), TypeError),
        (lambda g: g.random(3, dtype=np.float16), TypeError),
        (lambda g: g.bits(3, dtype=np.int32), TypeError),
        (lambda g: g.integers(3, size=3, dtype=np.float64), TypeError),
        (lambda g: g.integers(3, size=3, dtype=object), TypeError),
        (lambda g: g.random(3, dtype="not-a-dtype"), TypeError),
    ],
)
def test_bad_dtype(call, exc):
    with pytest.raises(exc, match="dtype"):
        call(ss.Generator(1))


def test_bad_out():
    g = ss.Generator(1)
    with pytest.raises(ValueError, match="out"):
        g.random(out=np.empty(4, np.float32))  # dtype mismatch: no silent cast
    with pytest.raises(ValueError, match="out"):
        g.random(out=np.empty((4, 4))[:, ::2])  # not contiguous: no silent copy
    ro = np.empty(4)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        g.random(out=ro)
    with pytest.raises(ValueError, match="out"):
        g.random(size=5, out=np.empty(4))
    with pytest.raises(TypeError, match="out"):
        g.random(out=[0.0, 0.0])
    with pytest.raises(ValueError, match="out"):
        g.bernoulli(0.5, out=np.empty(4, np.uint8))
    with pytest.raises(ValueError, match="out"):
        g.random(out=np.empty(4, np.dtype("<f8").newbyteorder(">")))
    assert g.position == 0


def test_core_rejects_bad_buffers_too():
    s = _core.Stream.from_seed(1, "philox")
    with pytest.raises(ValueError, match="out"):
        s.fill_random_f64(np.empty((4, 4))[:, ::2])
    with pytest.raises(TypeError):
        s.fill_random_f64(np.empty(4, np.float32))
    with pytest.raises(ValueError, match="high"):
        s.fill_integers(np.empty(3, np.int64), 0, 0)
    with pytest.raises(ValueError, match="high"):
        s.fill_integers(np.empty(3, np.int64), 0, 2**64 + 1)
    with pytest.raises(ValueError, match="p"):
        s.fill_bernoulli(np.empty(3, bool), float("nan"))
    with pytest.raises(TypeError, match="out"):
        s.fill_integers(np.empty(3, np.float64), 0, 5)
    with pytest.raises(ValueError, match="key"):
        _core.Stream.from_key("philox", b"short", 0)
    assert s.position == 0


def test_position_never_wraps():
    g = ss.Generator(1).advance(2**64 - 2)
    g.bits(4)
    assert g.position == 2**64 - 1
    with pytest.raises(ValueError, match="size"):
        g.bits(1)
    assert g.position == 2**64 - 1
    with pytest.raises(ValueError, match="n"):
        ss.Generator(1).advance(2**64)
    with pytest.raises(ValueError, match="n"):
        ss.Generator(1).advance(-1)


@pytest.mark.parametrize(
    "state",
    [
        None,
        {},
        {"version": 2, "algorithm": "philox", "key": 0, "position": 0},
        {"version": 1, "algorithm": "x", "key": 0, "position": 0},
        {"version": 1, "algorithm": "philox", "key": -1, "position": 0},
        {"version": 1, "algorithm": "philox", "key": 2**256, "position": 0},
        {"version": 1, "algorithm": "philox", "key": 0, "position": 2**64},
        {"version": 1, "algorithm": "philox", "key": 0, "position": "0"},
    ],
)
def test_bad_state(state):
    with pytest.raises((TypeError, ValueError), match="state"):
        ss.Generator.from_state(state)


def test_bad_threads():
    with pytest.raises(ValueError, match="n"):
        ss.set_num_threads(0)
    with pytest.raises(ValueError, match="n"):
        ss.set_num_threads(-1)
    with pytest.raises(ValueError, match="name"):
        _core._set_simd_level("sse9")


def test_shuffle_and_permutation_input():
    g = ss.Generator(1)
    with pytest.raises(ValueError, match="x"):
        g.permutation(-1)
    with pytest.raises(ValueError, match="x"):
        g.permutation(np.float64(3.0).reshape(()))
    with pytest.raises(TypeError, match="x"):
        g.shuffle((1, 2, 3))
    ro = np.arange(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="x"):
        g.shuffle(ro)
    with pytest.raises(ValueError, match="x"):
        g.shuffle(np.array(3))
    assert g.position == 0


# ------------------------------------------------------------------------------------
# Continuous distributions
# ------------------------------------------------------------------------------------
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "call,exc,name",
    [
        (lambda g: g.normal(0.0, -1.0, 3), ValueError, "scale"),
        (lambda g: g.normal(0.0, -0.0 - 1e-300, 3), ValueError, "scale"),
        (lambda g: g.normal(NAN, 1.0, 3), ValueError, "loc"),
        (lambda g: g.normal(INF, 1.0, 3), ValueError, "loc"),
        (lambda g: g.normal(0.0, NAN, 3), ValueError, "scale"),
        (lambda g: g.normal(0.0, INF, 3), ValueError, "scale"),
        (lambda g: g.normal("0", 1.0, 3), TypeError, "loc"),
        (lambda g: g.normal(0.0, None, 3), TypeError, "scale"),
        (lambda g: g.normal(0.0, True, 3), TypeError, "scale"),
        (lambda g: g.normal(np.array([0.0]), 1.0, 3), TypeError, "loc"),
        (lambda g: g.uniform(NAN, 1.0, 3), ValueError, "low"),
        (lambda g: g.uniform(0.0, -INF, 3), ValueError, "high"),
        (lambda g: g.uniform(2.0, 1.0, 3), ValueError, "high"),
        (lambda g: g.uniform(-1e308, 1e308, 3), ValueError, "high"),  # high - low overflows
        (lambda g: g.uniform(0.1, 0.1 + 1e-12, 3, dtype=np.float16), ValueError, "high"),  # no binary32 value
        (lambda g: g.truncated_normal(0.0, 0.0, size=3), ValueError, "scale"),
        (lambda g: g.truncated_normal(0.0, -2.0, size=3), ValueError, "scale"),
        (lambda g: g.truncated_normal(0.0, 1.0, 2.0, 2.0, 3), ValueError, "b"),
        (lambda g: g.truncated_normal(0.0, 1.0, 3.0, 2.0, 3), ValueError, "b"),
        (lambda g: g.truncated_normal(0.0, 1.0, -INF, 2.0, 3), ValueError, "a"),
        (lambda g: g.truncated_normal(0.0, 1.0, NAN, 2.0, 3), ValueError, "a"),
        (lambda g: g.truncated_normal(0.0, 1.0, -2.0, INF, 3), ValueError, "b"),
        (lambda g: g.truncated_normal(NAN, 1.0, size=3), ValueError, "loc"),
        (lambda g: g.truncated_normal(0.0, 1.0, 1.0 + 1e-9, 1.0 + 2e-9, 3, dtype=np.float32), ValueError, "b"),
        (lambda g: g.truncated_normal(0.0, 1.0, "a", 1.0, 3), TypeError, "a"),
        (lambda g: g.standard_normal(3, dtype=np.int32), TypeError, "dtype"),
        (lambda g: g.standard_normal(3, dtype=np.complex64), TypeError, "dtype"),
        (lambda g: g.normal(size=3, dtype=np.float128 if hasattr(np, "float128") else np.longdouble), TypeError, "dtype"),
        (lambda g: g.uniform(size=3, dtype="not-a-dtype"), TypeError, "dtype"),
        (lambda g: g.truncated_normal(size=3, dtype=np.uint16), TypeError, "dtype"),
        (lambda g: g.standard_normal(-1), ValueError, "size"),
        (lambda g: g.standard_normal(out=np.empty(3, np.float32)), ValueError, "out"),
        (lambda g: g.standard_normal(out=np.empty(3, np.uint16), dtype=np.float16), ValueError, "out"),
        (lambda g: g.uniform(out=np.empty((4, 4))[:, ::2]), ValueError, "out"),
    ],
)
def test_bad_distribution_arguments(call, exc, name):
    g = ss.Generator(1)
    with pytest.raises(exc, match=name):
        call(g)
    assert g.position == 0


def test_core_rejects_bad_distribution_arguments_too():
    """The bindings and the core check again: ValueError naming the argument, no panic."""
    s = _core.Stream.from_seed(1, "philox")
    out = np.empty(3)
    with pytest.raises(ValueError, match="scale"):
        s.fill_normal(out, "float64", 0.0, -1.0)
    with pytest.raises(ValueError, match="loc"):
        s.fill_normal(out, "float64", float("nan"), 1.0)
    with pytest.raises(ValueError, match="b"):
        s.fill_truncated_normal(out, "float64", 0.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="scale"):
        s.fill_truncated_normal(out, "float64", 0.0, 0.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="high"):
        s.fill_uniform(out, "float64", 1.0, 0.0)
    with pytest.raises(ValueError, match="dtype"):
        s.fill_uniform(out, "float8", 0.0, 1.0)
    with pytest.raises(TypeError, match="out"):
        s.fill_normal(out, "float32", 0.0, 1.0)  # a float64 buffer named float32
    with pytest.raises(TypeError, match="out"):
        s.fill_normal(np.empty(3, np.float16), "float16", 0.0, 1.0)  # 16-bit goes as uint16
    with pytest.raises(ValueError, match="out"):
        s.fill_normal(np.empty((4, 4))[:, ::2], "float64", 0.0, 1.0)
    assert s.position == 0


def test_bad_per_element_probabilities():
    g = ss.Generator(1)
    with pytest.raises(ValueError, match="p"):
        g.bernoulli(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="p"):
        g.bernoulli(np.array([0.5, np.nan]))
    with pytest.raises(ValueError, match="size"):
        g.bernoulli(np.array([0.5, 0.5]), size=3)
    assert g.position == 0


# ------------------------------------------------------------------------------------
# Every message starts with the argument's name: "arg: expected ..., got ..."
# ------------------------------------------------------------------------------------
def _overlapping_bernoulli(g):
    p = np.full(8, 0.5)
    return g.bernoulli(p, out=p.view(np.bool_)[:8])


def _misaligned(dtype):
    return np.empty(8 * 9 + 1, np.uint8)[1:].view(dtype)


NAMED = [
    ("philox4x32 counter < 0", lambda g: ss.philox4x32_10([-1, 0, 0, 0], [0, 0]), ValueError, "counter"),
    ("philox4x32 key >= 2**32", lambda g: ss.philox4x32_10([0, 0, 0, 0], [2**32, 0]), ValueError, "key"),
    ("philox4x32 counter str", lambda g: ss.philox4x32_10("abcd", [0, 0]), TypeError, "counter"),
    ("philox4x32 counter float", lambda g: ss.philox4x32_10([0.5, 0, 0, 0], [0, 0]), TypeError, "counter"),
    ("philox4x64 counter < 0", lambda g: ss.philox4x64_10([-1, 0, 0, 0], [0, 0]), ValueError, "counter"),
    ("philox4x64 key >= 2**64", lambda g: ss.philox4x64_10([0, 0, 0, 0], [0, 2**64]), ValueError, "key"),
    ("set_num_threads(-1)", lambda g: ss.set_num_threads(-1), ValueError, "n"),
    ("set_num_threads(2**70)", lambda g: ss.set_num_threads(2**70), ValueError, "n"),
    ("set_num_threads(1.5)", lambda g: ss.set_num_threads(1.5), TypeError, "n"),
    ("SeedSequence pool_size 2**64", lambda g: ss.SeedSequence(1, pool_size=2**64), MemoryError, "pool_size"),
    ("bernoulli(10**400)", lambda g: g.bernoulli(10**400), ValueError, "p"),
    ("bernoulli(complex)", lambda g: g.bernoulli(np.complex128(0.5)), TypeError, "p"),
    ("normal(loc=10**400)", lambda g: g.normal(loc=10**400), ValueError, "loc"),
    ("normal(scale=10**400)", lambda g: g.normal(scale=10**400), ValueError, "scale"),
    ("uniform(high=10**400)", lambda g: g.uniform(high=10**400), ValueError, "high"),
    ("truncated_normal(b=-10**400)", lambda g: g.truncated_normal(b=-(10**400)), ValueError, "b"),
    ("PCG64 random_raw(2**64)", lambda g: ss.PCG64(1).random_raw(2**64), ValueError, "size"),
    ("PCG64DXSM random_raw(2**64)", lambda g: ss.PCG64DXSM(1).random_raw(2**64), ValueError, "size"),
    ("Philox random_raw(2**64)", lambda g: ss.Philox(1).random_raw(2**64), ValueError, "size"),
    ("PCG64 random_raw(2**64, output=False)", lambda g: ss.PCG64(1).random_raw(2**64, output=False),
     OverflowError, "size"),
    ("SeedSequence generate_state(2**64)", lambda g: ss.SeedSequence(1).generate_state(2**64), ValueError,
     "n_words"),
    ("SeedSequence 0-d spawn_key", lambda g: ss.SeedSequence(1, spawn_key=np.array(3)), TypeError, "spawn_key"),
    ("surrogate seed", lambda g: ss.Generator("\ud800"), ValueError, "seed"),
    ("surrogate name", lambda g: g.child("ok", "a\udfffb"), ValueError, "names"),
    ("bernoulli p overlapping out", _overlapping_bernoulli, ValueError, "out"),
    ("ndarray seed", lambda g: ss.Generator(np.array([3])), TypeError, "seed"),
    ("ndarray name", lambda g: g.child(np.array([1, 2])), TypeError, "names"),
    ("2-d ndarray size", lambda g: g.random(np.array([[2, 3]])), TypeError, "size"),
    ("float ndarray size", lambda g: g.random(np.array([2.0, 3.0])), TypeError, "size"),
    ("ndarray low", lambda g: g.integers(np.array([5, 6])), TypeError, "low"),
    ("ndarray spawn", lambda g: g.spawn(np.array([2, 3])), TypeError, "n"),
    ("ndarray advance", lambda g: g.advance(np.array([2, 3])), TypeError, "n"),
    ("random((0, 2**64))", lambda g: g.random((0, 2**64)), ValueError, "size"),
    ("bits((2**64, 0))", lambda g: g.bits((2**64, 0)), ValueError, "size"),
    ("misaligned out random", lambda g: g.random(out=_misaligned(np.float64)), ValueError, "out: must be aligned"),
    ("misaligned out bits", lambda g: g.bits(out=_misaligned(np.uint32)), ValueError, "out: must be aligned"),
    ("misaligned out integers", lambda g: g.integers(5, out=_misaligned(np.int64)), ValueError,
     "out: must be aligned"),
    ("integers(-5)", lambda g: g.integers(-5), ValueError, "low"),
    ("integers(0)", lambda g: g.integers(0, size=3), ValueError, "low"),
    ("integers(-1, endpoint)", lambda g: g.integers(-1, endpoint=True), ValueError, "low"),
    ("state position np.float64", lambda g: ss.Generator.from_state({**g.state, "position": np.float64(1)}),
     TypeError, "state"),  # a wrong type: NumPy's rule
]


@pytest.mark.parametrize("call,exc,name", [row[1:] for row in NAMED], ids=[row[0] for row in NAMED])
def test_errors_name_the_argument(call, exc, name):
    g = ss.Generator(1)
    with pytest.raises(exc) as info:
        call(g)
    assert str(info.value).startswith(name.split(":")[0] + ":"), str(info.value)
    assert name in str(info.value)
    assert len(str(info.value)) < 200, str(info.value)
    assert g.position == 0


def test_integers_single_bound_message_shows_what_was_passed():
    with pytest.raises(ValueError) as info:
        ss.Generator(1).integers(-5)
    assert "high=" not in str(info.value) and "-5" in str(info.value)


@pytest.mark.parametrize(
    "call,shown",
    [
        (lambda g: g.truncated_normal(0.0, 1.0, 1e-300, 2e-300, 3, dtype=np.float32), "[1e-300, 2e-300]"),
        (lambda g: g.uniform(1e-300, 2e-300, 3, dtype=np.float16), "[1e-300, 2e-300]"),
        (lambda g: g.uniform(-1e308, 1e308, 3), "low=-1e+308, high=1e+308"),
        (lambda g: g.bernoulli(np.array([0.5, 1e300])), "got 1e+300"),
        (lambda g: g.uniform(3e-300, 1e-300, 3), "low=3e-300, high=1e-300"),
        (lambda g: g.normal(0.0, -5e-324, 3), "got -5e-324"),
        (lambda g: g.bernoulli(1.0000000000000002), "got 1.0000000000000002"),
        (lambda g: _core.Stream.from_seed(1, "philox").fill_normal(np.empty(3), "float64", 0.0, -1e-310),
         "got -1e-310"),
    ],
)
def test_floats_are_printed_shortest_repr(call, shown):
    with pytest.raises(ValueError) as info:
        call(ss.Generator(1))
    assert shown in str(info.value) and len(str(info.value)) < 120, str(info.value)


def test_numpy_integers_and_one_d_arrays_work_where_ints_do():
    g, h = ss.Generator(1), ss.Generator(1)
    assert np.array_equal(g.random(np.array([2, 3])), h.random((2, 3)))  # as NumPy's size
    assert ss.Generator(np.uint64(7)) == ss.Generator(7)
    assert ss.Generator(np.array(7)) == ss.Generator(7)
    assert g.child(np.int32(3)) == g.child(3)
    state = {**g.state, "position": np.uint64(g.position)}
    assert ss.Generator.from_state(state) == g


def test_shuffle_masked_array_moves_data_and_mask_together():
    x = np.ma.array(np.arange(10), mask=[i % 3 == 0 for i in range(10)])
    ss.Generator(5).shuffle(x)
    perm = ss.Generator(5).permutation(10)
    assert np.array_equal(x.data, perm)
    assert np.array_equal(x.mask, perm % 3 == 0)
