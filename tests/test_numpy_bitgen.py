"""seedstream.PCG64, PCG64DXSM and Philox against NumPy's own bit generators: raw outputs,
Generator draws, state dicts, advance and jumps, pickling, spawning, errors and locking.

One base class holds the checks; a subclass per family names the pair of classes (the
layout of numpy/random/tests/test_direct.py)."""

import copy
import pickle
import threading

import numpy as np
import pytest

import seedstream as ss

SEEDS = [0, 1, 42, 0xDEADBEAF, 2**64 - 1, 2**200 + 12345, [1, 2, 3], [2**40, 0], np.arange(6, dtype=np.uint32)]


def _read_csv(path):
    lines = path.read_text().splitlines()
    seed = int(lines[0].split(",")[1].strip(), 0)
    data = [int(line.split(",")[-1].strip(), 0) for line in lines[1:]]
    return seed, np.array(data, dtype=np.uint64)


def _same_state(a, b):
    """State dicts equal value for value (Philox's hold arrays, so compare their repr)."""
    return repr(a) == repr(b)


# Draws that exercise every bitgen_t entry point: next_double (random, normal), next_uint32
# (float32, small-range integers, bool), next_uint64 (64-bit integers) and mixtures of them
# that leave NumPy's 32-bit half buffered.
DRAWS = [
    ("random", lambda g: g.random(1001)),
    ("normal", lambda g: g.normal(size=1001)),
    ("float32", lambda g: g.random(1001, dtype=np.float32)),
    ("int32", lambda g: g.integers(0, 10, size=1001, dtype=np.int32)),
    ("int8", lambda g: g.integers(-5, 5, size=77, dtype=np.int8)),
    ("bool", lambda g: g.integers(0, 2, size=33, dtype=bool)),
    ("uint64", lambda g: g.integers(0, 2**63 + 5, size=99, dtype=np.uint64)),
    ("exponential", lambda g: g.standard_exponential(501)),
    ("gamma", lambda g: g.gamma(0.5, size=501)),
    ("scalar uint32", lambda g: g.integers(0, 7, dtype=np.uint32)),
    ("choice", lambda g: g.choice(1000, 20, replace=False)),
    ("permutation", lambda g: g.permutation(257)),
    ("binomial", lambda g: g.binomial(100, 0.3, size=100)),
]


