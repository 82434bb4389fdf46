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


def test_patch_samples_rejects_bad_args():
    model = torch.nn.Sequential(torch.nn.Dropout2d(0.5))
    patch = patch_dropout(model, seed=1)
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


@pytest.mark.parametrize("dtype", DTYPES)
def test_each_sample_gets_the_channel_mask_of_its_child_stream(dtype):
    g = Generator(4).child("conv", 2)
    x = (torch.rand(6, 5, 3, 2) + 1).to(dtype).requires_grad_(dtype == torch.float64)
    out = sf.sample_channel_dropout(x, 0.4, generator=g, sample_offset=30)
    for j in range(6):
        want = sf.channel_dropout(x[j].detach(), 0.4, generator=g.child(30 + j), mask_dims=1)
        assert torch.equal(out[j].detach(), want)
    dropped = out.detach() == 0
    assert torch.equal(dropped, dropped[:, :, :1, :1].expand_as(dropped))  # whole channels
    assert 0 < dropped.float().mean() < 1 and g.position == 0
    if x.requires_grad:
        out.sum().backward()
        assert torch.equal(x.grad == 0, dropped)


@pytest.mark.parametrize("algorithm", ["philox", "pcg64"])
def test_sample_channel_masks_match_the_reference_implementation(algorithm):
    from reference.seedstream_ref import RefGenerator

    x = torch.ones(5, 7, 2, dtype=torch.float64)
    g = Generator("m", algorithm=algorithm).child("c", 1)
    out = sf.sample_channel_dropout(x, 0.3, generator=g, sample_offset=2**40)
    ref = RefGenerator("m", algorithm).child("c", 1)
    for j in range(5):
        want = ref.child(2**40 + j).bernoulli(0.3, size=7)
        assert (out[j, :, 0] == 0).tolist() == list(want)


def test_sample_channel_dropout_known_answer():
    # docs/spec.md#sample-channel-dropout-v1
    x = torch.ones(2, 8, dtype=torch.float64)
    out = sf.sample_channel_dropout(x, 0.5, generator=Generator(1).child("c"), sample_offset=5)
    assert [torch.nonzero(row == 0).flatten().tolist() for row in out] == [[2, 5, 7], [2, 4, 7]]
    assert set(out.flatten().tolist()) == {0.0, 2.0}


def test_sample_channel_dropout_errors_and_identity():
    g = Generator(0)
    with pytest.raises(ValueError, match="^x:"):
        sf.sample_channel_dropout(torch.ones(4), 0.5, generator=g)
    with pytest.raises(ValueError, match="^sample_offset:"):
        sf.sample_channel_dropout(torch.ones(2, 2), 0.5, generator=g, sample_offset=-1)
    with pytest.raises(ValueError, match="^sample_offset:"):
        sf.sample_channel_dropout(torch.ones(3, 2), 0.5, generator=g, sample_offset=2**64 - 2)
    with pytest.raises(ValueError, match="^p:"):
        sf.sample_channel_dropout(torch.ones(2, 2), -0.5, generator=g)
    x = torch.ones(2, 3, 4)
    assert sf.sample_channel_dropout(x, 0.0, generator=g) is x
    assert sf.sample_channel_dropout(x, 0.5, generator=g, training=False) is x
    assert sf.sample_channel_dropout(torch.ones(0, 3, 4), 0.5, generator=g).shape == (0, 3, 4)


SPLITS = ([8], [4, 4], [2, 2, 2, 2], [3, 5])


def _split_runs(patch, step, fn, *tensors):
    """fn over the whole batch, then over each split (offset = first sample's index)."""
    runs = []
    for split in SPLITS:
        outs, lo = [], 0
        for n in split:
            with patch.samples(step, lo):
                outs.append(fn(*(t[lo:lo + n] for t in tensors)))
            lo += n
        runs.append(outs)
    return runs


@pytest.mark.parametrize("module, shape", [
    (torch.nn.Dropout1d(0.5), (8, 6, 5)),
    (torch.nn.Dropout2d(0.5), (8, 6, 3, 3)),
    (torch.nn.Dropout3d(0.5), (8, 6, 2, 2, 2)),
], ids=["1d", "2d", "3d"])
def test_channel_dropout_masks_do_not_depend_on_the_split(module, shape):
    net = torch.nn.Sequential(module)
    patch = patch_dropout(net, seed=12)
    x = torch.rand(shape) + 1
    runs = _split_runs(patch, 4, net, x)
    whole = runs[0][0]
    for outs in runs[1:]:
        assert torch.equal(torch.cat(outs), whole)
    want = sf.sample_channel_dropout(x, 0.5, generator=Generator(12).child("0", 4, 0), sample_offset=0)
    assert torch.equal(whole, want)


def test_channel_dropout_unbatched_input_is_an_error():
    for module, shape in ((torch.nn.Dropout1d(0.5), (6, 5)), (torch.nn.Dropout3d(0.5), (6, 2, 2, 2))):
        net = torch.nn.Sequential(module)
        patch = patch_dropout(net, seed=1)
        with pytest.raises(ValueError, match="^input: dropout.d in module '0' got an unbatched"):
            with patch.samples(0, 0):
                net(torch.ones(shape))


def _attention_masks(p, seed, path, step, k, shape):
    """The per-sample masks the spec gives attention weights of `shape` (N, heads, L, S)."""
    g = Generator(seed).child(path, step, k)
    return sf.sample_dropout(torch.ones(shape), p, generator=g, sample_offset=0) == 0


