"""torch.distributed: sharded parameters get their part of the unsharded values; dropout
masks that do not depend on how the batch is split over processes."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as tdist

import _dist_workers as w

pytestmark = pytest.mark.skipif(not tdist.is_available(), reason="torch without distributed support")

FLOATS = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def _cuda_devices() -> int:
    """CUDA devices NCCL can use (one per process), 0 without CUDA or NCCL."""
    if not (tdist.is_nccl_available() and torch.cuda.is_available()):
        return 0
    return torch.cuda.device_count()


# The same checks on CUDA with NCCL, one device per process: 2 processes, and 4 where there
# are 4 devices.
NCCL = pytest.param("nccl", marks=pytest.mark.skipif(_cuda_devices() < 2, reason="needs 2 CUDA devices and NCCL"))


class Runs:
    """Where one backend's processes saved their results, and which world sizes ran."""

    def __init__(self, path, worlds):
        self.path, self.worlds = path, worlds

    def __truediv__(self, name):
        return self.path / name


@pytest.fixture(scope="module", params=["gloo", NCCL])
def runs(request, tmp_path_factory):
    """One spawn per world size (starting processes dominates the cost): each process checks
    its shards of a sharded init against an unsharded one, then trains with dropout. gloo
    runs on the CPU; nccl on `cuda:rank`, its results saved on the CPU."""
    backend = request.param
    out = tmp_path_factory.mktemp(f"dist-{backend}")
    device = "cuda" if backend == "nccl" else "cpu"
    # Every float dtype on 2 processes; on 4, the two that matter most for large models.
    plan = ((2, FLOATS), (4, (torch.float32, torch.bfloat16)))
    if backend == "nccl":
        plan = tuple((world, dtypes) for world, dtypes in plan if world <= _cuda_devices())
    for world, dtypes in plan:
        w.spawn(world, out, w.all_body, dtypes, 5, str(out), device, backend=backend)
    return Runs(out, tuple(world for world, _ in plan))


def test_sharded_init_equals_unsharded_on_2_and_4_ranks(runs):
    # The checks run in the processes (spawn fails if one raises); here: all of them ran.
    assert sorted(p.name for p in runs.path.glob("train-*.pt")) == [
        f"train-{world}-{rank}.pt" for world in runs.worlds for rank in range(world)]
    assert runs.worlds[0] == 2


def _merged(runs, world):
    seen, params = {}, []
    for rank in range(world):
        r = torch.load(runs / f"train-{world}-{rank}.pt")
        assert not seen.keys() & r["seen"].keys()
        seen.update(r["seen"])
        params.append(r["params"])
    return seen, params


def test_sample_masks_equal_across_world_sizes_and_micro_batches(runs):
    one = w.train(0, 1, 4, ddp=False)["seen"]
    assert len(one) == w.STEPS * w.SAMPLES
    for world in runs.worlds:
        seen, _ = _merged(runs, world)
        assert seen.keys() == one.keys()
        for key, (x, out) in one.items():
            # Identical data and identical masks, bit for bit, for every sample and step.
            assert torch.equal(seen[key][0], x), (world, key)
            assert torch.equal(seen[key][1] == 0, out == 0), (world, key)
            assert torch.equal(seen[key][1], out), (world, key)
    masks = torch.stack([out == 0 for _, out in one.values()])
    assert 0.2 < masks.float().mean() < 0.4  # p = 0.3: masks are drawn at all


def test_one_and_two_process_training_agree(runs):
    ref = w.train(0, 1, 4, ddp=False)["params"]
    _, params = _merged(runs, 2)
    for k, v in ref.items():
        assert torch.equal(params[0][k], params[1][k]), k  # DDP keeps replicas in step
        # Only the reduction order of the gradients differs.
        torch.testing.assert_close(params[0][k], v, rtol=1e-5, atol=1e-6)


def test_channel_attention_and_module_masks_equal_on_1_and_2_processes(runs):
    """Dropout1d, MultiheadAttention and seedstream.torch.Dropout under sample_keys: one
    process in micro-batches of 4 and two DDP processes in micro-batches of 2 draw the same
    masks for every sample and step."""
    one = w.train_samples(0, 1, 4, ddp=False)
    two = {}
    for rank in range(2):
        two.update(torch.load(runs / f"samples-{rank}.pt"))
    assert two.keys() == one.keys() and len(one) == w.STEPS * w.SAMPLES
    for key, masks in one.items():
        assert all(torch.equal(a, b) for a, b in zip(masks, two[key])), key
    for i in range(3):
        dropped = torch.stack([m[i] for m in one.values()]).float().mean()
        assert 0.15 < dropped < 0.45, i  # p = 0.3: masks are drawn at all


def test_default_keys_differ_across_ddp_ranks(runs):
    both = torch.load(runs / "default-0.pt")["auto"]
    assert not torch.equal(both[0] == 0, both[1] == 0)

