"""The benchmarks' one timer (seedstream._bench.timer) and where the benchmark is imported.
Nothing about time is asserted: only the order of calls, the collector and what is kept."""

import gc
import subprocess
import sys

from seedstream._bench import timer


def test_package_import_leaves_the_benchmark_out():
    code = ("import sys, seedstream; "
            "print(sorted(m for m in sys.modules if m.startswith(('seedstream._bench', 'seedstream._selfcheck'))))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_round_robin_rotates_the_start():
    order = []
    repeat = [lambda i=i: order.append(i) or 0.0 for i in range(3)]
    times = timer.round_robin(repeat, 4)
    assert order == [0, 1, 2, 1, 2, 0, 2, 0, 1, 0, 1, 2]
    assert [len(t) for t in times] == [4, 4, 4]
    assert timer.round_robin([], 3) == []


def test_time_calls_warms_up_then_times_with_the_collector_off(capsys):
    seen = []

    def call():
        seen.append(gc.isenabled())

    def too_old():
        raise TypeError("no generator= here")

    assert gc.isenabled()
    times = timer.time_calls({"ok": call, "old": too_old}, 3)
    assert list(times) == ["ok"] and len(times["ok"]) == 3
    assert seen == [True, False, False, False]  # the warm-up runs before the collector stops
    assert gc.isenabled()
    assert "skipping old: no generator= here" in capsys.readouterr().err


def test_calibrate_warms_up_then_grows_the_loop_by_tens():
    loops = []

    def loop(per_call):
        def run(k):
            loops.append(k)
            return per_call  # a pretend clock: seconds per call
        return run

    assert timer.calibrate(loop(1e-3), 0.005) == 5
    assert loops == [1, 1]
    loops.clear()
    assert timer.calibrate(loop(1e-6), 0.005) == 5000
    assert loops == [1, 1, 10, 100, 1000]
