"""sample_dropout: each sample's mask comes from its own child stream, whatever the split."""

import pytest
import torch

from seedstream import Generator
from seedstream.torch import functional as sf
from seedstream.torch import patch_dropout

DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


@pytest.mark.parametrize("dtype", DTYPES)
def test_each_sample_is_dropout_of_its_child_stream(dtype):
    g = Generator(4).child("layer", 7)
    x = torch.randn(6, 3, 5).to(dtype)
    out = sf.sample_dropout(x, 0.4, generator=g, sample_offset=11)
    for j in range(6):
        assert torch.equal(out[j], sf.dropout(x[j], 0.4, generator=g.child(11 + j)))
    assert g.position == 0


@pytest.mark.parametrize("split", [[6], [1, 5], [2, 2, 2], [1] * 6])
def test_splits_give_the_same_masks(split):
    g = Generator("s")
    x = torch.randn(6, 17)
    whole = sf.sample_dropout(x, 0.5, generator=g, sample_offset=100)
    parts, lo = [], 0
    for n in split:
        parts.append(sf.sample_dropout(x[lo:lo + n], 0.5, generator=g, sample_offset=100 + lo))
        lo += n
    assert torch.equal(torch.cat(parts), whole)


def test_backward_uses_the_same_masks():
    g = Generator(1)
    x = torch.randn(4, 9, requires_grad=True)
    out = sf.sample_dropout(x, 0.3, generator=g, sample_offset=5)
    out.sum().backward()
    kept = out.detach() != 0
    assert torch.equal(x.grad != 0, kept)
    assert torch.allclose(x.grad[kept], torch.full_like(x.grad[kept], 1 / 0.7))


def test_eval_and_zero_p_are_identity():
    x = torch.randn(3, 4)
    g = Generator(0)
    assert sf.sample_dropout(x, 0.5, generator=g, training=False) is x
    assert sf.sample_dropout(x, 0.0, generator=g) is x


def test_errors_name_the_argument():
    g = Generator(0)
    with pytest.raises(ValueError, match="^sample_offset:"):
        sf.sample_dropout(torch.ones(2, 2), 0.5, generator=g, sample_offset=-1)
    with pytest.raises(TypeError, match="^sample_offset:"):
        sf.sample_dropout(torch.ones(2, 2), 0.5, generator=g, sample_offset=1.0)
    with pytest.raises(ValueError, match="^sample_offset:"):
        sf.sample_dropout(torch.ones(3, 2), 0.5, generator=g, sample_offset=2**64 - 2)
    with pytest.raises(ValueError, match="^x:"):
        sf.sample_dropout(torch.ones(()), 0.5, generator=g)
    with pytest.raises(ValueError, match="^p:"):
        sf.sample_dropout(torch.ones(2, 2), 1.5, generator=g)


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(5, 5)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(x) + self.drop(self.fc(x))


def test_patch_samples_keys():
    model = _Net()
    patch = patch_dropout(model, seed=9)
    x = torch.randn(4, 5)
    with patch.samples(step=3, offset=20):
        out = model.drop(x)
    root = Generator(9)
    want = sf.sample_dropout(x, 0.5, generator=root.child("drop", 3, 0), sample_offset=20)
    assert torch.equal(out, want)
    # Outside the block: the default keys again.
    assert not torch.equal(model.drop(x), want)


def test_patch_samples_micro_batches_and_rank_do_not_matter():
    model = _Net()
    x = torch.randn(6, 5)
    patch = patch_dropout(model, seed=2, rank=3)
    with patch.samples(step=1, offset=0):
        whole = model(x)
    with patch.samples(step=1, offset=0):
        a = model(x[:4])
    with patch.samples(step=1, offset=4):
        b = model(x[4:])
    patch.remove()
    other = patch_dropout(model, seed=2, rank=0)
    with other.samples(step=1, offset=4):
        c = model(x[4:])
    assert torch.equal(torch.cat([a, b]), whole)
    assert torch.equal(b, c)


def test_patch_samples_checkpoint_recompute():
    from torch.utils.checkpoint import checkpoint

    model = _Net()
    patch = patch_dropout(model, seed=5)
    x = torch.randn(4, 5, requires_grad=True)
    with patch.samples(step=0, offset=8):
        plain = model(x)
    plain.sum().backward()
    g_plain = x.grad.clone()
    x.grad = None
    with patch.samples(step=0, offset=8):
        out = checkpoint(model, x, use_reentrant=False)
    out.sum().backward()
    assert torch.equal(out, plain) and torch.equal(x.grad, g_plain)