class Base:
    ours: type
    theirs: type
    stem: str

    # -- raw outputs ---------------------------------------------------------------------
    @pytest.mark.parametrize("seed", SEEDS, ids=repr)
    def test_random_raw_matches_numpy(self, seed):
        assert np.array_equal(self.ours(seed).random_raw(1000), self.theirs(seed).random_raw(1000))

    def test_seed_sequences_of_either_library(self):
        want = self.theirs(np.random.SeedSequence(9, spawn_key=(1, 2))).random_raw(100)
        assert np.array_equal(self.ours(np.random.SeedSequence(9, spawn_key=(1, 2))).random_raw(100), want)
        assert np.array_equal(self.ours(ss.SeedSequence(9, spawn_key=(1, 2))).random_raw(100), want)

    def test_random_raw_scalar_and_shapes(self):
        a, b = self.ours(5), self.theirs(5)
        x = a.random_raw()
        assert type(x) is int and x == b.random_raw()
        r = a.random_raw((3, 4))
        assert r.shape == (3, 4) and r.dtype == np.uint64
        assert np.array_equal(r, b.random_raw((3, 4)))
        assert a.random_raw(0).shape == (0,)
        assert _same_state(a.state, b.state)

    def test_random_raw_without_output_skips_like_numpy(self):
        a, b = self.ours(5), self.theirs(5)
        assert a.random_raw(output=False) is None
        b.random_raw(output=False)
        # NumPy skips sum(size) outputs for a tuple size; so do we.
        a.random_raw((3, 4), output=False)
        b.random_raw((3, 4), output=False)
        a.random_raw(5, output=False)
        b.random_raw(5, output=False)
        assert _same_state(a.state, b.state)
        assert a.random_raw() == b.random_raw()

    @pytest.mark.parametrize("which", [1, 2])
    def test_numpy_testsets(self, reference_dir, which):
        """NumPy's test sets: 1000 raw outputs from Cls(seed) (test_direct.py Base.test_raw)."""
        seed, data = _read_csv(reference_dir / "numpy" / f"{self.stem}-testset-{which}.csv")
        assert np.array_equal(self.ours(seed).random_raw(1000), data)
        assert self.ours(seed).random_raw() == data[0]
        # Derived outputs (test_direct.py test_random, test_random_float): 53 high bits per
        # double; two 24-bit floats per raw value, low half first.
        uniforms = np.random.Generator(self.ours(seed)).random(1000)
        assert np.array_equal(uniforms, (data >> np.uint64(11)) * 2.0**-53)
        floats = np.random.Generator(self.ours(seed)).random(2000, dtype=np.float32)
        halves = np.column_stack([data & np.uint64(0xFFFFFFFF), data >> np.uint64(32)]).ravel()
        assert np.array_equal(floats, ((halves >> np.uint64(8)) * 2.0**-24).astype(np.float32))

    # -- NumPy's Generator on top ------------------------------------------------------------
    def test_normal_million_bit_for_bit(self):
        ours = np.random.Generator(self.ours(42)).normal(size=10**6)
        assert np.array_equal(ours, np.random.Generator(self.theirs(42)).normal(size=10**6))

    def test_generator_draws_and_states_follow_numpy(self):
        a, b = np.random.Generator(self.ours(2024)), np.random.Generator(self.theirs(2024))
        for name, draw in DRAWS:
            assert np.array_equal(draw(a), draw(b)), name
            assert _same_state(a.bit_generator.state, b.bit_generator.state), name
        x, y = np.arange(100), np.arange(100)
        a.shuffle(x)
        b.shuffle(y)
        assert np.array_equal(x, y)

    # -- state dicts ---------------------------------------------------------------------------
    def test_state_dict_has_numpy_format(self):
        a, b = self.ours(11), self.theirs(11)
        np.random.Generator(a).integers(0, 3, size=5, dtype=np.int32)  # leaves a half buffered
        np.random.Generator(b).integers(0, 3, size=5, dtype=np.int32)
        assert a.state["has_uint32"] == 1
        assert _same_state(a.state, b.state)
        assert {k: type(x) for k, x in a.state.items()} == {k: type(x) for k, x in b.state.items()}
        # random_raw leaves the buffered half alone, as NumPy's next_raw does.
        assert np.array_equal(a.random_raw(3), b.random_raw(3))
        assert a.state["has_uint32"] == 1
        assert _same_state(a.state, b.state)

    def test_state_round_trip_and_cross_loading(self):
        src = np.random.Generator(self.theirs(3))
        src.integers(0, 3, size=7, dtype=np.uint32)  # odd count: a buffered high half
        mine = self.ours(0)
        mine.state = src.bit_generator.state
        assert _same_state(mine.state, src.bit_generator.state)
        g = np.random.Generator(mine)
        assert np.array_equal(g.integers(0, 2**32, size=9, dtype=np.uint32),
                              src.integers(0, 2**32, size=9, dtype=np.uint32))
        back = self.theirs(0)
        back.state = mine.state
        assert np.array_equal(back.random_raw(50), mine.random_raw(50))
        twin = self.ours(1)
        twin.state = mine.state
        assert np.array_equal(twin.random_raw(50), mine.random_raw(50))

    def test_failed_state_set_changes_nothing(self):
        a = self.ours(4)
        before = a.state
        bad = copy.deepcopy(before)
        bad["uinteger"] = 2**32
        with pytest.raises(OverflowError, match="state"):
            a.state = bad
        assert _same_state(a.state, before)

    @pytest.mark.parametrize(
        "value,exc",
        [([1], TypeError), (None, TypeError), ({"bit_generator": "MT19937"}, ValueError), ({}, ValueError)],
    )
    def test_bad_state_objects(self, value, exc):
        with pytest.raises(exc, match="state"):
            self.ours(1).state = value

    def test_state_of_another_family_is_rejected(self):
        other = np.random.MT19937(1).state
        with pytest.raises(ValueError, match="state"):
            self.ours(1).state = other

    @pytest.mark.parametrize(
        "key,value,exc",
        [("has_uint32", 2, ValueError), ("has_uint32", 0.5, ValueError), ("uinteger", -1, OverflowError),
         ("uinteger", 2**32, OverflowError), ("uinteger", 1.0, TypeError), ("uinteger", "1", TypeError)],
    )
    def test_bad_buffer_entries(self, key, value, exc):
        a = self.ours(1)
        st = a.state
        st[key] = value
        with pytest.raises(exc, match="state"):
            a.state = st

    @pytest.mark.parametrize("key", ["has_uint32", "uinteger", "state"])
    def test_missing_entries(self, key):
        a = self.ours(1)
        st = a.state
        del st[key]
        with pytest.raises(KeyError, match=f"state: missing .*{key}"):  # KeyError, as NumPy
            a.state = st

    # -- advance and jumps ----------------------------------------------------------------------
    @pytest.mark.parametrize("delta", [0, 1, 7, 2**40 + 3, 2**127 + 5, -1, -(2**70), 2**300 + 9])
    def test_advance_matches_numpy(self, delta):
        a, b = self.ours(2024), self.theirs(2024)
        # A buffered 32-bit half first: advance must empty it, as NumPy's does.
        np.random.Generator(a).integers(0, 9, dtype=np.uint32)
        np.random.Generator(b).integers(0, 9, dtype=np.uint32)
        assert a.advance(delta) is a
        b.advance(delta)
        assert _same_state(a.state, b.state)
        assert np.array_equal(a.random_raw(100), b.random_raw(100))

    @pytest.mark.parametrize("jumps", [0, 1, 2, 5, -1, 2**130 + 1])
    def test_jumped_matches_numpy(self, jumps):
        a, b = self.ours(77), self.theirs(77)
        a.random_raw(3)
        b.random_raw(3)
        ja, jb = a.jumped(jumps), b.jumped(jumps)
        assert type(ja) is self.ours
        assert _same_state(ja.state, jb.state)
        assert np.array_equal(ja.random_raw(20), jb.random_raw(20))
        assert np.array_equal(a.random_raw(5), b.random_raw(5))  # the original is untouched

    def test_jumped_default_is_one_jump(self):
        assert _same_state(self.ours(8).jumped().state, self.ours(8).jumped(1).state)

    @pytest.mark.parametrize("bad", [1.5, "3", None])
    def test_bad_advance_and_jumps(self, bad):
        with pytest.raises(TypeError, match="delta"):
            self.ours(1).advance(bad)
        with pytest.raises(TypeError, match="jumps"):
            self.ours(1).jumped(bad)

    # -- construction, copies and spawning -------------------------------------------------------
    @pytest.mark.parametrize("seed,exc", [(-1, ValueError), ([1, -2], ValueError), (1.5, TypeError),
                                          ("x", TypeError), ([1.5], TypeError), (object(), TypeError)])
    def test_bad_seed(self, seed, exc):
        with pytest.raises(exc, match="seed"):
            self.ours(seed)

    @pytest.mark.parametrize("size,exc", [(-1, ValueError), ((2, -1), ValueError), (1.5, TypeError), ("3", TypeError)])
    def test_bad_size(self, size, exc):
        a = self.ours(1)
        before = a.state
        with pytest.raises(exc, match="size"):
            a.random_raw(size)
        with pytest.raises(exc, match="size"):
            a.random_raw(size, output=False)
        assert _same_state(a.state, before)

    def test_seed_seq_is_numpys(self):
        assert self.ours(42).seed_seq.state == self.theirs(42).seed_seq.state
        ours = self.ours([3, 4]).seed_seq
        assert np.array_equal(ours.generate_state(8), self.theirs([3, 4]).seed_seq.generate_state(8))

    def test_spawn_matches_numpy(self):
        a, b = self.ours(99), self.theirs(99)
        for n in (2, 3):
            kids_a, kids_b = a.spawn(n), b.spawn(n)
            assert [type(k) for k in kids_a] == [self.ours] * n
            for ka, kb in zip(kids_a, kids_b):
                assert np.array_equal(ka.random_raw(10), kb.random_raw(10))
        ga, gb = np.random.Generator(self.ours(5)), np.random.Generator(self.theirs(5))
        assert np.array_equal(ga.spawn(1)[0].random(5), gb.spawn(1)[0].random(5))

    def test_negative_spawn_is_numpys_overflow_error(self):
        with pytest.raises(OverflowError):
            self.theirs(1).spawn(-1)
        a = self.ours(1)
        with pytest.raises(OverflowError, match="n_children"):
            a.spawn(-1)
        assert a.seed_seq.n_children_spawned == 0

    def test_pickle_copy_deepcopy_continue_bit_for_bit(self):
        a, b = self.ours(7), self.theirs(7)
        np.random.Generator(a).integers(0, 5, size=3, dtype=np.uint32)
        np.random.Generator(b).integers(0, 5, size=3, dtype=np.uint32)
        want = b.random_raw(10)
        for clone in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
            assert type(clone) is self.ours
            assert clone.capsule is not a.capsule
            assert _same_state(clone.state, a.state)
            assert clone.seed_seq.state == a.seed_seq.state
            assert np.array_equal(clone.random_raw(10), want)
        assert np.array_equal(a.random_raw(10), want)

    def test_pickled_clone_continues_the_same_stream(self):
        a = self.ours(7)
        a.random_raw(5)
        clone = pickle.loads(pickle.dumps(a))
        assert np.array_equal(clone.random_raw(10), a.random_raw(10))

    def test_numpy_generator_pickles(self):
        g = np.random.Generator(self.ours(3))
        g.random(3)
        h = pickle.loads(pickle.dumps(g))
        assert type(h.bit_generator) is self.ours
        assert np.array_equal(h.random(10), g.random(10))

    def test_is_a_numpy_bit_generator(self):
        a = self.ours(1)
        assert isinstance(a, np.random.BitGenerator)
        assert np.random.default_rng(a).bit_generator is a
        assert np.random.Generator(a).bit_generator is a

    def test_legacy_random_state_accepts_it(self):
        a, b = np.random.RandomState(self.ours(1)), np.random.RandomState(self.theirs(1))
        assert np.array_equal(a.standard_normal(1000), b.standard_normal(1000))
        assert np.array_equal(a.randint(0, 10, 100), b.randint(0, 10, 100))
        assert np.array_equal(pickle.loads(pickle.dumps(a)).random_sample(5), b.random_sample(5))

    def test_ctypes_calls_the_engine(self):
        a, b = self.ours(6), self.theirs(6)
        c = a.ctypes
        with a.lock:
            assert c.next_uint64(c.state) == b.random_raw()
            assert c.next_uint32(c.state) == b.ctypes.next_uint32(b.ctypes.state)
            assert c.next_double(c.state) == b.ctypes.next_double(b.ctypes.state)

    def test_ctypes_is_numpys_interface_built_once(self):
        a, b = self.ours(6), self.theirs(6)
        assert type(a.ctypes) is type(b.ctypes)
        assert a.ctypes._fields == b.ctypes._fields
        assert a.ctypes is a.ctypes
        assert a.ctypes.bit_generator.value == a._bitgen_address()

    def test_cffi_calls_the_engine(self):
        cffi = pytest.importorskip("cffi")
        a, b = self.ours(7), self.theirs(7)
        c = a.cffi
        assert type(c) is type(b.cffi) and c is a.cffi
        assert isinstance(c.state, cffi.FFI().CData)
        with a.lock:
            assert c.next_uint64(c.state) == b.random_raw()
            assert c.next_uint32(c.state) == b.cffi.next_uint32(b.cffi.state)
            assert c.next_double(c.state) == b.cffi.next_double(b.cffi.state)
            assert c.next_uint64(c.state) == b.random_raw()

    def test_ctypes_keeps_the_engine_alive(self):
        c = self.ours(6).ctypes
        assert c.next_uint64(c.state) == self.theirs(6).random_raw()

    # -- locking -------------------------------------------------------------------------------
    @pytest.mark.parametrize("call", ["generator", "random_raw", "state", "advance"])
    def test_every_use_waits_for_the_lock(self, call):
        a = self.ours(1)
        g = np.random.Generator(a)
        use = {"generator": lambda: g.random(10), "random_raw": lambda: a.random_raw(10),
               "state": lambda: a.state, "advance": lambda: a.advance(1)}[call]
        done = threading.Event()
        thread = threading.Thread(target=lambda: (use(), done.set()))
        with a.lock:
            thread.start()
            assert not done.wait(0.2), f"{call} ran while another thread held the lock"
        assert done.wait(10)
        thread.join()

    def test_threads_share_one_bit_generator_without_corruption(self):
        """Every draw holds the lock, so each chunk of 1000 raw values is a contiguous,
        1000-aligned window of the sequential stream, and the windows cover it exactly."""
        bg = self.ours(31)
        gen = np.random.Generator(bg)
        n_threads, rounds, chunk = 6, 40, 1000
        results = [[] for _ in range(n_threads)]

        def work(t):
            for r in range(rounds):
                if (t + r) % 3 == 0:
                    results[t].append(("raw", bg.random_raw(chunk)))
                else:
                    results[t].append(("double", gen.random(chunk)))
                bg.state  # reading the state takes the lock too

        threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = n_threads * rounds
        raw = self.theirs(31).random_raw(total * chunk).reshape(total, chunk)
        doubles = (raw >> np.uint64(11)) * 2.0**-53
        index = {row.tobytes(): i for i, row in enumerate(raw)}
        index.update({row.tobytes(): i for i, row in enumerate(doubles)})
        seen = sorted(index[out.tobytes()] for res in results for _, out in res)
        assert seen == list(range(total))


