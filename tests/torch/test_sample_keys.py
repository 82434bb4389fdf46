"""sample_keys: seedstream.torch.Dropout (and patch_dropout) with per-sample keys, whose
masks do not depend on the micro-batch split, under activation checkpointing and
torch.compile."""

import copy

import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402
from torch.utils.checkpoint import checkpoint  # noqa: E402

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch import functional as sf  # noqa: E402
from _dropout_models import Block  # noqa: E402


class Net(nn.Module):
    def __init__(self, ckpt=None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block(f"b{i}") for i in range(2)])
        self.drop = sst.Dropout(0.5, seed=5, name="out")
        self.ckpt = ckpt

    def forward(self, x):
        for b in self.blocks:
            x = b(x) if self.ckpt is None else checkpoint(b, x, use_reentrant=self.ckpt)
        return self.drop(x)


def _fresh(**kw):
    torch.manual_seed(7)
    return Net(**kw)


def test_keys_are_name_step_call_index_and_sample():
    drop = sst.Dropout(0.4, seed=3, name="d", rank=1)
    x = torch.rand(6, 10) + 1
    with sst.sample_keys(9, 20):
        first, second = drop(x), drop(x)  # top-level calls: a pass each
    for out in (first, second):
        for j in range(6):
            want = sf.dropout(x[j], 0.4, generator=ss.Generator(3).child("d", 9, 0, 20 + j))
            assert torch.equal(out[j], want)
    assert int(drop.step) == 2  # the calls still count
    net = _fresh()
    with sst.sample_keys(9, 20):
        y = net.blocks[0](x[:, :8])
    g = [ss.Generator(5).child("b0", 9, k) for k in range(2)]
    b = net.blocks[0]
    with torch.no_grad():
        h = sf.sample_dropout(torch.tanh(b.lin(x[:, :8])), 0.3, generator=g[0], sample_offset=20) * x[:, :8]
        want = sf.sample_dropout(h, 0.3, generator=g[1], sample_offset=20) + x[:, :8]
    assert torch.equal(y.detach(), want)
    # Outside the block: the module's own steps again.
    assert torch.equal(drop(x), sf.dropout(x, 0.4, generator=ss.Generator(3).child("d", 2, 1)))


@pytest.mark.parametrize("split", [[4, 4], [2, 2, 2, 2], [1, 7]])
def test_masks_do_not_depend_on_the_micro_batch_split(split):
    net = _fresh()
    x = torch.rand(8, 8) + 1
    with sst.sample_keys(2, 0):
        whole = net(x)
    parts, lo = [], 0
    for n in split:
        with sst.sample_keys(2, lo):
            parts.append(net(x[lo:lo + n]))
        lo += n
    got = torch.cat(parts)
    assert torch.equal(got == 0, whole == 0) and 0 < (whole == 0).float().mean() < 1
    torch.testing.assert_close(got, whole)
    other = _fresh()
    with sst.sample_keys(3, 0):
        assert not torch.equal(other(x) == 0, whole == 0)  # the step is in the key


def _grads(net, x, micro=(8,)):
    net.zero_grad()
    x = x.clone().requires_grad_()
    lo = 0
    for n in micro:
        with sst.sample_keys(1, lo):
            loss = net(x[lo:lo + n]).pow(2).sum()
        loss.backward()  # outside the block: a recomputation uses the keys of its call
        lo += n
    return [p.grad.clone() for p in net.parameters()] + [x.grad], [int(b) for b in net.buffers()]


@pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non-reentrant"])
def test_checkpoint_recomputation_replays_the_sample_masks(reentrant):
    x = torch.linspace(-2, 2, 64).reshape(8, 8)
    for micro in ((8,), (3, 5)):
        want, want_steps = _grads(_fresh(), x, micro)
        got, steps = _grads(_fresh(ckpt=reentrant), x, micro)
        assert all(torch.equal(a, b) for a, b in zip(want, got))
        assert steps == want_steps == [2 * len(micro)] * 2 + [len(micro)]


def test_patch_dropout_honours_sample_keys():
    model = nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.5))
    patch = sst.patch_dropout(model, seed=9, rank=2)
    x = torch.randn(4, 5)
    with sst.sample_keys(3, 20):
        out = model(x)
    with patch.samples(3, 20):
        assert torch.equal(model(x), out)
    with sst.sample_keys(0, 0), patch.samples(3, 20):  # the patch's own block wins
        assert torch.equal(model(x), out)
    with torch.no_grad():
        want = sf.sample_dropout(model[0](x), 0.5, generator=ss.Generator(9).child("1", 3, 0), sample_offset=20)
    assert torch.equal(out.detach(), want)


def test_bad_keys_name_the_argument():
    with pytest.raises(ValueError, match="^offset:"):
        with sst.sample_keys(0, -1):
            pass
    with pytest.raises(TypeError, match="^step:"):
        with sst.sample_keys(1.5, 0):
            pass


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")  # dynamo's own
def test_compiled_model_draws_the_eager_sample_masks():
    """Under torch.compile each Dropout call runs eagerly while the keys are set (a graph
    break); a graph traced without the keys is not reused with them."""
    torch._dynamo.reset()
    eager = _fresh()
    compiled_net = copy.deepcopy(eager)
    compiled = torch.compile(compiled_net, backend="aot_eager")
    x = torch.rand(8, 8) + 1
    plain = compiled(x)  # traced without keys: the module's own steps, as eager
    assert torch.equal(plain, eager(x))
    for lo, n in ((0, 8), (0, 3), (3, 5)):
        with sst.sample_keys(4, lo):
            want = eager(x[lo:lo + n])
            got = compiled(x[lo:lo + n])
        assert torch.equal(got, want)
    assert torch.equal(compiled(x), eager(x))  # no keys again: the steps moved alike
    torch._dynamo.reset()  # else the graphs above serve this copy too
    with pytest.raises(torch._dynamo.exc.Unsupported, match="disable"):
        with sst.sample_keys(0, 0):
            torch.compile(copy.deepcopy(eager), fullgraph=True, backend="aot_eager")(x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_masks_equal_the_cpu_masks():
    x = torch.rand(6, 4, 5) + 1
    got, want = [], []
    for device, out in (("cuda", got), ("cpu", want)):
        net = nn.Sequential(nn.Dropout1d(0.4), sst.Dropout(0.3, seed=2, name="d")).to(device)
        sst.patch_dropout(net, seed=2)
        with sst.sample_keys(1, 3):
            out.append(net(x.to(device)).cpu())
        q = x.to(device).reshape(6, 2, 2, 5)
        g = ss.Generator(2).child("attn")
        out.append(sf.scaled_dot_product_attention(q, q, q, dropout_p=0.5, generator=g, sample_offset=3).cpu())
    assert torch.equal(got[0], want[0])
    assert torch.equal(got[1] == 0, want[1] == 0)
    torch.testing.assert_close(got[1], want[1])
