"""Draws in a forked child: the parent's fill threads do not exist there, so the child must
build its own pool (a reused one would wait forever for its workers)."""

import multiprocessing
import os
import signal
import sys

import numpy as np
import pytest

import seedstream as ss

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")

SIZE = (3, 224, 224)  # above one chunk, so the draw runs on the thread pool


def _parallel_draw_in_parent():
    ss.set_num_threads(2)
    ss.Generator(0).standard_normal(1_000_000, dtype=np.float32)


def _draw(seed: int) -> np.ndarray:
    return ss.Generator(seed).child("sample").standard_normal(SIZE, dtype=np.float32)


def _child_main(conn, seed):
    conn.send(_draw(seed))
    conn.close()


@pytest.mark.parametrize("threads_in_child", [2, 3])
def test_os_fork_child_draws_in_parallel_with_the_same_bits(threads, threads_in_child):
    _parallel_draw_in_parent()
    want = _draw(5)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must not run pytest's exit machinery
        code = 1
        try:
            ss.set_num_threads(threads_in_child)
            got = _draw(5)
            os.write(write_fd, b"1" if np.array_equal(got, want) else b"0")
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.alarm(60)
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    result = os.read(read_fd, 1)
    os.close(read_fd)
    assert os.WIFEXITED(status), "the forked child hung in its first parallel draw and was killed"
    assert result == b"1"


def test_multiprocessing_fork_context(threads):
    _parallel_draw_in_parent()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        result = pool.map_async(_draw, [1, 2, 3, 4])
        got = result.get(timeout=60)
    for seed, arr in zip([1, 2, 3, 4], got):
        assert np.array_equal(arr, _draw(seed))


def test_grandchild_after_fork_in_child(threads):
    _parallel_draw_in_parent()
    ctx = multiprocessing.get_context("fork")
    parent_conn, child_conn = ctx.Pipe()

    def middle(conn):
        _parallel_draw_in_parent()
        inner_parent, inner_child = ctx.Pipe()
        p = ctx.Process(target=_child_main, args=(inner_child, 9))
        p.start()
        conn.send(inner_parent.recv() if inner_parent.poll(60) else None)
        p.join(5)

    p = ctx.Process(target=middle, args=(child_conn,))
    p.start()
    assert parent_conn.poll(90), "a draw in a forked grandchild hung"
    got = parent_conn.recv()
    p.join(10)
    assert got is not None and np.array_equal(got, _draw(9))