def test_patch_samples_rejects_channel_dropout_and_bad_args():
    model = torch.nn.Sequential(torch.nn.Dropout2d(0.5))
    patch = patch_dropout(model, seed=1)
    with pytest.raises(ValueError, match="^model: channel dropout"):
        with patch.samples(step=0, offset=0):
            model(torch.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match="^offset:"):
        with patch.samples(step=0, offset=-2):
            pass
    with pytest.raises(TypeError, match="^step:"):
        with patch.samples(step="0", offset=0):
            pass


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("where, local", [((0, 3), (4, 2)), ((1, 0), (2, 7)), ((2, 5), (1, 1)), ((0, 0), (4, 7))])
def test_sharded_sample_is_the_slice_of_the_whole_mask(dtype, where, local):
    g = Generator(6).child("mlp.drop", 2)
    full_x = torch.randn(5, 4, 7).to(dtype)
    whole = sf.sample_dropout(full_x, 0.3, generator=g, sample_offset=40)
    box = (slice(None),) + tuple(slice(o, o + n) for o, n in zip(where, local))
    x = full_x[box].contiguous().requires_grad_(dtype == torch.float32)
    part = sf.sample_dropout(x, 0.3, generator=g, sample_offset=40, sample_shape=(4, 7), element_offset=where)
    assert torch.equal(part.detach(), whole[box])
    if x.requires_grad:
        part.sum().backward()
        assert torch.equal(x.grad != 0, whole[box] != 0)


def test_sharded_sample_errors():
    g = Generator(0)
    x = torch.ones(2, 3)
    with pytest.raises(ValueError, match="^sample_shape:"):
        sf.sample_dropout(x, 0.5, generator=g, sample_shape=(5,))
    with pytest.raises(ValueError, match="^sample_shape:"):
        sf.sample_dropout(x, 0.5, generator=g, sample_shape=(5, 1), element_offset=(0, 0))
    with pytest.raises(ValueError, match="^element_offset:"):
        sf.sample_dropout(x, 0.5, generator=g, sample_shape=(4,), element_offset=(2,))


def _box_by_fill_box(x, p, g, offset, shape, where):
    """The box form as one fill_box bernoulli mask per sample, applied with torch.where."""
    import numpy as np

    from seedstream import fill_box

    dropped = np.empty(tuple(x.shape), dtype=np.bool_)
    for j in range(x.shape[0]):
        fill_box(Generator.from_stream(g._stream.child([offset + j])), "bernoulli", shape, where, dropped[j], p)
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    return torch.where(torch.from_numpy(dropped), x.new_zeros(()), x * scale)


@pytest.mark.parametrize("algorithm", ["philox", "pcg64"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, where, local",
    [((9,), (3,), (5,)), ((6, 7), (1, 3), (4, 3)), ((5, 6, 7), (1, 2, 0), (3, 4, 7)), ((3, 5, 9), (0, 1, 5), (3, 3, 4))],
)
def test_box_form_equals_per_sample_fill_box(algorithm, dtype, shape, where, local):
    # 300 samples: several of the core's parallel tasks.
    g = Generator(12, algorithm=algorithm).child("attn.drop", 4)
    x = torch.randn((300,) + local).to(dtype)
    for p in (0.3, 1.0):
        got = sf.sample_dropout(x, p, generator=g, sample_offset=77, sample_shape=shape, element_offset=where)
        want = _box_by_fill_box(x, p, g, 77, shape, where)
        assert torch.equal(got.view(torch.int8), want.view(torch.int8)), p
    assert g.position == 0


def test_box_form_backward_regenerates_the_masks():
    g = Generator(3).child("mlp", 1)
    full = torch.randn(40, 6, 10)
    whole = sf.sample_dropout(full, 0.4, generator=g, sample_offset=5)
    x = full[:, 2:5, 3:9].contiguous().requires_grad_()
    out = sf.sample_dropout(x, 0.4, generator=g, sample_offset=5, sample_shape=(6, 10), element_offset=(2, 3))
    assert out.grad_fn is not None and "SampleDropout" in type(out.grad_fn).__name__
    grad = torch.randn_like(x)
    out.backward(grad)
    want = sf.sample_dropout(grad, 0.4, generator=g, sample_offset=5, sample_shape=(6, 10), element_offset=(2, 3))
    assert torch.equal(x.grad, want)
    assert torch.equal(x.grad != 0, whole[:, 2:5, 3:9] != 0)
