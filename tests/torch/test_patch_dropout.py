"""patch_dropout: every dropout in a forward from named streams, the same masks under
activation checkpointing, strict loading, double backward."""

import copy

import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.checkpoint import checkpoint  # noqa: E402

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch import functional as sf  # noqa: E402


class Block(nn.Module):
    def __init__(self, own: bool, name: str) -> None:
        super().__init__()
        self.lin = nn.Linear(8, 8)
        self.drop = sst.Dropout(0.3, seed=5, name=name) if own else nn.Dropout(0.3)

    def forward(self, x):
        h = self.drop(torch.tanh(self.lin(x))) * x
        return F.dropout(h, 0.2, training=self.training) + x


class Net(nn.Module):
    """Three blocks and one block applied twice; `ckpt` picks how each call is checkpointed."""

    def __init__(self, ckpt=None, own=False, nested=False) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block(own, f"b{i}") for i in range(3)])
        self.shared = Block(own, "shared")
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


def _train(net, steps=3, torch_seed=0):
    """Gradients of each step (zeroed in between: reentrant checkpointing adds a shared
    module's gradient contributions in another order, so running sums may differ)."""
    torch.manual_seed(torch_seed)  # must not matter
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
    net = Net(**kw)
    return net


@pytest.mark.parametrize("own", [False, True], ids=["torch-dropout", "seedstream-Dropout"])
@pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non-reentrant"])
@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad")  # nested reentrant
def test_checkpointing_changes_no_gradient_and_no_counter(own, reentrant, nested):
    plain = _fresh(own=own)
    patch = sst.patch_dropout(plain, seed=3)
    want_grads, want_buffers = _train(plain)
    ckpt = _fresh(ckpt=reentrant, own=own, nested=nested)
    ckpt.load_state_dict(_fresh(own=own).state_dict(), strict=False)
    cpatch = sst.patch_dropout(ckpt, seed=3)
    grads, buffers = _train(ckpt, torch_seed=99)
    assert all(torch.equal(a, b) for a, b in zip(want_grads, grads))
    assert all(torch.equal(a, b) for a, b in zip(want_buffers, buffers))
    assert patch.step == cpatch.step == 3
    if own:
        assert int(plain.shared.drop.step) == 6  # two calls per step


def test_key_is_seed_path_step_and_call_index():
    net = nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.5))
    patch = sst.patch_dropout(net, seed="k")
    x = torch.ones(3, 6)
    outs = [net(x) for _ in range(2)]
    h = net[0](x)  # a top-level call of a submodule is a pass of its own: it draws nothing
    for t, out in enumerate(outs):
        want = sf.dropout(net[0](x), 0.5, generator=ss.Generator("k").child("1", t, 0))
        assert torch.equal(out, want)
    assert patch.step == 2 and int(net.seedstream_dropout_step) == 2
    del h


def test_training_forward_ignores_torch_seed_and_eval_draws_nothing():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.25, batch_first=True)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    other = copy.deepcopy(enc)
    x = torch.randn(2, 5, 16)
    sst.patch_dropout(enc, seed=1)
    p2 = sst.patch_dropout(other, seed=1)
    torch.manual_seed(1)
    a = enc(x)
    torch.manual_seed(2)
    b = other(x)
    assert torch.equal(a, b)
    enc.eval()
    other.eval()
    assert torch.equal(enc(x), other(x)) and p2.step == 1
    p2.remove()
    other.train()
    torch.manual_seed(1)
    c = other(x)
    torch.manual_seed(2)
    assert not torch.equal(c, other(x))  # torch's dropout again
    assert not hasattr(other, "seedstream_dropout_step")


def test_multihead_attention_weights_dropout_and_sdpa_are_routed():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = torch.randn(2, 4, 8)
    patch = sst.patch_dropout(mha, seed=2)
    torch.manual_seed(1)
    out1, w1 = mha(x, x, x, need_weights=True, average_attn_weights=False)
    patch.remove()
    patch = sst.patch_dropout(mha, seed=2)
    torch.manual_seed(2)
    out2, w2 = mha(x, x, x, need_weights=True, average_attn_weights=False)
    assert torch.equal(out1, out2)

    class Attn(nn.Module):
        def forward(self, q):
            return F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, is_causal=True)

    attn = Attn()
    sst.patch_dropout(attn, seed=4)
    q = torch.randn(1, 2, 5, 4)
    want = sf.scaled_dot_product_attention(
        q, q, q, dropout_p=0.5, is_causal=True, generator=ss.Generator(4).child("", 0, 0)
    )
    assert torch.equal(attn(q), want)
    ref = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    no_drop = sf.scaled_dot_product_attention(q, q, q, dropout_p=1e-300, is_causal=True, generator=ss.Generator(0))
    assert torch.allclose(no_drop, ref, atol=1e-6)