class TestPCG64(Base):
    ours, theirs, stem = ss.PCG64, np.random.PCG64, "pcg64"

    def test_default_rng_normal_million_bit_for_bit(self):
        ours = np.random.Generator(ss.PCG64(42)).normal(size=10**6)
        assert np.array_equal(ours, np.random.default_rng(42).normal(size=10**6))

    def test_advance_large(self):
        """numpy/random/tests/test_direct.py TestPCG64.test_advance_large."""
        rs = ss.PCG64(38219308213743)
        assert rs.state["state"]["state"] == 287608843259529770491897792873167516365
        rs.advance(sum(2**i for i in (96, 64, 32, 16, 8, 4, 2, 1)))
        assert rs.state["state"]["state"] == 135275564607035429730177404003164635391

    def test_advance_symmetry(self):
        """test_direct.py test_advance_symmetry: the distance is taken mod 2**128."""
        rs = np.random.Generator(ss.PCG64(12345))
        step = -0x9E3779B97F4A7C150000000000000000
        rs.bit_generator.advance(step)
        val_neg = rs.integers(10)
        rs.bit_generator.state = ss.PCG64(12345).state
        rs.bit_generator.advance(2**128 + step)
        val_pos = rs.integers(10)
        rs.bit_generator.state = ss.PCG64(12345).state
        rs.bit_generator.advance(10 * 2**128 + step)
        assert val_neg == val_pos == rs.integers(10)

    def test_negative_advance_steps_back(self):
        a = ss.PCG64(1)
        first = a.random_raw(10)
        a.advance(-10)
        assert np.array_equal(a.random_raw(10), first)

    def test_even_increment_is_rejected(self):
        a = ss.PCG64(1)
        st = a.state
        st["state"]["inc"] = 2
        with pytest.raises(ValueError, match="inc"):
            a.state = st

    @pytest.mark.parametrize("field,value,exc", [("state", -1, OverflowError), ("state", 2**128, OverflowError),
                                                 ("inc", 1.5, TypeError), ("state", None, TypeError)])
    def test_bad_inner_state(self, field, value, exc):
        a = ss.PCG64(1)
        st = a.state
        st["state"][field] = value
        with pytest.raises(exc, match=f"state: state\\['state'\\]\\['{field}'\\]"):
            a.state = st

    def test_dxsm_state_is_rejected(self):
        with pytest.raises(ValueError, match="PCG64"):
            ss.PCG64(1).state = np.random.PCG64DXSM(1).state


