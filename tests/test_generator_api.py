"""Generator behaviour: streams, children, positions, prefix property, state, threads."""

import copy
import pickle
import threading

import ml_dtypes
import numpy as np
import pytest

import seedstream as ss
from seedstream import _core

ALGORITHMS = ["philox", "pcg64"]

# (method, kwargs, words per element) for every elementwise method and dtype.
ELEMENTWISE = [
    ("bits", {"dtype": np.uint32}, 1),
    ("bits", {"dtype": np.uint64}, 2),
    ("random", {"dtype": np.float32}, 1),
    ("random", {"dtype": np.float64}, 2),
    ("integers", {"low": -5, "high": 1000, "dtype": np.int64}, 2),
    ("integers", {"low": 0, "high": 2**64 - 1, "dtype": np.uint64, "endpoint": True}, 2),
    ("integers", {"low": -128, "high": 127, "dtype": np.int8, "endpoint": True}, 2),
    ("bernoulli", {"p": 0.3}, 1),
]
# The continuous distributions in every output format: float64 takes two words per
# element, the float32 family one (docs/spec.md#positions).
for _dt, _w in [(np.float64, 2), (np.float32, 1), (np.float16, 1), (ml_dtypes.bfloat16, 1)]:
    ELEMENTWISE += [
        ("standard_normal", {"dtype": _dt}, _w),
        ("normal", {"loc": -1.0, "scale": 3.0, "dtype": _dt}, _w),
        ("uniform", {"low": -2.0, "high": 5.0, "dtype": _dt}, _w),
        ("truncated_normal", {"loc": 0.5, "scale": 2.0, "a": -1.0, "b": 4.0, "dtype": _dt}, _w),
    ]


def draw(g, method, kwargs, size):
    return getattr(g, method)(size=size, **kwargs)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_seed_same_bits_and_seeds_differ(algorithm):
    a = ss.Generator(42, algorithm=algorithm).bits(100)
    b = ss.Generator(42, algorithm=algorithm).bits(100)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, ss.Generator(43, algorithm=algorithm).bits(100))
    assert not np.array_equal(a, ss.Generator("42", algorithm=algorithm).bits(100))
    other = "pcg64" if algorithm == "philox" else "philox"
    assert not np.array_equal(a, ss.Generator(42, algorithm=other).bits(100))


def test_numpy_integer_seed_equals_int_seed():
    assert ss.Generator(np.uint64(7)).key == ss.Generator(7).key


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_children_ignore_parent_position_and_sibling_order(algorithm):
    g = ss.Generator(1, algorithm=algorithm)
    first = g.child("layer", 0).random(50)
    g.random(1001)
    g.child("other")
    again = g.child("layer", 0)
    assert again.position == 0
    assert np.array_equal(first, again.random(50))


def test_child_path_and_typed_names():
    g = ss.Generator("root")
    assert g.child("a", "b").key == g.child("a").child("b").key
    keys = {g.child(3).key, g.child("3").key, g.child(b"3").key}
    assert len(keys) == 3
    assert g.child("ab", "c").key != g.child("a", "bc").key
    assert g.child(bytearray(b"x")).key == g.child(b"x").key
    assert g.child(np.int64(5)).key == g.child(5).key
    assert g.child("a").algorithm == g.algorithm


def test_spawn_counts_up_as_numpy():
    g = ss.Generator(9)
    kids = g.spawn(3)
    assert [k.key for k in kids] == [g.child(i).key for i in range(3)]
    assert g.spawn(0) == []
    assert [k.key for k in g.spawn(2)] == [g.child(i).key for i in (3, 4)]  # never repeats
    assert g.n_children_spawned == 5