@pytest.mark.parametrize(
    "module,shape,mask_shape",
    [
        (nn.Dropout1d(0.5), (4, 6, 10), (4, 6, 1)),
        (nn.Dropout1d(0.5), (6, 10), (6, 1)),
        (nn.Dropout2d(0.5), (4, 6, 3, 3), (4, 6, 1, 1)),
        (nn.Dropout3d(0.5), (4, 6, 2, 2, 2), (4, 6, 1, 1, 1)),
        (nn.Dropout3d(0.5), (6, 2, 2, 2), (6, 1, 1, 1)),
    ],
)
def test_channel_dropout_masks_whole_channels(module, shape, mask_shape):
    net = nn.Sequential(module)
    sst.patch_dropout(net, seed=9)
    x = torch.rand(shape) + 1
    y = net(x)
    dropped = torch.from_numpy(ss.Generator(9).child("0", 0, 0).bernoulli(0.5, size=int(torch.tensor(mask_shape).prod())))
    want = torch.where(dropped.reshape(mask_shape), torch.zeros(()), x * 2.0)
    assert torch.equal(y, want)


def test_ranks_get_different_masks_unless_asked():
    x = torch.ones(64)

    def masks(rank):
        net = nn.Sequential(nn.Dropout(0.5))
        sst.patch_dropout(net, seed=1, rank=rank)
        return net(x)

    assert not torch.equal(masks(0), masks(1))
    assert not torch.equal(masks(0), masks(None))
    assert torch.equal(masks(None), masks("auto"))  # torch.distributed not initialised
    with pytest.raises(ValueError, match="rank"):
        masks(-1)


def test_rank_is_in_the_key_once_torch_distributed_is_initialised(tmp_path):
    dist = pytest.importorskip("torch.distributed")
    if not dist.is_available():
        pytest.skip("torch.distributed not available")
    x = torch.ones(64)
    auto, zero = nn.Sequential(nn.Dropout(0.5)), nn.Sequential(nn.Dropout(0.5))
    sst.patch_dropout(auto, seed=1)  # patched before the process group exists
    sst.patch_dropout(zero, seed=1, rank=0)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/pg", rank=0, world_size=1)
    try:
        assert torch.equal(auto(x), zero(x))
    finally:
        dist.destroy_process_group()


def test_strict_loading_of_checkpoints_saved_before_the_swap():
    before = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
    state = before.state_dict()
    swapped = nn.Sequential(nn.Linear(4, 4), sst.Dropout(0.1, seed=1, name="d"))
    swapped.load_state_dict(state, strict=True)
    assert torch.equal(swapped[0].weight, before[0].weight) and int(swapped[1].step) == 0
    patched = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
    patch = sst.patch_dropout(patched, seed=1)
    patched(torch.ones(4))
    patched.load_state_dict(state, strict=True)
    assert patch.step == 1


def test_resume_continues_the_masks():
    def make():
        net = nn.Sequential(nn.Dropout(0.5), sst.Dropout(0.5, seed=2, name="own"))
        return net, sst.patch_dropout(net, seed=1)

    x = torch.ones(100)
    run, _ = make()
    want = [run(x) for _ in range(4)]
    first, _ = make()
    for _ in range(2):
        first(x)
    resumed, patch = make()
    resumed.load_state_dict(first.state_dict(), strict=True)
    assert patch.step == 2
    assert torch.equal(resumed(x), want[2]) and torch.equal(resumed(x), want[3])


def test_patching_twice_or_a_non_module_is_an_error():
    net = nn.Dropout(0.5)
    sst.patch_dropout(net, seed=1)
    with pytest.raises(ValueError, match="model"):
        sst.patch_dropout(net, seed=1)
    with pytest.raises(TypeError, match="model"):
        sst.patch_dropout(lambda x: x, seed=1)


def test_dropout_backward_is_differentiable():
    x = torch.linspace(-1, 1, 30, dtype=torch.float64).reshape(5, 6).requires_grad_()
    assert torch.autograd.gradgradcheck(lambda t: sf.dropout(t, 0.4, generator=ss.Generator(1)) ** 2, (x,))
    assert torch.autograd.gradgradcheck(
        lambda t: sf.channel_dropout(t, 0.4, generator=ss.Generator(1), mask_dims=1) ** 2, (x,)
    )
    y = sf.dropout(x, 0.4, generator=ss.Generator(1))
    (g,) = torch.autograd.grad(y.pow(2).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    kept = (y != 0).to(x.dtype)
    assert torch.allclose(gg, 2 * kept / 0.6**2)


def test_torch_dropout_and_keyword_forms_are_routed_and_respect_train():
    class Calls(nn.Module):
        def forward(self, x):
            a = torch.dropout(x, 0.5, train=self.training)
            b = F.dropout(input=x, p=0.5, training=self.training)
            return a, b

    net = Calls()
    patch = sst.patch_dropout(net, seed=6)
    x = torch.ones(32)
    a, b = net(x)
    g = ss.Generator(6)
    assert torch.equal(a, sf.dropout(x, 0.5, generator=g.child("", 0, 0)))
    assert torch.equal(b, sf.dropout(x, 0.5, generator=g.child("", 0, 1)))
    net.eval()
    a, b = net(x)
    assert a is x and b is x and patch.step == 1


def test_rate_zero_takes_its_key_and_counts_the_pass():
    class TwoDropouts(nn.Module):
        def forward(self, x):
            return F.dropout(F.dropout(x, 0.0, training=self.training), 0.5, training=self.training)

    net = TwoDropouts()
    patch = sst.patch_dropout(net, seed="z")
    x = torch.ones(16)
    assert torch.equal(net(x), sf.dropout(x, 0.5, generator=ss.Generator("z").child("", 0, 1)))
    assert patch.step == 1
    net.eval()
    net(x)
    assert patch.step == 1