class TestPCG64DXSM(Base):
    ours, theirs, stem = ss.PCG64DXSM, np.random.PCG64DXSM, "pcg64dxsm"

    def test_advance_large(self):
        """test_direct.py TestPCG64DXSM.test_advance_large."""
        rs = ss.PCG64DXSM(38219308213743)
        assert rs.state["state"]["state"] == 287608843259529770491897792873167516365
        rs.advance(sum(2**i for i in (96, 64, 32, 16, 8, 4, 2, 1)))
        assert rs.state["state"]["state"] == 277778083536782149546677086420637664879

    def test_pcg64_state_is_rejected(self):
        with pytest.raises(ValueError, match="PCG64DXSM"):
            ss.PCG64DXSM(1).state = ss.PCG64(1).state


def _philox_kat_lines(path):
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) == 12 and f[0] == "philox4x64" and f[1] == "10":
            w = [int(x, 16) for x in f[2:]]
            yield w[0:4], w[4:6], w[6:10]


class TestPhilox(Base):
    ours, theirs, stem = ss.Philox, np.random.Philox, "philox"

    @pytest.mark.parametrize("name", ["random123_kat_vectors.txt", "random123_old_kat_vectors.txt"])
    def test_random123_kats_through_the_bit_generator(self, reference_dir, name):
        """Philox(counter=C - 1, key=k).random_raw(4) is the block at counter C (NumPy
        increments the counter before each block)."""
        cases = list(_philox_kat_lines(reference_dir / name))
        assert cases
        for ctr, key, want in cases:
            c = sum(w << (64 * i) for i, w in enumerate(ctr))
            bg = ss.Philox(counter=(c - 1) % 2**256, key=key[0] | key[1] << 64)
            assert bg.random_raw(4).tolist() == want, (ctr, key)

    def test_key_and_counter_arguments_match_numpy(self):
        for kwargs in [dict(key=3), dict(key=2**128 - 1, counter=2**256 - 2), dict(key=[1, 2], counter=[3, 4, 5, 6]),
                       dict(key=np.array([7, 8], dtype=np.uint64)), dict(seed=5, counter=2**64 + 1)]:
            a, b = ss.Philox(**kwargs), np.random.Philox(**kwargs)
            assert _same_state(a.state, b.state)
            assert np.array_equal(a.random_raw(9), b.random_raw(9))

    def test_key_means_no_seed_sequence(self):
        a = ss.Philox(key=3)
        assert a.seed_seq is None
        with pytest.raises(TypeError, match="spawn"):
            a.spawn(1)
        clone = pickle.loads(pickle.dumps(a))
        assert clone.seed_seq is None
        assert np.array_equal(clone.random_raw(5), a.random_raw(5))

    @pytest.mark.parametrize(
        "kwargs,exc,match",
        [(dict(seed=1, key=2), ValueError, "key"), (dict(key=-1), ValueError, "key"), (dict(key=2**128), ValueError, "key"),
         (dict(key=[1, 2, 3]), ValueError, "key"), (dict(key=[1, -2]), ValueError, "key"), (dict(key=1.5), TypeError, "key"),
         (dict(counter=2**256), ValueError, "counter"), (dict(counter=[1, 2]), ValueError, "counter"),
         (dict(counter="0"), TypeError, "counter")],
    )
    def test_bad_key_and_counter(self, kwargs, exc, match):
        with pytest.raises(exc, match=match):
            ss.Philox(**kwargs)

    def test_advance_counts_blocks_of_four(self):
        a, b = ss.Philox(5), ss.Philox(5)
        b.random_raw(4 * 3)
        a.advance(3)
        assert np.array_equal(a.random_raw(8), b.random_raw(8))

    def test_jumped_moves_the_counter_by_2_128(self):
        st = ss.Philox(5, counter=7).jumped(3).state["state"]["counter"]
        assert st.tolist() == [7, 0, 3, 0]

    @pytest.mark.parametrize(
        "mutate,exc,match",
        [(lambda s: s.update(buffer_pos=5), ValueError, "buffer_pos"),
         (lambda s: s.update(buffer_pos=-1), ValueError, "buffer_pos"),
         (lambda s: s.update(buffer=[1, 2, 3]), ValueError, "buffer"),
         (lambda s: s.update(buffer=5), TypeError, "buffer"),
         (lambda s: s["state"].update(counter=[-1, 0, 0, 0]), OverflowError, "counter"),
         (lambda s: s["state"].update(key=[2**64, 0]), OverflowError, "key"),
         (lambda s: s["state"].update(key=[1.5, 0]), TypeError, "key")],
    )
    def test_bad_philox_state(self, mutate, exc, match):
        a = ss.Philox(1)
        st = a.state
        mutate(st)
        with pytest.raises(exc, match=match):
            a.state = st

    def test_buffered_state_continues(self):
        a, b = ss.Philox(3), np.random.Philox(3)
        a.random_raw(2)
        b.random_raw(2)
        st = a.state
        assert st["buffer_pos"] == 2
        c = ss.Philox(0)
        c.state = st
        assert np.array_equal(c.random_raw(7), b.random_raw(7))
