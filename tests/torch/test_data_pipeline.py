"""Reproducible data loading through real DataLoader worker processes: per-sample streams,
exact mid-epoch resume (StatefulDataLoader and the plain-DataLoader recipe), elastic resume
at another world size, automatic epochs, draws with replacement, generator errors."""

import multiprocessing
import os
import signal

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402

FORK = multiprocessing.get_context("fork")


class _Augmented(torch.utils.data.Dataset):
    """Each item: its index, a random crop offset and three noise values from the sample stream."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        g = sst.sample_generator()
        crop = int(g.child("crop").integers(0, 1000))
        noise = g.child("noise").random(3).tolist()
        return torch.tensor([float(i), float(crop), *noise], dtype=torch.float64)


def _loader(ds, sampler, workers, batch_size=4, cls=None, **kw):
    if workers:
        kw.update(multiprocessing_context=FORK, timeout=60)  # a hung worker fails the test
    cls = cls or torch.utils.data.DataLoader
    return cls(ds, sampler=sampler, batch_size=batch_size, num_workers=workers, **kw)


def _rows(batches):
    return [tuple(r) for b in batches for r in b.tolist()]


def _reference(ds, keys):
    return [tuple(ds[k].tolist()) for k in keys]


def _dataset(n=40, seed=11):
    return sst.ReproducibleDataset(_Augmented(n), seed=seed)


CONFIGS = [
    dict(workers=0),
    dict(workers=1),
    dict(workers=2),
    # More workers than this machine's cores: torch warns, the draws must not change.
    pytest.param(dict(workers=4), marks=pytest.mark.filterwarnings("ignore:This DataLoader will create")),
    dict(workers=2, persistent_workers=True),
    dict(workers=2, prefetch_factor=1),
    dict(workers=2, prefetch_factor=5, persistent_workers=True),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items())
                         if isinstance(c, dict) else None)
def test_augmentations_are_identical_for_any_worker_setup(config):
    config = dict(config)
    workers = config.pop("workers")
    ds = _dataset()
    sampler = sst.ShuffleSampler(ds, seed=3, keys=True)
    loader = _loader(ds, sampler, workers, **config)
    for epoch in range(3):  # persistent workers must see each new epoch, not a stale one
        sampler.set_epoch(epoch)
        assert _rows(loader) == _reference(ds, [(epoch, i) for i in _order(40, 3, epoch)])
    # The draws change with the epoch: a stale epoch would repeat them.
    assert _reference(ds, [(0, 5)]) != _reference(ds, [(1, 5)])


def _order(n, seed, epoch, **kw):
    s = sst.ShuffleSampler(n, seed=seed, **kw)
    s.set_epoch(epoch)
    return list(s)


def test_auto_epoch_reaches_persistent_workers_without_set_epoch():
    ds = _dataset()
    sampler = sst.ShuffleSampler(ds, seed=3, keys=True, auto_epoch=True)
    loader = _loader(ds, sampler, 2, persistent_workers=True)
    for epoch in range(3):
        assert _rows(loader) == _reference(ds, [(epoch, i) for i in _order(40, 3, epoch)])
    assert sampler.epoch == 3


def test_auto_epoch_gives_a_new_order_each_pass_like_random_sampler():
    random_sampler = torch.utils.data.RandomSampler(range(50))
    assert list(random_sampler) != list(random_sampler)  # the reference behaviour
    s = sst.ShuffleSampler(50, seed=8, auto_epoch=True)
    passes = [list(s) for _ in range(3)]
    assert passes == [_order(50, 8, e) for e in range(3)]
    assert passes[0] != passes[1] != passes[2]
    # Without auto_epoch a pass without set_epoch repeats the epoch (DistributedSampler).
    fixed = sst.ShuffleSampler(50, seed=8)
    assert list(fixed) == list(fixed) == passes[0]


def test_augmentations_do_not_depend_on_world_size():
    ds = _dataset(48)
    by_index = {}
    for replicas in (1, 2, 3):
        seen = {}
        for rank in range(replicas):
            sampler = sst.ShuffleSampler(ds, seed=3, keys=True, num_replicas=replicas, rank=rank)
            sampler.set_epoch(2)
            for row in _rows(_loader(ds, sampler, 2)):
                seen[int(row[0])] = row
        assert sorted(seen) == list(range(48))
        by_index[replicas] = seen
    assert by_index[1] == by_index[2] == by_index[3]


def test_sample_stream_is_the_named_child_and_spec_known_answer():
    ds = sst.ReproducibleDataset(_Augmented(4), seed=1)
    assert ds.generator(2, 3) == ss.Generator(1).child("sample", 2, 3)
    g = ss.Generator(1).child("sample", 2, 3)
    assert ds[2, 3].tolist() == [3.0, float(g.child("crop").integers(0, 1000)), *g.child("noise").random(3).tolist()]
    assert [hex(x) for x in ss.Generator(1).child("sample", 0, 0).bits(2, dtype=np.uint64)] == _SAMPLE_KAT
    same = sst.ReproducibleDataset(_Augmented(4), generator=ss.Generator(1))
    assert same[0, 1].tolist() == ds[0, 1].tolist()


_SAMPLE_KAT = ["0x7cea591914329f82", "0xb31860971f1941d7"]  # docs/spec.md#sample-generator-v1


# torchdata 0.11 calls torch.set_vital, which newer torch releases deprecate.
_TORCHDATA_WARNING = pytest.mark.filterwarnings("ignore:'set_vital' is deprecated:UserWarning")


def _stateful_loader(ds, sampler, workers=2, **kw):
    from torchdata.stateful_dataloader import StatefulDataLoader

    return _loader(ds, sampler, workers, cls=StatefulDataLoader, **kw)


@_TORCHDATA_WARNING
@pytest.mark.parametrize("workers,persistent", [(0, False), (2, False), (2, True)])
def test_stateful_dataloader_resumes_exactly_with_workers(workers, persistent):
    pytest.importorskip("torchdata")
    ds = _dataset(60)
    kw = dict(persistent_workers=True) if persistent else {}
    whole = _rows(_stateful_loader(ds, sst.ShuffleSampler(ds, seed=4, keys=True), workers, **kw))
    sampler = sst.ShuffleSampler(ds, seed=4, keys=True)
    run = _stateful_loader(ds, sampler, workers, **kw)
    it = iter(run)
    head = _rows(next(it) for _ in range(5))
    state = run.state_dict()
    if workers:
        assert sampler.position > 5 * 4  # the workers fetched ahead; the saved state did not count that
    del it, run  # the interrupted run and its workers are gone
    resumed = _stateful_loader(ds, sst.ShuffleSampler(ds, seed=4, keys=True), workers, **kw)
    resumed.load_state_dict(state)
    assert head + _rows(resumed) == whole


@_TORCHDATA_WARNING
def test_stateful_dataloader_elastic_resume():
    pytest.importorskip("torchdata")
    n = 96
    ds = _dataset(n)
    whole = _reference(ds, [(0, i) for i in _order(n, 5, 0)])
    head, states = [], []
    for rank in range(3):
        run = _stateful_loader(ds, sst.ShuffleSampler(ds, seed=5, keys=True, num_replicas=3, rank=rank))
        it = iter(run)
        head.append(_rows(next(it) for _ in range(3)))
        states.append(run.state_dict())
        del it, run
    rest = []
    for rank in range(2):
        run = _stateful_loader(ds, sst.ShuffleSampler(ds, seed=5, keys=True, num_replicas=2, rank=rank))
        run.load_state_dict(states[rank])
        rest.append(_rows(run))
    assert _interleave(head) + _interleave(rest) == whole


def _killed_run(path, batches):
    """Child process: consume `batches` batches, checkpoint, then die by SIGKILL mid-epoch."""
    ds = _dataset(60)
    sampler = sst.ShuffleSampler(ds, seed=4, keys=True, auto_epoch=True)
    run = _stateful_loader(ds, sampler)
    list(run)  # epoch 0 in full
    it = iter(run)
    head = _rows(next(it) for _ in range(batches))
    torch.save({"loader": run.state_dict(), "head": head}, path)
    os.kill(os.getpid(), signal.SIGKILL)


@_TORCHDATA_WARNING
def test_killed_run_resumes_to_the_uninterrupted_stream(tmp_path):
    pytest.importorskip("torchdata")
    path = str(tmp_path / "ckpt.pt")
    child = FORK.Process(target=_killed_run, args=(path, 7))
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    ckpt = torch.load(path, weights_only=False)
    ds = _dataset(60)
    sampler = sst.ShuffleSampler(ds, seed=4, keys=True, auto_epoch=True)
    resumed = _stateful_loader(ds, sampler)
    resumed.load_state_dict(ckpt["loader"])
    rest = _rows(resumed)
    next_epoch = _rows(resumed)
    assert ckpt["head"] + rest == _reference(ds, [(1, i) for i in _order(60, 4, 1)])
    assert next_epoch == _reference(ds, [(2, i) for i in _order(60, 4, 2)])


@pytest.mark.parametrize("workers", [0, 2])
def test_plain_dataloader_recipe_resumes_exactly(workers):
    ds = _dataset(60)
    sampler = sst.ShuffleSampler(ds, seed=6, keys=True)
    sampler.set_epoch(1)
    loader = _loader(ds, sampler, workers)
    whole = _rows(loader)
    it = iter(loader)
    consumed = 0
    head = []
    for _ in range(4):
        batch = next(it)
        head += _rows([batch])
        consumed += len(batch)
    state = sampler.state_dict(consumed=consumed)
    if workers:
        assert sampler.state_dict()["position"] > consumed  # the workers fetched ahead
    del it
    fresh = sst.ShuffleSampler(ds, seed=6, keys=True)
    fresh.load_state_dict(state)
    fresh.set_epoch(1)  # a loop that sets the epoch before iterating still resumes
    assert head + _rows(_loader(ds, fresh, workers)) == whole


def test_consumed_counts_from_the_pass_even_after_it_ended():
    s = sst.ShuffleSampler(10, seed=1, auto_epoch=True)
    order = list(s)
    assert s.epoch == 1
    state = s.state_dict(consumed=7)
    assert (state["epoch"], state["position"]) == (0, 7)
    t = sst.ShuffleSampler(10, seed=1, auto_epoch=True)
    t.load_state_dict(state)
    assert list(t) == order[7:] and t.epoch == 1
    with pytest.raises(ValueError, match="consumed"):
        s.state_dict(consumed=11)


def _interleave(parts):
    out = []
    for k in range(max(len(p) for p in parts)):
        out += [p[k] for p in parts if k < len(p)]
    return out


def test_elastic_resume_at_another_world_size_continues_the_global_order():
    n, batch = 96, 4
    ds = _dataset(n)
    whole = _reference(ds, [(0, i) for i in _order(n, 5, 0)])
    states, head = [], []
    for rank in range(3):
        sampler = sst.ShuffleSampler(ds, seed=5, keys=True, num_replicas=3, rank=rank)
        it = iter(_loader(ds, sampler, 2))
        head.append(_rows(next(it) for _ in range(3)))
        states.append(sampler.state_dict(consumed=3 * batch))
        del it
    assert sorted(_interleave(head)) == sorted(whole[:36])
    for saved in (states[0], states[2]):  # ranks in lockstep: any rank's state will do
        rest = []
        for rank in range(2):
            sampler = sst.ShuffleSampler(ds, seed=5, keys=True, num_replicas=2, rank=rank)
            sampler.load_state_dict(saved)
            rest.append(_rows(_loader(ds, sampler, 2)))
        assert _interleave(head) == whole[:36]
        assert _interleave(rest) == whole[36:]  # nothing lost, nothing repeated


@pytest.mark.parametrize("old,new,drop_last", [(4, 3, False), (3, 4, False), (2, 5, True), (1, 7, False)])
def test_elastic_resume_with_uneven_rest(old, new, drop_last):
    n = 103
    whole = _order(n, 2, 0)
    consumed = 5
    saved = sst.ShuffleSampler(n, seed=2, num_replicas=old, rank=0, drop_last=drop_last)
    it = iter(saved)
    [next(it) for _ in range(consumed)]
    state = saved.state_dict()
    parts = []
    for rank in range(new):
        s = sst.ShuffleSampler(n, seed=2, num_replicas=new, rank=rank, drop_last=drop_last)
        s.load_state_dict(state)
        parts.append(list(s))
    merged = _interleave(parts)
    rest = whole[consumed * old:]
    if drop_last:
        assert merged == rest[: len(merged)] and len(rest) - len(merged) < new
    else:
        # DistributedSampler's padding repeats the epoch's first items.
        assert merged[: len(rest)] == rest and merged[len(rest):] == whole[: len(merged) - len(rest)]
    # After the remainder, the next pass is the whole next epoch.
    s = sst.ShuffleSampler(n, seed=2, num_replicas=new, rank=0, drop_last=drop_last)
    s.load_state_dict(state)
    list(s)
    assert len(s) == len(sst.ShuffleSampler(n, seed=2, num_replicas=new, drop_last=drop_last))


def test_replacement_draws_are_counter_based():
    s = sst.ShuffleSampler(10, seed=7, replacement=True, num_samples=25)
    s.set_epoch(3)
    draws = list(s)
    want = ss.Generator(7).child("ShuffleSampler", 3, "replacement").integers(0, 10, size=25).tolist()
    assert draws == want and len(s) == 25
    assert len(set(draws)) < 10 or len(draws) != len(set(draws))  # repeats happen
    parts = []
    for rank in range(3):
        r = sst.ShuffleSampler(10, seed=7, replacement=True, num_samples=25, num_replicas=3, rank=rank)
        r.set_epoch(3)
        parts.append(list(r))
    assert _interleave(parts)[:25] == want
    assert [s.index(k) for k in range(25)] == want
    # docs/spec.md#shufflesampler-v1 known answer
    assert list(sst.ShuffleSampler(10, seed=1, replacement=True)) == [4, 1, 8, 6, 7, 5, 5, 3, 7, 9]
    default = sst.ShuffleSampler(10, seed=7, replacement=True)
    assert len(default) == 10 and list(default) != list(sst.ShuffleSampler(10, seed=7))


def test_replacement_is_uniform():
    """Counts of 10 values over 100000 draws: chi-square p > 1e-7 for a uniform sampler."""
    from scipy import stats

    draws = list(sst.ShuffleSampler(10, seed=1, replacement=True, num_samples=100_000))
    assert stats.chisquare(np.bincount(draws, minlength=10)).pvalue > 1e-7


def test_replacement_in_a_dataloader_resumes_exactly():
    ds = _dataset(30)
    sampler = sst.ShuffleSampler(ds, seed=9, keys=True, replacement=True, num_samples=50)
    whole = _rows(_loader(ds, sampler, 2))
    assert whole == _reference(ds, list(sst.ShuffleSampler(ds, seed=9, keys=True, replacement=True, num_samples=50)))
    it = iter(_loader(ds, sampler, 2))
    head = _rows(next(it) for _ in range(3))
    state = sampler.state_dict(consumed=12)
    del it
    fresh = sst.ShuffleSampler(ds, seed=9, keys=True, replacement=True, num_samples=50)
    fresh.load_state_dict(state)
    assert head + _rows(_loader(ds, fresh, 2)) == whole


def test_o1_memory_at_a_billion_items():
    import tracemalloc

    tracemalloc.start()
    for kw in (dict(keys=True), dict(replacement=True), dict(num_replicas=8, rank=5, auto_epoch=True)):
        s = sst.ShuffleSampler(10**9, seed=1, **kw)
        first = [x for _, x in zip(range(5), s)]
        assert len(first) == 5
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2_000_000  # an index array would need 8 GB


def test_generator_argument_and_errors():
    assert list(sst.ShuffleSampler(20, generator=ss.Generator(5))) == list(sst.ShuffleSampler(20, seed=5))
    with pytest.raises(TypeError, match=r"generator: expected a seedstream.Generator, got torch.Generator; pass"):
        sst.ShuffleSampler(20, generator=torch.Generator())
    with pytest.raises(TypeError, match=r"seed: .*torch.Generator.*generator=seedstream.Generator"):
        sst.ShuffleSampler(20, seed=torch.Generator())
    with pytest.raises(TypeError, match=r"generator: .*numpy.Generator"):
        sst.ReproducibleDataset(_Augmented(3), generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"generator: .*torch.Generator; pass seedstream.Generator\(seed\)"):
        sst.randn(3, generator=torch.Generator())
    with pytest.raises(TypeError, match=r"generator: .*torch.Generator; pass seedstream.Generator\(seed\)"):
        sst.init.normal_(torch.empty(3), generator=torch.Generator())
    with pytest.raises(TypeError, match=r"generator: .*torch.Generator; pass seedstream.Generator\(seed\)"):
        sst.functional.dropout(torch.ones(3), 0.5, generator=torch.Generator())
    with pytest.raises(TypeError, match=r"generator: .*numpy.Generator; pass seedstream.Generator\(seed\)"):
        ss.StreamBitGenerator(np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"seed: expected an int or str, got torch.Generator; pass"):
        sst.init_module(torch.nn.Linear(2, 2), seed=torch.Generator())
    with pytest.raises(TypeError, match=r"seed: expected an int or str, got torch.Generator; pass"):
        ss.Generator(torch.Generator())
    with pytest.raises(TypeError, match="seed"):
        sst.ShuffleSampler(20, seed=1, generator=ss.Generator(1))
    with pytest.raises(TypeError, match="seed"):
        sst.ShuffleSampler(20)
    with pytest.raises(ValueError, match="num_samples"):
        sst.ShuffleSampler(20, seed=1, num_samples=5)
    with pytest.raises(ValueError, match="num_samples"):
        sst.ShuffleSampler(20, seed=1, replacement=True, num_samples=-1)
    ds = _dataset(4)
    with pytest.raises(TypeError, match="index"):
        ds[3]
    with pytest.raises(ValueError, match="index"):
        ds[-1, 3]
    with pytest.raises(RuntimeError, match="sample_generator"):
        sst.sample_generator()
    s = sst.ShuffleSampler(20, seed=1, num_replicas=2)
    with pytest.raises(ValueError, match="state"):
        s.load_state_dict({**s.state_dict(), "num_replicas": 3, "position": 8})


def test_plain_index_sampler_state_loads_states_without_the_new_fields():
    s = sst.ShuffleSampler(50, seed=3)
    it = iter(s)
    head = [next(it) for _ in range(10)]
    old = {k: s.state_dict()[k] for k in ("version", "seed", "n", "shuffle", "num_replicas", "rank",
                                          "drop_last", "epoch", "position")}
    t = sst.ShuffleSampler(50, seed=3)
    t.load_state_dict(old)
    assert head + list(t) == list(sst.ShuffleSampler(50, seed=3))


def test_reproducible_dataset_pickles_for_spawned_workers():
    import pickle

    ds = _dataset(10, seed="run-7")
    copy = pickle.loads(pickle.dumps(ds))
    assert copy[3, 4].tolist() == ds[3, 4].tolist()
    assert copy[3, 4].tolist() != ds[2, 4].tolist()


def test_sampler_benchmark_runs_at_tiny_size():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).resolve().parents[2] / "benches" / "bench_sampler.py"
    r = subprocess.run([sys.executable, str(script), "--size", "1e3", "--repeats", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| RandomSampler | " in r.stdout and "| ShuffleSampler keys=True |" in r.stdout
