"""Property-based checks of the stream contract over random seeds, positions and sizes."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import seedstream as ss

seeds = st.one_of(st.integers(0, 2**64 - 1), st.text(max_size=20))
names = st.lists(st.one_of(st.integers(0, 2**64 - 1), st.text(max_size=8), st.binary(max_size=8)),
                 min_size=1, max_size=3)
METHODS = [
    lambda g, n: g.bits(n),
    lambda g, n: g.bits(n, dtype=np.uint64),
    lambda g, n: g.random(n, dtype=np.float32),
    lambda g, n: g.random(n),
    lambda g, n: g.integers(-3, 2**40, size=n),
    lambda g, n: g.bernoulli(0.37, size=n),
]


@settings(max_examples=60, deadline=None)
@given(seed=seeds, path=names, position=st.integers(0, 2**64 - 10**6), n=st.integers(0, 3000),
       k=st.integers(0, 3000), method=st.sampled_from(range(len(METHODS))))
def test_prefix_and_position(seed, path, position, n, k, method):
    k = min(k, n)
    draw = METHODS[method]
    big_gen = ss.Generator(seed).child(*path).advance(position)
    big = draw(big_gen, n)
    small = draw(ss.Generator(seed).child(*path).advance(position), k)
    assert np.array_equal(small, big[:k])
    assert big_gen.position >= position


@settings(max_examples=40, deadline=None)
@given(seed=seeds, algorithm=st.sampled_from(["philox", "pcg64"]), before=st.integers(0, 999))
def test_state_round_trip_continues(seed, algorithm, before):
    g = ss.Generator(seed, algorithm=algorithm)
    g.random(before)
    h = ss.Generator.from_state(g.state)
    assert np.array_equal(g.bits(17), h.bits(17))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, path=names)
def test_child_path_is_associative(seed, path):
    g = ss.Generator(seed)
    chained = g
    for name in path:
        chained = chained.child(name)
    assert chained.key == g.child(*path).key