def test_spawn_count_is_in_state_and_pickle():
    g = ss.Generator(9)
    assert "n_children_spawned" not in g.state  # states of generators that never spawned are unchanged
    g.spawn(4)
    assert g.state["n_children_spawned"] == 4
    for h in (ss.Generator.from_state(g.state), pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert [k.key for k in h.spawn(1)] == [g.child(4).key]
    old = {"version": 1, "algorithm": "philox", "key": g.key, "position": 0}
    assert ss.Generator.from_state(old).spawn(1)[0].key == g.child(0).key
    with pytest.raises(ValueError, match="n_children_spawned"):
        ss.Generator.from_state(dict(old, n_children_spawned=-1))


def test_unambiguous_algorithm_names():
    for long, short in (("philox4x32", "philox"), ("pcg64-stream", "pcg64")):
        g = ss.Generator(5, algorithm=long)
        assert g.algorithm == short
        assert np.array_equal(g.bits(8), ss.Generator(5, algorithm=short).bits(8))
        assert ss.Generator.from_state(dict(g.state, algorithm=long)) == g
    assert ss.Generator(5).algorithm == "philox"
    with pytest.raises(ValueError, match="algorithm: expected 'philox4x32'"):
        ss.Generator(5, algorithm="philox4x64")


def test_key_matches_spec_known_answer():
    assert ss.Generator(42).key == int.from_bytes(
        bytes.fromhex("3d377b65781f506feccc43876d9273beff767950ffa08f917ac495853e49bc10"), "little"
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("method,kwargs,words", ELEMENTWISE)
@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 1023])
def test_position_advances_by_specified_blocks(algorithm, method, kwargs, words, n):
    g = ss.Generator(5, algorithm=algorithm).advance(3)
    draw(g, method, kwargs, n)
    assert g.position == 3 + -(-n * words // 4)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_permutation_and_shuffle_positions(algorithm):
    for n in [0, 1, 2, 3, 10, 11]:
        g = ss.Generator(5, algorithm=algorithm)
        g.permutation(n)
        assert g.position == -(-max(n - 1, 0) // 2)
        h = ss.Generator(5, algorithm=algorithm)
        h.shuffle(np.zeros((n, 3)))
        assert h.position == g.position


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("method,kwargs,words", ELEMENTWISE)
def test_prefix_property(algorithm, method, kwargs, words):
    big = draw(ss.Generator(11, algorithm=algorithm).advance(2), method, kwargs, 4099)
    for k in [0, 1, 2, 3, 5, 257, 4098]:
        small = draw(ss.Generator(11, algorithm=algorithm).advance(2), method, kwargs, k)
        assert np.array_equal(small, big[:k])


@pytest.mark.parametrize("method,kwargs,words", ELEMENTWISE)
def test_random_access_tail_equals_draw_at_later_position(method, kwargs, words):
    per_block = 4 // words
    full = draw(ss.Generator(3), method, kwargs, 1000)
    for blocks in [1, 7, 100]:
        tail = draw(ss.Generator(3).advance(blocks), method, kwargs, 1000 - blocks * per_block)
        assert np.array_equal(tail, full[blocks * per_block :])


def test_multidimensional_size_is_c_order():
    a = ss.Generator(2).random((3, 4, 5))
    assert a.shape == (3, 4, 5)
    assert np.array_equal(a.ravel(), ss.Generator(2).random(60))


def test_scalars_match_first_element():
    for method, kwargs, _ in ELEMENTWISE:
        s = draw(ss.Generator(8), method, kwargs, None)
        arr = draw(ss.Generator(8), method, kwargs, 1)
        assert np.ndim(s) == 0
        assert s == arr[0]
        assert np.asarray(s).dtype == arr.dtype


def test_integers_single_argument_and_bounds():
    g = ss.Generator(4)
    x = g.integers(10, size=10000)
    assert x.min() == 0 and x.max() == 9
    y = g.integers(-3, 3, size=10000, endpoint=True, dtype=np.int16)
    assert y.dtype == np.int16 and y.min() == -3 and y.max() == 3
    for dt in [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]:
        info = np.iinfo(dt)
        z = g.integers(info.min, info.max, size=5000, dtype=dt, endpoint=True)
        assert z.dtype == dt
        lo = g.integers(info.min, info.min + 1, size=3, dtype=dt)
        assert (lo == info.min).all()


def test_random_range():
    for dt in [np.float32, np.float64]:
        x = ss.Generator(1).random(100000, dtype=dt)
        assert x.dtype == dt and x.min() >= 0 and x.max() < 1


def test_bernoulli_extremes():
    g = ss.Generator(1)
    assert not g.bernoulli(0.0, size=1000).any()
    assert g.bernoulli(1.0, size=1000).all()
    assert g.bernoulli(1, size=4).dtype == np.bool_


@pytest.mark.parametrize("method,kwargs,words", ELEMENTWISE)
def test_out_is_filled_in_place(method, kwargs, words):
    fresh = draw(ss.Generator(6), method, kwargs, (7, 9))
    out = np.empty((7, 9), fresh.dtype)
    res = getattr(ss.Generator(6), method)(out=out, **kwargs)
    assert res is out
    assert np.array_equal(out, fresh)
    same_size = getattr(ss.Generator(6), method)(size=(7, 9), out=np.empty_like(out), **kwargs)
    assert np.array_equal(same_size, fresh)


def test_permutation_and_shuffle_agree():
    p = ss.Generator(12).permutation(1000)
    assert sorted(p.tolist()) == list(range(1000)) and p.dtype == np.int64
    x = np.arange(1000.0) * 3
    ss.Generator(12).shuffle(x)
    assert np.array_equal(x, np.arange(1000.0)[p] * 3)
    arr2 = np.arange(3000).reshape(1000, 3)
    assert np.array_equal(ss.Generator(12).permutation(arr2), arr2[p])
    rows = arr2.copy()
    ss.Generator(12).shuffle(rows)
    assert np.array_equal(rows, arr2[p])
    lst = list(range(1000))
    ss.Generator(12).shuffle(lst)
    assert lst == p.tolist()
    obj = np.array([str(i) for i in range(1000)], dtype=object)
    ss.Generator(12).shuffle(obj)
    assert obj.tolist() == [str(i) for i in p]
    strided = np.arange(2000)[::2].copy()
    view = np.arange(2000)[::2]
    ss.Generator(12).shuffle(view)
    assert np.array_equal(view, strided[p])


@pytest.mark.parametrize("row_shape", [(), (1,), (2,), (3,), (5, 7)])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.complex128, np.bool_])
def test_shuffle_rows_of_any_width(row_shape, dtype):
    n = 37
    base = (np.arange(n * int(np.prod(row_shape, dtype=int))) % 251).astype(dtype).reshape((n,) + row_shape)
    p = ss.Generator(77).permutation(n)
    x = base.copy()
    ss.Generator(77).shuffle(x)
    assert np.array_equal(x, base[p])


