"""Generator.bit_generator(): a seedstream stream read by numpy.random.Generator
(docs/spec.md#stream-bit-generator)."""

import copy
import pickle
import threading

import numpy as np
import pytest

import seedstream as ss


@pytest.mark.parametrize("algorithm", ["philox", "pcg64"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 255, 256, 257, 1001])
def test_raw_outputs_are_the_uint64_bits(algorithm, n):
    g = ss.Generator("data", algorithm=algorithm).child("numpy")
    bg = g.bit_generator()
    assert np.array_equal(bg.random_raw(n), g.bits(n, dtype=np.uint64))


@pytest.mark.parametrize("algorithm", ["philox", "pcg64"])
def test_starts_at_the_current_position_and_does_not_move_it(algorithm):
    g = ss.Generator(7, algorithm=algorithm)
    g.random(5)  # position 3
    bg = g.bit_generator()
    assert g.position == 3
    assert bg.state["state"]["position"] == 3 and bg.state["state"]["word"] == 0
    first = bg.random_raw(301)
    assert g.position == 3
    assert np.array_equal(first, g.bits(301, dtype=np.uint64))
    st = bg.state["state"]
    assert (st["position"], st["word"]) == (3 + 150, 2)  # 301 values: 150 blocks and a half


def test_spec_known_answer():
    """docs/spec.md: seed 42, philox, bits(4) is 0x521f8f59 0x8a4a89ca 0x5d29f4b9 0x56923985."""
    bg = ss.Generator(42).bit_generator()
    assert bg.random_raw(2).tolist() == [0x8A4A89CA521F8F59, 0x569239855D29F4B9]


def test_numpy_mappings_of_the_words():
    """NumPy's Generator maps next_double to (u64 >> 11) * 2**-53 and next_uint32 to the
    32-bit words in stream order (low half first)."""
    g = ss.Generator(11).child("m")
    words = copy.copy(g).bits(2000, dtype=np.uint32)
    values = copy.copy(g).bits(1000, dtype=np.uint64)
    rng = np.random.Generator(g.bit_generator())
    assert np.array_equal(rng.random(1000), (values >> np.uint64(11)) * 2.0**-53)
    rng = np.random.Generator(g.bit_generator())
    assert np.array_equal(rng.random(2000, dtype=np.float32), ((words >> np.uint32(8)) * 2.0**-24).astype(np.float32))


def test_numpy_distributions_are_reproducible():
    a = np.random.Generator(ss.Generator(1).child("data").bit_generator())
    b = np.random.Generator(ss.Generator(1).child("data").bit_generator())
    assert np.array_equal(a.normal(size=1000), b.normal(size=1000))
    assert np.array_equal(a.integers(0, 10, size=99, dtype=np.int32), b.integers(0, 10, size=99, dtype=np.int32))
    assert a.bit_generator.state == b.bit_generator.state
    c = np.random.Generator(ss.Generator(1).child("other").bit_generator())
    assert not np.array_equal(a.random(8), c.random(8))


def test_state_round_trip_with_buffered_half():
    bg = ss.Generator(5).bit_generator()
    rng = np.random.Generator(bg)
    rng.integers(0, 5, size=3, dtype=np.uint32)  # three halves: one buffered
    st = bg.state
    assert st["has_uint32"] == 1
    other = ss.Generator(99).bit_generator()
    other.state = st
    assert other.state == st
    assert np.array_equal(np.random.Generator(other).integers(0, 2**32, size=9, dtype=np.uint32),
                          rng.integers(0, 2**32, size=9, dtype=np.uint32))


def test_state_near_the_last_block_continues_with_block_zero():
    g = ss.Generator(3)
    bg = g.bit_generator()
    st = bg.state
    st["state"]["position"] = 2**64 - 1
    st["state"]["word"] = 2
    bg.state = st
    # Block 2**64 - 1 is past every Generator draw; compute it alone (docs/spec.md#blocks).
    w = g._stream.block(2**64 - 1)
    assert bg.random_raw() == w[2] | w[3] << 32
    assert np.array_equal(bg.random_raw(4), ss.Generator(3).bits(4, dtype=np.uint64))


