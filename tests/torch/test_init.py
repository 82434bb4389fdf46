"""seedstream.torch.init and init_module: torch's rules, seedstream's values, any device."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch import init  # noqa: E402

nn = torch.nn


def test_uniform_normal_trunc_match_generator_methods():
    t = torch.empty(100, 30)
    init.uniform_(t, -0.5, 2.0, generator=ss.Generator(1))
    assert np.array_equal(t.numpy(), ss.Generator(1).uniform(-0.5, 2.0, size=(100, 30), dtype=np.float32))
    init.normal_(t, 0.1, 0.02, generator=ss.Generator(2))
    assert np.array_equal(t.numpy(), ss.Generator(2).normal(0.1, 0.02, size=(100, 30), dtype=np.float32))
    init.trunc_normal_(t, 0.0, 1.0, -1.0, 1.5, generator=ss.Generator(3))
    want = ss.Generator(3).truncated_normal(0.0, 1.0, -1.0, 1.5, size=(100, 30), dtype=np.float32)
    assert np.array_equal(t.numpy(), want)
    assert t.min() >= -1.0 and t.max() <= 1.5


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_fan_and_gain_rules_match_torch(shape):
    """Bounds and standard deviations follow torch's formulas (checked on 1e5+ samples)."""
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    t = torch.empty(shape)
    g = ss.Generator(4)
    init.xavier_uniform_(t, gain=2.0, generator=g)
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert t.abs().max() <= bound and t.abs().max() > 0.99 * bound
    init.xavier_normal_(t, generator=g)
    assert abs(t.std().item() / math.sqrt(2.0 / (fan_in + fan_out)) - 1) < 0.02
    init.kaiming_uniform_(t, a=math.sqrt(5), generator=g)
    bound = nn.init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3.0 / fan_in)
    assert t.abs().max() <= bound and t.abs().max() > 0.99 * bound
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", generator=g)
    assert abs(t.std().item() / (math.sqrt(2.0) / math.sqrt(fan_out)) - 1) < 0.02


def test_half_precision_is_float32_rounded():
    a = torch.empty(1000)
    b = torch.empty(1000, dtype=torch.bfloat16)
    h = torch.empty(1000, dtype=torch.float16)
    for t in (a, b, h):
        init.normal_(t, 0.0, 0.5, generator=ss.Generator(5))
    assert torch.equal(b, a.to(torch.bfloat16)) and torch.equal(h, a.to(torch.float16))


def test_init_errors():
    with pytest.raises(TypeError, match="generator"):
        init.normal_(torch.empty(3), generator=None)
    with pytest.raises(TypeError, match="tensor"):
        init.normal_(torch.empty(3, dtype=torch.int64), generator=ss.Generator(1))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(torch.empty(3, 3), mode="fan", generator=ss.Generator(1))


class Block(nn.Module):
    def __init__(self, d=32, heads=4):
        super().__init__()
        self.attn = nn.TransformerEncoderLayer(d, heads, dim_feedforward=64, batch_first=True)
        self.norm = nn.LayerNorm(d)


class Stack(nn.Module):
    def __init__(self, layers=3, d=32, extra=False):
        super().__init__()
        self.embed = nn.Embedding(100, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(layers)])
        if extra:
            self.adapter = nn.Linear(d, d)
        self.head = nn.Linear(d, 10)
        self.bn = nn.BatchNorm1d(10)


def _state(m):
    return {k: v.detach().float().clone() for k, v in m.state_dict().items()}


def test_init_module_is_reproducible_and_seed_dependent():
    a = sst.init_module(Stack(), seed=7)
    b = sst.init_module(Stack(), seed=7)
    c = sst.init_module(Stack(), seed=8)
    sa, sb, sc = _state(a), _state(b), _state(c)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["head.weight"], sc["head.weight"])
    assert torch.equal(sa["blocks.0.norm.weight"], torch.ones(32))  # non-random init kept


