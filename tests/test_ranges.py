"""Random access: a range or box of a draw equals the slice of the full draw."""

import ml_dtypes
import numpy as np
import pytest

import seedstream
from seedstream import Generator, fill_box, fill_range

F = (np.float64, np.float32, np.float16, ml_dtypes.bfloat16)
CASES = (
    [("bits", (), {}, d) for d in (np.uint32, np.uint64)]
    + [("random", (), {}, d) for d in (np.float64, np.float32)]
    + [("uniform", (-0.5, 2.0), {}, d) for d in F]
    + [("standard_normal", (), {}, d) for d in F]
    + [("normal", (0.25, 0.02), {}, d) for d in F]
    + [("truncated_normal", (0.0, 1.0, -2.0, 2.0), {}, d) for d in F]
    + [("truncated_normal", (0.0, 1.0, 40.0, 41.0), {}, d) for d in (np.float64, np.float32)]
    + [("integers", (-7, 1000), {}, d) for d in (np.int64, np.int32, np.int16)]
    + [("integers", (3, 200), {}, np.uint8)]
    + [("integers", (0, 2**64 - 1), {"endpoint": True}, np.uint64)]
    + [("bernoulli", (0.3,), {}, np.bool_)]
)


def full_draw(g, method, args, kwargs, n, dtype):
    out = np.empty(n, dtype=dtype)
    if method == "bernoulli":
        return getattr(g, method)(*args, out=out, **kwargs)
    return getattr(g, method)(*args, dtype=dtype, out=out, **kwargs)


@pytest.mark.parametrize("method, args, kwargs, dtype", CASES)
def test_range_equals_slice_of_full_draw(method, args, kwargs, dtype):
    g = Generator(11).child("w").advance(3)
    n = 37
    full = full_draw(g.child("x"), method, args, kwargs, n, dtype)
    for start in range(0, n):
        for stop in sorted({start, start + 1, start + 2, start + 3, start + 5, n}):
            if stop > n:
                continue
            out = np.empty(stop - start, dtype=dtype)
            fill_range(g.child("x"), method, start, out, *args, **kwargs)
            assert out.tobytes() == full[start:stop].tobytes(), (start, stop)


@pytest.mark.parametrize("method, args, kwargs, dtype", CASES)
def test_range_at_nonzero_position_leaves_position(method, args, kwargs, dtype):
    g = Generator("k", algorithm="pcg64").advance(5)
    full = full_draw(Generator("k", algorithm="pcg64").advance(5), method, args, kwargs, 23, dtype)
    out = np.empty(9, dtype=dtype)
    fill_range(g, method, 13, out, *args, **kwargs)
    assert out.tobytes() == full[13:22].tobytes()
    assert g.position == 5


@pytest.mark.parametrize("shape, offset, local", [
    ((7, 5), (0, 1), (7, 3)),      # Shard(1): a segment of every row
    ((7, 5), (3, 0), (4, 5)),      # Shard(0): one run
    ((7, 5), (2, 3), (3, 2)),
    ((3, 4, 5), (1, 1, 2), (2, 3, 3)),
    ((3, 4, 5), (0, 2, 0), (3, 2, 5)),
    ((9,), (5,), (3,)),
    ((4, 6), (0, 0), (4, 6)),
    ((9, 7), (0, 3), (9, 1)),      # runs of one element: each lead reaches several runs back
    ((5, 6, 3), (1, 2, 1), (3, 3, 1)),
    ((6, 2), (0, 1), (6, 1)),
])
@pytest.mark.parametrize("method, args, kwargs, dtype", [
    ("normal", (0.0, 1.0), {}, np.float32), ("normal", (0.0, 1.0), {}, np.float64),
    ("truncated_normal", (0.0, 0.02, -0.04, 0.04), {}, ml_dtypes.bfloat16),
    ("uniform", (-1.0, 1.0), {}, np.float16), ("integers", (0, 10), {}, np.int64),
    ("bernoulli", (0.5,), {}, np.bool_), ("bits", (), {}, np.uint32), ("bits", (), {}, np.uint64),
    ("random", (), {}, np.float32), ("random", (), {}, np.float64),
])
def test_box_equals_slice_of_full_draw(shape, offset, local, method, args, kwargs, dtype):
    g = Generator(3)
    full = full_draw(Generator(3), method, args, kwargs, int(np.prod(shape)), dtype).reshape(shape)
    out = np.empty(local, dtype=dtype)
    fill_box(g, method, shape, offset, out, *args, **kwargs)
    box = tuple(slice(o, o + n) for o, n in zip(offset, local))
    assert out.tobytes() == np.ascontiguousarray(full[box]).tobytes()