@pytest.mark.parametrize(
    "mutate,exc,match",
    [(lambda s: s["state"].update(word=1), ValueError, "word"),
     (lambda s: s["state"].update(word=None), ValueError, "word"),
     (lambda s: s["state"].update(position=2**64), OverflowError, "position"),
     (lambda s: s["state"].update(key=-1), OverflowError, "key"),
     (lambda s: s["state"].update(algorithm="mt"), ValueError, "algorithm"),
     (lambda s: s.update(bit_generator="PCG64"), ValueError, "StreamBitGenerator"),
     (lambda s: s.update(has_uint32=3), ValueError, "has_uint32")],
)
def test_bad_states(mutate, exc, match):
    bg = ss.Generator(1).bit_generator()
    st = bg.state
    before = copy.deepcopy(st)
    mutate(st)
    with pytest.raises(exc, match=match):
        bg.state = st
    assert bg.state == before


def test_needs_a_seedstream_generator():
    with pytest.raises(TypeError, match="generator"):
        ss.StreamBitGenerator(np.random.default_rng(1))


def test_pickle_copy_and_numpy_generator_pickle():
    bg = ss.Generator(8, algorithm="pcg64").child("x").bit_generator()
    bg.random_raw(3)
    want = copy.deepcopy(bg).random_raw(10)
    for clone in (pickle.loads(pickle.dumps(bg)), copy.copy(bg)):
        assert clone.state == bg.state
        assert np.array_equal(clone.random_raw(10), want)
    rng = np.random.Generator(bg)
    restored = pickle.loads(pickle.dumps(rng))
    assert np.array_equal(restored.random(5), rng.random(5))


def test_spawn_gives_child_streams_numbered_on():
    g = ss.Generator(4)
    bg = g.bit_generator()
    kids = bg.spawn(2) + bg.spawn(1)
    for i, kid in enumerate(kids):
        assert np.array_equal(kid.random_raw(5), g.child(i).bits(5, dtype=np.uint64))
    assert np.array_equal(np.random.Generator(g.bit_generator()).spawn(1)[0].bit_generator.random_raw(3),
                          g.child(0).bits(3, dtype=np.uint64))
    assert bg.seed_seq is None


def test_threads_share_one_stream_bit_generator():
    g = ss.Generator(12)
    bg = g.bit_generator()
    rng = np.random.Generator(bg)
    chunk, rounds, n_threads = 512, 30, 4
    out = [[] for _ in range(n_threads)]

    def work(t):
        for _ in range(rounds):
            out[t].append(rng.random(chunk))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = chunk * rounds * n_threads
    doubles = ((g.bits(total, dtype=np.uint64) >> np.uint64(11)) * 2.0**-53).reshape(-1, chunk)
    index = {row.tobytes(): i for i, row in enumerate(doubles)}
    assert sorted(index[o.tobytes()] for res in out for o in res) == list(range(len(doubles)))


def test_advance_skips_values_forward_only():
    g = ss.Generator(6)
    a, b = g.bit_generator(), g.bit_generator()
    np.random.Generator(a).integers(0, 3, dtype=np.uint32)  # a buffered half, which advance empties
    a.advance(0)
    assert a.state["has_uint32"] == 0
    b.random_raw(1)
    assert a.advance(301) is a
    b.random_raw(301)
    assert a.state == b.state
    assert np.array_equal(a.random_raw(5), b.random_raw(5))


@pytest.mark.parametrize("delta,exc", [(-1, ValueError), (2**65, ValueError), (2**200, ValueError),
                                       (1.5, TypeError), (None, TypeError)])
def test_bad_advance(delta, exc):
    bg = ss.Generator(6).bit_generator()
    before = bg.state
    with pytest.raises(exc, match="delta"):
        bg.advance(delta)
    assert bg.state == before


def test_advance_past_the_last_block_is_refused():
    bg = ss.Generator(6).bit_generator()
    st = bg.state
    st["state"]["position"] = 2**64 - 2
    bg.state = st
    bg.advance(3)
    assert (bg.state["state"]["position"], bg.state["state"]["word"]) == (2**64 - 1, 2)
    with pytest.raises(ValueError, match="delta"):
        bg.advance(1)


def test_negative_spawn_is_an_overflow_error_as_numpy():
    bg = ss.Generator(1).bit_generator()
    with pytest.raises(OverflowError, match="n_children"):
        bg.spawn(-1)
    assert bg.spawn(1)[0].state["state"]["key"] == ss.Generator(1).child(0).key


def test_algorithm_names_in_state():
    bg = ss.Generator(1, algorithm="pcg64-stream").bit_generator()
    st = bg.state
    assert st["state"]["algorithm"] == "pcg64"
    twin = ss.Generator(2).bit_generator()
    st["state"]["algorithm"] = "pcg64-stream"
    twin.state = st
    assert np.array_equal(twin.random_raw(4), bg.random_raw(4))