class _Tagged(np.ndarray):
    """A subclass NumPy knows nothing about."""


def _odd_arrays(tmp_path):
    """(name, array to shuffle in place, its rows as a plain array) for ndarray subclasses
    and views that a byte-moving shuffle could miss or only copy."""
    n = 37
    out = []
    for cols, dtype in [(1, np.uint8), (1, np.uint16), (3, np.uint8), (2, np.float64)]:
        plain = (np.arange(n * cols) % 251).astype(dtype).reshape(n, cols)
        out.append((f"matrix-{cols}x{np.dtype(dtype).name}", plain.copy().view(np.matrix), plain))
    mm = np.memmap(tmp_path / "rows.bin", dtype=np.uint8, mode="w+", shape=(n, 1))
    mm[:, 0] = np.arange(n)
    out.append(("memmap", mm, np.asarray(mm).copy()))
    rec = np.rec.fromarrays([np.arange(n, dtype=np.int8), np.arange(n) * 2.0], names="a,b")
    out.append(("recarray", rec, np.asarray(rec).copy()))
    out.append(("subclass", np.arange(n, dtype=np.uint8).view(_Tagged), np.arange(n, dtype=np.uint8)))
    unaligned = np.frombuffer(bytearray(4 * n + 1), np.uint32, offset=1)
    unaligned[:] = np.arange(n)
    assert not unaligned.flags.aligned
    out.append(("unaligned", unaligned, np.arange(n, dtype=np.uint32)))
    return out


