"""Deterministic Dropout: mask = f(seed, name, step, index); backward regenerates it."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch.functional import dropout  # noqa: E402


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_forward_and_backward_use_the_bernoulli_mask(dtype):
    x = (torch.arange(1000, dtype=torch.float32) / 7 - 50).to(dtype).requires_grad_()
    y = dropout(x, 0.3, generator=ss.Generator(8))
    dropped = torch.from_numpy(ss.Generator(8).bernoulli(0.3, size=1000))
    scale = torch.tensor(1 / 0.7, dtype=torch.float64).to(torch.float32 if dtype != torch.float64 else dtype)
    want = torch.where(dropped, torch.zeros((), dtype=dtype), (x.detach().to(scale.dtype) * scale).to(dtype))
    assert torch.equal(y, want)
    grad = torch.linspace(-3, 3, 1000).to(dtype)
    y.backward(grad)
    want_grad = torch.where(dropped, torch.zeros((), dtype=dtype), (grad.to(scale.dtype) * scale).to(dtype))
    assert torch.equal(x.grad, want_grad)


def test_matches_torch_semantics_statistically():
    x = torch.ones(200_000)
    y = dropout(x, 0.25, generator=ss.Generator(1))
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.75) < 6 * (0.75 * 0.25 / 200_000) ** 0.5
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.75))
    assert dropout(x, 0.0, generator=ss.Generator(1)) is x
    assert dropout(x, 0.5, generator=ss.Generator(1), training=False) is x
    assert not dropout(x, 1.0, generator=ss.Generator(1)).any()


def test_functional_advances_the_generator():
    g = ss.Generator(2)
    dropout(torch.ones(10), 0.5, generator=g)
    assert g.position == 3


def test_module_masks_depend_on_seed_name_step_only():
    x = torch.ones(64, 64)
    a = sst.Dropout(0.5, seed=1, name="block0")
    b = sst.Dropout(0.5, seed=1, name="block0")
    m1, m2 = a(x), a(x)
    assert not torch.equal(m1, m2)  # a new mask each step
    assert torch.equal(b(x), m1) and torch.equal(b(x), m2)
    assert int(a.step) == 2
    want = ss.Generator(1).child("block0", 1).bernoulli(0.5, size=64 * 64).reshape(64, 64)
    assert torch.equal(m2 == 0, torch.from_numpy(want))
    other = sst.Dropout(0.5, seed=1, name="block1")
    assert not torch.equal(other(x), m1)
    a.eval()
    assert a(x) is x and int(a.step) == 2


def test_resume_from_state_dict_continues_with_next_masks():
    x = torch.ones(1000)
    run = sst.Dropout(0.2, seed="run", name="d")
    masks = [run(x) for _ in range(5)]
    resumed = sst.Dropout(0.2, seed="run", name="d")
    first = sst.Dropout(0.2, seed="run", name="d")
    for _ in range(3):
        first(x)
    resumed.load_state_dict(first.state_dict())
    assert torch.equal(resumed(x), masks[3]) and torch.equal(resumed(x), masks[4])


def test_backward_stores_no_mask():
    """The autograd graph saves no tensor of the input's size (the mask is regenerated)."""
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    x = torch.ones(10_000, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        dropout(x, 0.5, generator=ss.Generator(3)).sum().backward()
    assert sum(saved) == 0
    saved.clear()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        torch.nn.functional.dropout(x, 0.5).sum().backward()
    assert sum(saved) >= 10_000


def test_bad_arguments():
    with pytest.raises(ValueError, match="p"):
        sst.Dropout(1.5, seed=1, name="x")
    with pytest.raises(TypeError, match="name"):
        sst.Dropout(0.5, seed=1, name=3)
    with pytest.raises(TypeError, match="generator"):
        dropout(torch.ones(3), 0.5, generator=None)
    with pytest.raises(TypeError, match="x"):
        dropout(torch.ones(3, dtype=torch.int64), 0.5, generator=ss.Generator(1))
    with pytest.raises(ValueError, match="p"):
        dropout(torch.ones(3), float("nan"), generator=ss.Generator(1))


def test_rate_zero_takes_the_place_of_its_draw():
    x = torch.ones(10)
    g = ss.Generator(2)
    assert dropout(x, 0.0, generator=g) is x and g.position == 3  # as at p = 0.5
    assert dropout(x, 0.0, generator=g, training=False) is x and g.position == 3
    c = ss.Generator(2)
    y = torch.ones(3, 5, 2)
    assert sst.functional.channel_dropout(y, 0.0, generator=c) is y
    assert c.position == 4  # 15 mask entries, four per block
    drop = sst.Dropout(0.0, seed=1, name="d")
    assert drop(x) is x and int(drop.step) == 1
    drop.eval()
    assert drop(x) is x and int(drop.step) == 1


def test_changing_a_rate_to_zero_shifts_no_other_mask():
    x = torch.ones(64)
    for p in (0.5, 0.0):
        g = ss.Generator(4)
        dropout(x, p, generator=g)
        assert torch.equal(dropout(x, 0.5, generator=g), dropout(x, 0.5, generator=ss.Generator(4).advance(16)))
    drop = sst.Dropout(0.0, seed=1, name="d")
    drop(x)
    drop.p = 0.5
    assert torch.equal(drop(x), dropout(x, 0.5, generator=ss.Generator(1).child("d", 1)))


def test_forward_called_directly_takes_the_next_step():
    drop = sst.Dropout(0.5, seed=1, name="d")
    x = torch.ones(64)
    drop(x)
    assert torch.equal(drop.forward(x), dropout(x, 0.5, generator=ss.Generator(1).child("d", 1)))
    assert int(drop.step) == 2


def test_ranks_get_different_masks_unless_asked():
    x = torch.ones(4096)
    masks = {r: sst.Dropout(0.5, seed=2, name="d", rank=r)(x) for r in (None, 0, 1)}
    assert not torch.equal(masks[0], masks[1])
    assert not torch.equal(masks[None], masks[0])
    # rank r is the stream child(name, step, r); no rank is child(name, step)
    want = dropout(x, 0.5, generator=ss.Generator(2).child("d", 0, 1))
    assert torch.equal(masks[1], want)
    assert torch.equal(masks[None], dropout(x, 0.5, generator=ss.Generator(2).child("d", 0)))
    # "auto" without torch.distributed is no rank: the masks of a single process are unchanged
    assert torch.equal(sst.Dropout(0.5, seed=2, name="d")(x), masks[None])
    with pytest.raises(ValueError, match="^rank:"):
        sst.Dropout(0.5, seed=2, name="d", rank=-1)


def test_auto_rank_follows_torch_distributed(tmp_path):
    import torch.distributed as dist

    x = torch.ones(4096)
    plain = sst.Dropout(0.5, seed=2, name="d")(x)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/pg", rank=0, world_size=1)
    try:
        got = sst.Dropout(0.5, seed=2, name="d")(x)
    finally:
        dist.destroy_process_group()
    assert torch.equal(got, dropout(x, 0.5, generator=ss.Generator(2).child("d", 0, 0)))
    assert not torch.equal(got, plain)
