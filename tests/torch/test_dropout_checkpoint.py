"""seedstream.torch.Dropout on its own (no patch_dropout) under activation checkpointing:
the same gradients and the same steps as without it."""

import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402
from torch.utils.checkpoint import checkpoint  # noqa: E402

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch import functional as sf  # noqa: E402
from _dropout_models import Block  # noqa: E402


class Net(nn.Module):
    """Three blocks and one block applied twice; `ckpt` picks how each call is checkpointed."""

    def __init__(self, ckpt=None, nested=False) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block(f"b{i}") for i in range(3)])
        self.shared = Block("shared")
        self.ckpt, self.nested = ckpt, nested

    def _call(self, f, x):
        if self.ckpt is None:
            return f(x)
        return checkpoint(f, x, use_reentrant=self.ckpt, preserve_rng_state=False)

    def _pair(self, x):
        return self._call(self.blocks[1], self._call(self.blocks[0], x))

    def forward(self, x):
        x = self._call(self._pair, x) if self.nested else self._pair(x)
        x = self._call(self.blocks[2], x)
        for _ in range(2):
            x = self._call(self.shared, x)
        return x.pow(2).sum()


def _train(net, steps=3):
    torch.manual_seed(0)  # must not matter
    x = torch.linspace(-2, 2, 32).reshape(4, 8).requires_grad_()
    grads = []
    for _ in range(steps):
        net.zero_grad()
        x.grad = None
        net(x).backward()
        grads += [p.grad.clone() for p in net.parameters()] + [x.grad.clone()]
    return grads, [b.clone() for b in net.buffers()]


def _fresh(**kw):
    torch.manual_seed(7)
    return Net(**kw)


@pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non-reentrant"])
@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad")  # nested reentrant
def test_checkpointing_changes_no_gradient_and_no_step(reentrant, nested):
    plain = _fresh()
    want_grads, want_buffers = _train(plain)
    ckpt = _fresh(ckpt=reentrant, nested=nested)
    grads, buffers = _train(ckpt)
    assert len(grads) == len(want_grads) and len(buffers) == 4
    assert all(torch.equal(a, b) for a, b in zip(want_grads, grads))
    assert all(torch.equal(a, b) for a, b in zip(want_buffers, buffers))
    assert [int(b.drop.step) for b in ckpt.blocks] == [6, 6, 6]  # two calls per step
    assert int(ckpt.shared.drop.step) == 12  # two calls per block call, two block calls


def test_each_call_in_a_forward_takes_the_next_step():
    drop = sst.Dropout(0.5, seed=1, name="d")
    x = torch.ones(64)
    first, second = drop(x), drop(x)
    for t, out in enumerate((first, second)):
        assert torch.equal(out, sf.dropout(x, 0.5, generator=ss.Generator(1).child("d", t)))
    assert not torch.equal(first, second) and int(drop.step) == 2


@pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non-reentrant"])
def test_checkpointed_function_outside_any_module(reentrant):
    """Top-level calls of a checkpointed function: the first takes the checkpointed tensor,
    the second continues from it when recomputed."""
    grads = []
    for ckpt in (False, True):
        torch.manual_seed(3)
        blocks = [Block("f0"), Block("f1")]
        x = torch.linspace(-1, 1, 32).reshape(4, 8).requires_grad_()
        for _ in range(2):
            fn = lambda t: blocks[1](blocks[0](t))  # noqa: E731
            y = checkpoint(fn, x, use_reentrant=reentrant) if ckpt else fn(x)
            y.pow(2).sum().backward()
        grads.append([x.grad] + [p.grad for b in blocks for p in b.parameters()])
        assert [int(b.drop.step) for b in blocks] == [4, 4]
    assert all(torch.equal(a, b) for a, b in zip(*grads))


def test_state_dict_load_between_checkpointed_steps():
    torch.manual_seed(3)
    block = Block("s")
    x = torch.linspace(-1, 1, 32).reshape(4, 8).requires_grad_()
    with torch.no_grad():
        block(x)  # a call that may be recomputed, never is
    block.load_state_dict({**block.state_dict(), "drop.step": torch.tensor(7)})
    checkpoint(block, x, use_reentrant=False).pow(2).sum().backward()
    got = x.grad.clone()
    x.grad = None
    block.load_state_dict({**block.state_dict(), "drop.step": torch.tensor(7)})
    block(x).pow(2).sum().backward()
    assert torch.equal(got, x.grad) and int(block.drop.step) == 9


def test_recomputation_that_matches_no_forward_call_raises():
    drop = sst.Dropout(0.5, seed=2, name="f")
    x = torch.ones(4, 8, requires_grad=True)
    y = checkpoint(lambda t: drop(t * 2), x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="without a matching forward call"):
        y.sum().backward()


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_model_is_tracked_too(how):
    import copy
    import pickle

    torch.manual_seed(3)
    block = Block("c")
    twin = copy.deepcopy(block) if how == "deepcopy" else pickle.loads(pickle.dumps(block))
    x = torch.linspace(-1, 1, 32).reshape(4, 8).requires_grad_()
    checkpoint(twin, x, use_reentrant=False).pow(2).sum().backward()
    got = x.grad.clone()
    x.grad = None
    block(x).pow(2).sum().backward()
    assert torch.equal(got, x.grad) and int(twin.drop.step) == int(block.drop.step) == 2