def test_shuffle_in_place_for_subclasses_and_views(tmp_path):
    p = ss.Generator(21).permutation(37)
    for name, x, plain in _odd_arrays(tmp_path):
        kind = type(x)
        ss.Generator(21).shuffle(x)
        assert type(x) is kind
        assert np.array_equal(np.asarray(x), plain[p]), name
    # A masked array's mask moves with its data.
    m = np.ma.masked_array(np.arange(37, dtype=np.uint8), mask=np.arange(37) % 5 == 0)
    ss.Generator(21).shuffle(m)
    assert np.array_equal(m.data, np.arange(37)[p])
    assert np.array_equal(m.mask, (np.arange(37) % 5 == 0)[p])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_state_copy_pickle_continue_bit_for_bit(algorithm):
    g = ss.Generator("ckpt", algorithm=algorithm).child("x")
    g.random(13)
    restored = [
        ss.Generator.from_state(g.state),
        copy.copy(g),
        copy.deepcopy(g),
        pickle.loads(pickle.dumps(g)),
    ]
    want = g.integers(0, 10**9, size=100)
    for r in restored:
        assert np.array_equal(r.integers(0, 10**9, size=100), want)
        assert r.position == g.position and r.key == g.key and r.algorithm == algorithm


def test_state_is_plain_and_documented():
    st = ss.Generator(1).advance(5).state
    assert st == {"version": 1, "algorithm": "philox", "key": ss.Generator(1).key, "position": 5}
    assert "Generator(algorithm='philox'" in repr(ss.Generator(1))


def test_advance_equals_drawing():
    a = ss.Generator(10)
    a.bits(4 * 17)
    b = ss.Generator(10).advance(17)
    assert a.position == b.position == 17
    assert np.array_equal(a.random(10), b.random(10))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("method,kwargs,words", ELEMENTWISE)
def test_thread_count_and_chunk_size_do_not_change_bits(threads, algorithm, method, kwargs, words):
    n = 20_011
    ss.set_num_threads(1)
    want = draw(ss.Generator(21, algorithm=algorithm).advance(3), method, kwargs, n)
    for t in [1, 2, 7]:
        for chunk in [1, 3, 64, 1000, 1 << 14]:
            ss.set_num_threads(t)
            _core._set_chunk_blocks(chunk)
            got = draw(ss.Generator(21, algorithm=algorithm).advance(3), method, kwargs, n)
            assert np.array_equal(got, want), (t, chunk)


@pytest.mark.parametrize("level", ["scalar", "baseline", "avx2", "avx512"])
@pytest.mark.parametrize("method,kwargs,words", ELEMENTWISE)
def test_simd_levels_give_identical_bits(threads, level, method, kwargs, words):
    _core._set_simd_level("scalar")
    want = draw(ss.Generator(31).advance(1), method, kwargs, 4097)
    if not _core._set_simd_level(level):
        pytest.skip(f"this CPU lacks {level}")
    assert ss.simd_level() == level
    got = draw(ss.Generator(31).advance(1), method, kwargs, 4097)
    assert np.array_equal(got, want)


def test_large_parallel_fill_matches_serial(threads):
    ss.set_num_threads(1)
    want = ss.Generator(5).random(1_000_003, dtype=np.float32)
    ss.set_num_threads(2)
    assert np.array_equal(ss.Generator(5).random(1_000_003, dtype=np.float32), want)


def test_num_threads_roundtrip(threads):
    ss.set_num_threads(3)
    assert ss.get_num_threads() == 3


def test_concurrent_draws_never_tear_state():
    """Each draw reserves its blocks atomically: the draws of 8 threads tile the stream."""
    g = ss.Generator(99)
    n_threads, draws, size = 8, 50, 1000  # 250 blocks per uint32 draw
    results = [[] for _ in range(n_threads)]
    barrier = threading.Barrier(n_threads)

    def work(i):
        barrier.wait()
        for _ in range(draws):
            results[i].append(g.bits(size))

    ts = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    total = n_threads * draws
    assert g.position == total * size // 4
    whole = ss.Generator(99).bits(total * size).reshape(total, size)
    expected = {row.tobytes() for row in whole}
    got = [a.tobytes() for r in results for a in r]
    assert len(set(got)) == total and set(got) == expected


