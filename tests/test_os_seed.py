"""Unseeded but reproducible: Generator() draws its seed from the OS and records it."""

import copy
import logging
import pickle
import random

import numpy as np
import pytest

import seedstream as ss


def test_unseeded_generator_records_a_seed_that_reproduces_it():
    g = ss.Generator()
    assert isinstance(g.seed, str) and len(g.seed) == 32 and int(g.seed, 16) >= 0
    again = ss.Generator(g.seed)
    assert again == g and again.key == g.key
    assert np.array_equal(again.random(50), g.random(50))
    assert ss.Generator().seed != g.seed  # 128 fresh bits each time


@pytest.mark.parametrize("algorithm", ["philox", "pcg64"])
def test_seed_in_repr_and_state(algorithm):
    g = ss.Generator(algorithm=algorithm)
    assert f"seed={g.seed!r}" in repr(g)
    st = g.advance(3).state
    assert st["seed"] == g.seed and st["version"] == 1
    back = ss.Generator.from_state(st)
    assert back == g and back.seed == g.seed and back.state == st
    assert ss.Generator(st["seed"], algorithm=algorithm).advance(3) == g


def test_chosen_seeds_keep_their_keys_and_state_dict():
    # An OS seed is an ordinary str seed: no existing key or state dict changes.
    assert ss.Generator(42).key.to_bytes(32, "little").hex() == (
        "3d377b65781f506feccc43876d9273beff767950ffa08f917ac495853e49bc10"
    )
    g = ss.Generator(42)
    assert g.seed == 42 and "seed" not in g.state and "seed=42" in repr(g)
    assert ss.Generator("run-7").seed == "run-7"
    assert g.child("a").seed is None


def test_copy_and_pickle_keep_the_seed():
    for g in (ss.Generator(), ss.Generator(7), ss.Generator("x")):
        for c in (copy.copy(g), copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
            assert c == g and c.seed == g.seed and c.state == g.state


def test_state_without_seed_still_loads_and_bad_seed_is_rejected():
    old = {"version": 1, "algorithm": "philox", "key": ss.Generator(1).key, "position": 2}
    g = ss.Generator.from_state(old)
    assert g.seed is None and g.state == old
    with pytest.raises(ValueError, match="state"):
        ss.Generator.from_state({**old, "seed": "not the seed of this key"})
    with pytest.raises(ValueError, match="state"):
        ss.Generator.from_state({**old, "seed": 2**64})
    with pytest.raises(TypeError, match="state"):  # a wrong type: NumPy's rule
        ss.Generator.from_state({**old, "seed": 1.0})


def test_explicit_none_is_still_an_error():
    with pytest.raises(TypeError, match="seed"):
        ss.Generator(None)


def test_os_seed_is_logged_once(caplog):
    with caplog.at_level(logging.INFO, logger="seedstream"):
        g = ss.Generator()
        ss.Generator(5)
    records = [r for r in caplog.records if r.name == "seedstream"]
    assert len(records) == 1 and g.seed in records[0].getMessage()


def test_seed_everything_without_seed_reruns_from_the_logged_seed(caplog):
    with caplog.at_level(logging.INFO, logger="seedstream"):
        root = ss.seed_everything()
    assert [r.getMessage().count(root.seed) > 0 for r in caplog.records if r.name == "seedstream"] == [True]
    first = (random.random(), np.random.random())
    assert ss.seed_everything(root.seed) == root
    assert (random.random(), np.random.random()) == first
