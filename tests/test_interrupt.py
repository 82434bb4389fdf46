"""Ctrl-C during a large draw: KeyboardInterrupt between pieces, and the documented state
afterwards (docs/spec.md#interrupted-draws).

A 1 ms interval timer (SIGALRM) runs a handler at the checks for signals; once the draw
has begun (the generator's position has moved, or the draw holds the bit generator's
lock), the handler sends a real SIGINT, whose default handler raises KeyboardInterrupt.
So the interrupt comes from a check inside the draw, whatever the thread timing. Outputs
are `np.zeros` arrays far larger than what the draw gets through before it stops:
untouched pages cost no memory, and a tail still zero shows the draw was interrupted
rather than run to its end.
"""

import os
import signal
import sys

import ml_dtypes
import numpy as np
import pytest

import seedstream as ss

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGALRM and setitimer")

# 2**27 one-word elements: 32 pieces of 2**20 blocks (docs/spec.md#interrupted-draws).
N = 2**27


class _Interrupter:
    """Sends SIGINT to this process from the first SIGALRM handled once `started()`."""

    def __init__(self, started):
        self.started = started

    def _on_alarm(self, signum, frame):
        if self.started():
            signal.setitimer(signal.ITIMER_REAL, 0)
            os.kill(os.getpid(), signal.SIGINT)

    def run(self, draw):
        old_alarm = signal.signal(signal.SIGALRM, self._on_alarm)
        old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
            with pytest.raises(KeyboardInterrupt):
                draw()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_alarm)
            signal.signal(signal.SIGINT, old_int)


def _moved(g):
    start = g.position
    return lambda: g.position != start


def _blocks(n, words):
    return -(-n * words // 4)


def _sparse(n, value, dtype=np.float64):
    """`value` where the test reads the output (the first piece and the tail), 0 elsewhere,
    so that most of the input stays untouched zero pages."""
    x = np.zeros(n, dtype)
    x[: 4 * 2**20] = value
    x[-1000:] = value
    return x


DRAWS = {
    # name: (dtype of out, elements, words per element, draw(g, out))
    "bits_u32": (np.uint32, N, 1, lambda g, o: g.bits(dtype=np.uint32, out=o)),
    "bits_u64": (np.uint64, N // 2, 2, lambda g, o: g.bits(dtype=np.uint64, out=o)),
    "random_f32": (np.float32, N, 1, lambda g, o: g.random(dtype=np.float32, out=o)),
    "random_f64": (np.float64, N // 2, 2, lambda g, o: g.random(out=o)),
    "standard_normal_f64": (np.float64, N // 2, 2, lambda g, o: g.standard_normal(out=o)),
    "normal_f16": (np.float16, N, 1, lambda g, o: g.normal(1.0, 2.0, dtype=np.float16, out=o)),
    "uniform_bf16": (ml_dtypes.bfloat16, N, 1,
                     lambda g, o: g.uniform(-1.0, 1.0, dtype=ml_dtypes.bfloat16, out=o)),
    "truncated_normal_f32": (np.float32, N, 1,
                             lambda g, o: g.truncated_normal(dtype=np.float32, out=o)),
    "integers_i8": (np.int8, N // 2, 2, lambda g, o: g.integers(1, 100, dtype=np.int8, out=o)),
    "bernoulli": (np.bool_, N, 1, lambda g, o: g.bernoulli(0.5, out=o)),
    "bernoulli_per_element": (np.bool_, N, 1, lambda g, o: g.bernoulli(_sparse(len(o), 0.5), out=o)),
    "dropout": (np.float32, N, 1,
                lambda g, o: g._stream.fill_dropout(_sparse(len(o), 1.0, np.float32), o, 0.5)),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_fill_stops_with_position_as_if_completed(name):
    dtype, n, words, draw = DRAWS[name]
    g = ss.Generator(1)
    g.advance(5)
    out = np.zeros(n, dtype=dtype)
    _Interrupter(_moved(g)).run(lambda: draw(g, out))
    # Stopped early: the last piece was never written.
    assert not out[-1000:].view(np.uint8).any()
    # The position moved past the whole draw, as if it had completed.
    assert g.position == 5 + _blocks(n, words)
    # The first piece was written before the interrupt was seen: the draw's prefix.
    k = 4 * 2**20 // words
    ref = np.zeros(k, dtype=dtype)
    draw(ss.Generator(1).advance(5), ref)
    assert out[:k].tobytes() == ref.tobytes()


def test_permutation_stops_with_position_as_if_completed():
    n = 2**25  # 32 pieces of 2**20 steps
    g = ss.Generator(2)
    out = np.zeros(n, dtype=np.int64)
    _Interrupter(_moved(g)).run(lambda: g.permutation(n, out=out))
    assert not out[-1000:].any()  # neither numbered nor shuffled to the end
    assert g.position == n // 2  # ceil((n - 1) / 2) blocks
    assert np.array_equal(g.permutation(5), ss.Generator(2).advance(n // 2).permutation(5))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.dtype("V3")])
def test_shuffle_in_place_keeps_the_items(dtype):
    n = 2**25
    g = ss.Generator(3)
    key = (np.arange(n) % 251).astype(np.uint8)
    x = np.zeros(n, dtype=dtype)
    first = x.view(np.uint8).reshape(n, -1)[:, 0]  # the first byte of each item
    first[:] = key
    _Interrupter(_moved(g)).run(lambda: g.shuffle(x))
    # The items are all there, in some order; most have not moved yet.
    assert np.array_equal(np.bincount(first, minlength=251), np.bincount(key, minlength=251))
    assert (first == key).mean() > 0.5
    assert g.position == n // 2


def test_numpy_bit_generator_stops_after_whole_pieces():
    bg = ss.PCG64(7)
    n = 2**26  # 32 pieces
    # The draw holds the bit generator's reentrant lock, owned by this thread meanwhile.
    _Interrupter(bg.lock._is_owned).run(lambda: bg.random_raw(n))
    # The engine advanced by some whole number of pieces of 2**21 outputs, short of n.
    nxt = bg.random_raw(2)
    done = [k for k in range(n // 2**21)
            if np.array_equal(np.random.PCG64(7).advance(k * 2**21).random_raw(2), nxt)]
    assert len(done) == 1 and done[0] >= 1