def test_standard_normal_is_normal_0_1_and_uniform_0_1_is_random():
    for dt in (np.float64, np.float32, np.float16, ml_dtypes.bfloat16):
        a = ss.Generator(4).standard_normal(1001, dtype=dt)
        b = ss.Generator(4).normal(0.0, 1.0, 1001, dtype=dt)
        assert a.tobytes() == b.tobytes()
        assert not np.signbit(a[a == 0]).any()  # never -0.0
    for dt in (np.float64, np.float32):
        assert ss.Generator(4).uniform(size=999, dtype=dt).tobytes() == ss.Generator(4).random(999, dtype=dt).tobytes()


def test_sixteen_bit_formats_round_the_float32_sample():
    """float16 and bfloat16 elements are the float32 element rounded to nearest even."""
    for method, kw in [("standard_normal", {}), ("normal", {"loc": 3.0, "scale": 1e3}),
                       ("uniform", {"low": -1.0, "high": 1.0}), ("truncated_normal", {"scale": 0.5})]:
        x32 = getattr(ss.Generator(9), method)(size=5000, dtype=np.float32, **kw)
        h = getattr(ss.Generator(9), method)(size=5000, dtype=np.float16, **kw)
        b = getattr(ss.Generator(9), method)(size=5000, dtype=ml_dtypes.bfloat16, **kw)
        with np.errstate(over="ignore"):
            assert h.tobytes() == x32.astype(np.float16).tobytes(), method
        assert b.tobytes() == x32.astype(ml_dtypes.bfloat16).tobytes(), method


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, ml_dtypes.bfloat16])
def test_bounds_hold_after_rounding(dtype):
    """Truncated normal (every dtype) and uniform (float64, float32) never leave [a, b] /
    [low, high], even where the bounds are not values of the format."""
    a, b = 0.1, 0.30000000000000004
    x = ss.Generator(3).truncated_normal(0.2, 10.0, a, b, size=100_000, dtype=dtype).astype(np.float64)
    assert x.min() >= a and x.max() <= b
    u = ss.Generator(3).uniform(a, b, size=100_000, dtype=dtype)
    if np.dtype(dtype).itemsize >= 4:
        assert u.astype(np.float64).min() >= a and u.astype(np.float64).max() <= b
    else:  # 16-bit uniform is the float32 sample cast (docs/spec.md#uniform-v1)
        u32 = ss.Generator(3).uniform(a, b, size=100_000, dtype=np.float32)
        assert u.tobytes() == u32.astype(dtype).tobytes()
    # a = 8 sigma: all samples in [8, 9], most of them near 8
    t = ss.Generator(3).truncated_normal(0.0, 1.0, 8.0, 9.0, size=100_000, dtype=dtype).astype(np.float64)
    assert t.min() >= 8.0 and t.max() <= 9.0 and np.median(t) < 8.2


def test_normal_with_zero_scale_is_loc():
    assert (ss.Generator(1).normal(2.5, 0.0, 100) == 2.5).all()


def test_bernoulli_per_element_probabilities():
    p = np.linspace(0.0, 1.0, 1001).reshape(7, 143)
    got = ss.Generator(4).bernoulli(p)
    assert got.shape == (7, 143) and got.dtype == np.bool_
    assert not got[0, 0] and got[-1, -1]
    # Same words as scalar draws: with a constant p both agree.
    assert np.array_equal(ss.Generator(4).bernoulli(np.full(500, 0.3)), ss.Generator(4).bernoulli(0.3, size=500))
    g = ss.Generator(4)
    g.bernoulli(p)
    assert g.position == -(-1001 // 4)
    assert ss.Generator(4).bernoulli(np.array(0.3)) == ss.Generator(4).bernoulli(0.3)


def test_stream_is_the_generators_own_handle():
    g = ss.Generator(7)
    s = g.stream
    g.bits(8)
    assert s.position == g.position == 2
    h = ss.Generator.from_stream(s.child(["a"]))
    assert h == g.child("a") and h.seed is None
    h.bits(4)
    assert h.stream.position == 1 and g.child("a").position == 0
    # from_stream shares: draws through either move both.
    same = ss.Generator.from_stream(g.stream)
    same.bits(4)
    assert g.position == 3