def test_weights_come_from_named_streams():
    m = sst.init_module(nn.Linear(20, 5), seed=3)
    want = torch.empty(5, 20)
    bound = 1 / math.sqrt(20)  # kaiming_uniform_(a=sqrt(5)) on Linear is U(-1/sqrt(fan_in), ..)
    init.kaiming_uniform_(want, a=math.sqrt(5), generator=ss.Generator(3).child("weight"))
    assert torch.equal(m.weight, want)
    assert m.bias.abs().max() <= bound


def test_adding_a_layer_leaves_other_layers_unchanged():
    base, grown = _state(sst.init_module(Stack(), seed=1)), _state(sst.init_module(Stack(extra=True), seed=1))
    for k in base:
        assert torch.equal(base[k], grown[k]), k


def test_bfloat16_and_meta_materialised_models_match_cpu_float32():
    ref = _state(sst.init_module(Stack(), seed=11))
    bf = sst.init_module(Stack().to(torch.bfloat16), seed=11)
    for k, v in bf.state_dict().items():
        if v.is_floating_point():
            assert torch.equal(v, ref[k].to(torch.bfloat16)), k
    with torch.device("meta"):
        meta = Stack()
    meta = meta.to_empty(device="cpu")
    sst.init_module(meta, seed=11)
    got = _state(meta)
    for k in ref:
        if not k.endswith("num_batches_tracked"):
            assert torch.equal(got[k], ref[k]), k


def test_thread_count_does_not_matter():
    ss.set_num_threads(1)
    a = _state(sst.init_module(Stack(), seed=2))
    ss.set_num_threads(2)
    b = _state(sst.init_module(Stack(), seed=2))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_global_torch_rng_untouched_and_methods_restored():
    model = Stack()  # building it draws from torch's generator; init_module must not
    methods = (torch.Tensor.uniform_, torch.Tensor.normal_, torch.nn.init.trunc_normal_)
    torch.manual_seed(0)
    before = torch.get_rng_state()
    sst.init_module(model, seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    assert (torch.Tensor.uniform_, torch.Tensor.normal_, torch.nn.init.trunc_normal_) == methods
    torch.manual_seed(0)
    want = torch.empty(3).normal_()
    torch.manual_seed(0)
    assert torch.equal(torch.empty(3).normal_(), want)  # plain torch again


class TinyHFConfig:
    initializer_range = 0.02
    vocab_size = 50
    hidden = 16


class TinyHFModel(nn.Module):
    """The shape of a Hugging Face model: an _init_weights applied to every submodule."""

    def __init__(self, cfg=TinyHFConfig()):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.hidden, padding_idx=0)
        self.ln = nn.LayerNorm(cfg.hidden)
        self.proj = nn.Linear(cfg.hidden, cfg.hidden)
        self.lm_head = nn.Linear(cfg.hidden, cfg.vocab_size, bias=False)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=self.cfg.initializer_range)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=self.cfg.initializer_range)
            module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)


def test_hf_style_init_fn():
    m = TinyHFModel()
    sst.init_module(m, seed=5, init_fn=m._init_weights)
    want = ss.Generator(5).child("proj.weight").normal(0.0, 0.02, size=(16, 16), dtype=np.float32)
    assert np.array_equal(m.proj.weight.detach().numpy(), want)
    assert torch.equal(m.wte.weight[0], torch.zeros(16))
    assert abs(m.lm_head.weight.std().item() - 0.02) < 0.003
    m2 = TinyHFModel()
    sst.init_module(m2, seed=5, init_fn=m2._init_weights)
    assert torch.equal(m.lm_head.weight, m2.lm_head.weight)


def test_init_module_errors():
    with pytest.raises(TypeError, match="module"):
        sst.init_module(object(), seed=1)
    with pytest.raises(TypeError, match="init_fn"):
        sst.init_module(nn.Linear(2, 2), seed=1, init_fn=3)
