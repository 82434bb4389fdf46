"""Initialising a GPT the way real training code does: nanoGPT-style ``_init_weights`` plus a
scaled residual-projection loop, tied embeddings, LayerNorm, meta-device construction; and a
``transformers`` GPT-2 built from a local config."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402

try:
    import transformers
except ImportError:  # the tests of the GPT written here still run
    transformers = None
needs_transformers = pytest.mark.skipif(transformers is None, reason="needs transformers")

nn = torch.nn
F = torch.nn.functional


class Attention(nn.Module):
    def __init__(self, d, heads, p):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.resid_dropout = nn.Dropout(p)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(b, t, d)))


class Block(nn.Module):
    def __init__(self, d, heads, p):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = Attention(d, heads, p)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(d, 4 * d), c_proj=nn.Linear(4 * d, d)))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, vocab=64, block=16, n_layer=2, d=32, heads=4, p=0.1, extra=False):
        super().__init__()
        self.n_layer = n_layer
        parts = dict(wte=nn.Embedding(vocab, d), wpe=nn.Embedding(block, d))
        if extra:  # a module inserted before the others
            parts["adapter"] = nn.Linear(d, d)
        parts.update(drop=sst.Dropout(p, seed=0, name="drop"), h=nn.ModuleList([Block(d, heads, p) for _ in range(n_layer)]),
                     ln_f=nn.LayerNorm(d))
        self.transformer = nn.ModuleDict(parts)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.init_weights()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def init_weights(self):
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * self.n_layer))

    def forward(self, idx):
        pos = torch.arange(idx.shape[1])
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def _state(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _direct(seed=42, torch_seed=0, **kw):
    torch.manual_seed(torch_seed)
    model = GPT(**kw)
    with sst.routed(model, seed=seed):
        model.init_weights()
    return model


def test_routed_procedure_does_not_depend_on_torch_seed():
    _assert_same(_state(_direct(torch_seed=0)), _state(_direct(torch_seed=1)))


def test_scaled_projection_loop_is_kept():
    """The loop after apply() is not dropped: c_proj holds the second draw of its stream."""
    model = _direct()
    g = ss.Generator(42).child("transformer.h.1.attn.c_proj.weight")
    g.normal(0.0, 0.02, size=32 * 32, dtype=np.float32)  # drawn by _init_weights, then redrawn
    want = g.normal(0.0, 0.02 / math.sqrt(4), size=(32, 32), dtype=np.float32)
    assert np.array_equal(model.transformer.h[1].attn.c_proj.weight.detach().numpy(), want)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert torch.equal(model.transformer.h[0].attn.c_attn.bias, torch.zeros(96))


def test_meta_built_equals_directly_built():
    direct = _direct()
    with torch.device("meta"):
        model = GPT()
    sst.materialize(model, "cpu", seed=42)
    with sst.routed(model, seed=42):
        model.init_weights()
    _assert_same(_state(model), _state(direct))
    assert model.lm_head.weight is model.transformer.wte.weight
    assert int(model.transformer.drop.step) == 0
    idx = torch.randint(0, 64, (2, 16), generator=torch.Generator().manual_seed(0))
    direct.eval(), model.eval()
    assert torch.equal(model(idx), direct(idx))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_meta_built_on_cuda_equals_cpu():
    direct = _direct()
    with torch.device("meta"):
        model = GPT()
    sst.materialize(model, "cuda", seed=42)
    with sst.routed(model, seed=42):
        model.init_weights()
    _assert_same({k: v.cpu() for k, v in _state(model).items()}, _state(direct))


def test_inserted_module_changes_no_other_parameter():
    base, grown = _state(_direct()), _state(_direct(extra=True))
    assert "transformer.adapter.weight" in grown
    for k in base:
        assert torch.equal(base[k], grown[k]), k


def test_init_module_with_the_per_module_init_fn():
    """init_fn is applied per module, as apply() does; its values come from named streams."""
    states = []
    for torch_seed in (0, 1):
        torch.manual_seed(torch_seed)
        model = GPT()
        states.append(_state(sst.init_module(model, seed=42, init_fn=model._init_weights)))
    _assert_same(*states)
    w = ss.Generator(42).child("transformer.h.1.attn.c_proj.weight").normal(0.0, 0.02, size=(32, 32), dtype=np.float32)
    assert np.array_equal(states[0]["transformer.h.1.attn.c_proj.weight"].numpy(), w)


def _gpt2_config():
    return transformers.GPT2Config(
        n_layer=2, n_embd=32, n_head=4, vocab_size=64, n_positions=16, bos_token_id=0, eos_token_id=0
    )


def _hf_direct(torch_seed):
    torch.manual_seed(torch_seed)
    model = transformers.GPT2LMHeadModel(_gpt2_config())
    return sst.init_module(model, seed=42, init_fn=model._init_weights)


@needs_transformers
def test_transformers_gpt2_init_does_not_depend_on_torch_seed():
    a, b = _hf_direct(0), _hf_direct(1)
    _assert_same(_state(a), _state(b))
    # GPT-2's scaled c_proj init (applied inside _init_weights): the second draw of its stream
    g = ss.Generator(42).child("transformer.h.0.attn.c_proj.weight")
    g.normal(0.0, 0.02, size=32 * 32, dtype=np.float32)
    want = g.normal(0.0, 0.02 / math.sqrt(4), size=(32, 32), dtype=np.float32)
    assert np.array_equal(a.transformer.h[0].attn.c_proj.weight.detach().numpy(), want)


@needs_transformers
def test_transformers_gpt2_meta_built_equals_directly_built():
    torch.manual_seed(0)
    direct = transformers.GPT2LMHeadModel(_gpt2_config())
    sst.init_module(direct, seed=42)
    sst.init_module(direct, seed=42, init_fn=direct._init_weights)
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(_gpt2_config())
    sst.materialize(model, "cpu", seed=42, init_fn=model._init_weights)
    _assert_same(_state(model), _state(direct))
    assert model.lm_head.weight is model.transformer.wte.weight


@needs_transformers
def test_transformers_bert_meta_built_equals_directly_built():
    """BERT also keeps computed buffers (position_ids), set by its _init_weights."""
    cfg = transformers.BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=64, max_position_embeddings=16)
    torch.manual_seed(0)
    direct = transformers.BertForMaskedLM(cfg)
    sst.init_module(direct, seed=42)
    sst.init_module(direct, seed=42, init_fn=direct._init_weights)
    with torch.device("meta"):
        model = transformers.BertForMaskedLM(cfg)
    sst.materialize(model, "cpu", seed=42, init_fn=model._init_weights)
    _assert_same(_state(model), _state(direct))
    assert torch.equal(model.bert.embeddings.position_ids, torch.arange(16)[None])