def test_multihead_attention_weights_masks_do_not_depend_on_the_split():
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    patch = patch_dropout(mha, seed=3)
    x = torch.randn(8, 5, 8)

    def weights(t):
        return mha(t, t, t, need_weights=True, average_attn_weights=False)[1]

    runs = _split_runs(patch, 7, weights, x)
    whole = runs[0][0]
    assert torch.equal(whole == 0, _attention_masks(0.5, 3, "", 7, 0, (8, 2, 5, 5)))
    for outs in runs[1:]:
        assert torch.equal(torch.cat(outs) == 0, whole == 0)
        torch.testing.assert_close(torch.cat(outs), whole)

    # The SDPA path (need_weights=False) draws the same per-sample masks.
    def output(t):
        return mha(t, t, t, need_weights=False)[0]

    with patch.samples(7, 0):
        got = output(x)
    with patch.samples(7, 0), torch.no_grad():  # the weights' own path, undropped
        mha.eval()
        w_plain = weights(x)
        mha.train()
    v = torch.nn.functional.linear(x, mha.in_proj_weight[16:], mha.in_proj_bias[16:])
    v = v.view(8, 5, 2, 4).transpose(1, 2)
    dropped = torch.where(whole == 0, 0.0, w_plain * 2.0)
    want = (dropped @ v).transpose(1, 2).reshape(8, 5, 8)
    torch.testing.assert_close(got, mha.out_proj(want))
    for outs in _split_runs(patch, 7, output, x)[1:]:
        torch.testing.assert_close(torch.cat(outs), got)


def test_sdpa_masks_do_not_depend_on_the_split():
    class Attn(torch.nn.Module):
        def forward(self, q, k, v):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.3)

    attn = Attn()
    patch = patch_dropout(attn, seed=8)
    q, k = torch.randn(8, 2, 4, 3), torch.randn(8, 2, 6, 3)
    eye = torch.eye(6).expand(8, 2, 6, 6)  # the output is the dropped-out weights
    runs = _split_runs(patch, 1, attn, q, k, eye)
    whole = runs[0][0]
    assert torch.equal(whole == 0, _attention_masks(0.3, 8, "", 1, 0, (8, 2, 4, 6)))
    for outs in runs[1:]:
        assert torch.equal(torch.cat(outs) == 0, whole == 0)
        torch.testing.assert_close(torch.cat(outs), whole)
    g = Generator(8).child("", 1, 0)
    want = sf.scaled_dot_product_attention(q, k, eye, dropout_p=0.3, generator=g, sample_offset=0)
    assert torch.equal(whole, want)


def test_attention_unbatched_query_is_an_error():
    mha = torch.nn.MultiheadAttention(8, 2, dropout=0.5)
    patch = patch_dropout(mha, seed=1)
    x = torch.ones(3, 8)
    with pytest.raises(ValueError, match="^query: attention in module '' got an unbatched"):
        with patch.samples(0, 0):
            mha(x, x, x)
    with pytest.raises(ValueError, match="^query:"):
        sf.scaled_dot_product_attention(x, x, x, dropout_p=0.5, generator=Generator(0), sample_offset=0)


def _gpt2(attention, ckpt=False):
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(
        vocab_size=17, n_positions=8, n_embd=8, n_layer=2, n_head=2, resid_pdrop=0.2,
        embd_pdrop=0.2, attn_pdrop=0.3, bos_token_id=0, eos_token_id=0, use_cache=False,
    )
    config._attn_implementation = attention
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config)
    if ckpt:
        kwargs = {"use_reentrant": False}
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    return model.train()


def _recorded(monkeypatch, model, patch, idx, split):
    """Per call of sample_dropout, the dropped elements of each micro-batch, joined over
    the split; and the logits, joined."""
    calls = []
    orig = sf.sample_dropout

    def record(x, p, **kw):
        out = orig(x, p, **kw)
        calls.append(out.detach() == 0)
        return out

    monkeypatch.setattr(sf, "sample_dropout", record)
    logits, per_batch, lo = [], [], 0
    for n in split:
        calls.clear()
        with patch.samples(5, lo):
            logits.append(model(input_ids=idx[lo:lo + n]).logits)
        per_batch.append(list(calls))
        lo += n
    monkeypatch.setattr(sf, "sample_dropout", orig)
    return [torch.cat(masks) for masks in zip(*per_batch)], torch.cat(logits)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_gpt2_masks_and_outputs_do_not_depend_on_the_split(monkeypatch, attention):
    model = _gpt2(attention)
    patch = patch_dropout(model, seed=3)
    idx = torch.arange(64).reshape(8, 8) % 17
    masks, logits = _recorded(monkeypatch, model, patch, idx, [8])
    assert len(masks) == 1 + 2 * 3  # embeddings; per layer: attention, two residuals
    assert all(0.1 < m.float().mean() < 0.75 for m in masks)  # attention: causal zeros too
    for split in ([4, 4], [2, 2, 2, 2], [1, 3, 4]):
        got_masks, got_logits = _recorded(monkeypatch, model, patch, idx, split)
        assert all(torch.equal(a, b) for a, b in zip(got_masks, masks)), split
        torch.testing.assert_close(got_logits, logits)


def test_gpt2_checkpoint_recomputation_under_samples():
    x = torch.arange(48).reshape(6, 8) % 17
    grads = []
    for ckpt in (False, True):
        model = _gpt2("sdpa", ckpt)
        patch = patch_dropout(model, seed=1)
        for lo, n in ((0, 2), (2, 4)):  # gradient accumulation over two micro-batches
            with patch.samples(0, lo):
                loss = model(input_ids=x[lo:lo + n], labels=x[lo:lo + n]).loss
            loss.backward()
        grads.append([p.grad for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*grads))
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