def test_box_leaves_position_and_other_memory():
    g = Generator(8).advance(2)
    full = Generator(8).advance(2).normal(0.0, 1.0, size=(40, 30), dtype=np.float32)
    buf = np.full(8 * 11 + 2, 7.0, dtype=np.float32)
    out = buf[1:-1].reshape(8, 11)
    fill_box(g, "normal", (40, 30), (5, 13), out, 0.0, 1.0)
    assert out.tobytes() == np.ascontiguousarray(full[5:13, 13:24]).tobytes()
    assert buf[0] == 7.0 and buf[-1] == 7.0
    assert g.position == 2


def test_core_runs_are_checked():
    s = Generator(0)._stream
    out = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="^runs:"):
        s.fill_random_f32(out, np.array([[1, 0, 2]], np.uint64))  # its lead has no place
    with pytest.raises(ValueError, match="^runs:"):
        s.fill_random_f32(out, np.array([[0, 2, 3]], np.uint64))  # past the end of out
    with pytest.raises(ValueError, match="^runs:"):
        s.fill_random_f32(out, np.array([[0, 2]], np.uint64))
    s.fill_random_f32(out, np.array([[4, 0, 2], [9, 2, 2]], np.uint64))
    full = Generator(0).random(12, dtype=np.float32)
    assert out.tobytes() == np.concatenate([full[4:6], full[9:11]]).tobytes()
    assert s.position == 0


def test_run_table_covers_the_box():
    from seedstream._ranges import run_table

    assert run_table((7, 5), (0, 1), (7, 3)).tolist()[:2] == [[1, 0, 3], [6, 3, 3]]
    assert run_table((7, 5), (3, 0), (4, 5)).tolist() == [[15, 0, 20]]
    assert run_table((3, 4, 5), (1, 1, 0), (2, 2, 5)).tolist() == [[25, 0, 10], [45, 10, 10]]
    assert run_table((4,), (0,), (4,)).tolist() == [[0, 0, 4]]


def test_errors_name_the_argument():
    g = Generator(0)
    with pytest.raises(ValueError, match="^method:"):
        fill_range(g, "poisson", 0, np.empty(3))
    with pytest.raises(ValueError, match="^start:"):
        fill_range(g, "random", -1, np.empty(3))
    with pytest.raises(TypeError, match="^out:"):
        fill_range(g, "random", 0, [0.0])
    with pytest.raises(TypeError, match="^generator:"):
        fill_range(np.random.default_rng(), "random", 0, np.empty(3))
    with pytest.raises(ValueError, match="^offset:"):
        fill_box(g, "random", (4, 4), (3, 0), np.empty((2, 4)))
    with pytest.raises(ValueError, match="^p:"):
        fill_range(g, "bernoulli", 0, np.empty(3, bool), np.full(3, 0.5))


def test_exported():
    assert seedstream.fill_range is fill_range and seedstream.fill_box is fill_box


def test_box_of_a_draw_past_2_64_elements_is_refused():
    g = Generator(0)
    with pytest.raises(ValueError, match="^shape:"):
        fill_box(g, "random", (2**40, 2**40), (2**30, 0), np.empty((1, 4)))


def test_core_box_runs_and_their_placement():
    from seedstream import _core

    assert _core.box_runs((3, 4, 5), (1, 1, 0), (2, 2, 5)).tolist() == [[25, 0, 10], [45, 10, 10]]
    assert _core.box_runs((), (), ()).tolist() == [[0, 0, 1]]
    with pytest.raises(ValueError, match="^offset:"):
        _core.box_runs((4, 4), (3, 0), (2, 4))
    with pytest.raises(ValueError, match="^shape:"):
        _core.box_runs((4, 4), (3,), (1, 4))
    # float32, 4 per block: element 5 needs one place before it for element 4.
    runs = np.array([[5, 0, 2], [5, 1, 2], [8, 0, 1]], np.uint64)
    assert _core.runs_in_place(runs, 1).tolist() == [False, True, True]
    assert _core.runs_in_place(runs, 4).tolist() == [True, True, True]
    with pytest.raises(ValueError, match="^words_per_element:"):
        _core.runs_in_place(runs, 3)
    with pytest.raises(ValueError, match="^runs:"):
        _core.runs_in_place(runs[:, :2].copy(), 1)
