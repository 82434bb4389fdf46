"""routed(), init_module's coverage of every parameter, and materialize() for meta-built models."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from torch.nn.utils import parametrizations, parametrize  # noqa: E402

nn = torch.nn
F = torch.nn.functional


def _state(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).T

    def right_inverse(self, a):
        return a.triu()


def _symmetric_linear():
    m = nn.Linear(5, 5)
    parametrize.register_parametrization(m, "weight", Symmetric())
    return m


ZOO = {
    "Linear": lambda: nn.Linear(7, 5),
    "Conv1d": lambda: nn.Conv1d(3, 4, 3),
    "Conv2d": lambda: nn.Conv2d(3, 4, 3),
    "Conv2d channels_last": lambda: nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last),
    "Conv3d": lambda: nn.Conv3d(2, 3, 2),
    "Conv3d channels_last_3d": lambda: nn.Conv3d(2, 3, 2).to(memory_format=torch.channels_last_3d),
    "ConvTranspose1d": lambda: nn.ConvTranspose1d(3, 4, 3),
    "ConvTranspose2d": lambda: nn.ConvTranspose2d(3, 4, 3, groups=1),
    "Embedding": lambda: nn.Embedding(10, 4, padding_idx=0),
    "EmbeddingBag": lambda: nn.EmbeddingBag(10, 4),
    "LayerNorm": lambda: nn.LayerNorm(6),
    "BatchNorm2d": lambda: nn.BatchNorm2d(4),
    "GroupNorm": lambda: nn.GroupNorm(2, 4),
    "GRU": lambda: nn.GRU(4, 6, num_layers=2),
    "LSTM": lambda: nn.LSTM(4, 6, proj_size=3),
    "RNN": lambda: nn.RNN(4, 6, bidirectional=True),
    "MultiheadAttention": lambda: nn.MultiheadAttention(8, 2, kdim=5, vdim=6),
    "TransformerEncoderLayer": lambda: nn.TransformerEncoderLayer(8, 2, 16),
    "TransformerDecoderLayer": lambda: nn.TransformerDecoderLayer(8, 2, 16),
    "weight_norm": lambda: parametrizations.weight_norm(nn.Linear(4, 3)),
    "weight_norm Conv2d": lambda: parametrizations.weight_norm(nn.Conv2d(2, 3, 3), dim=1),
    "custom parametrization": _symmetric_linear,
    "Bilinear": lambda: nn.Bilinear(3, 4, 5),
    "LSTMCell": lambda: nn.LSTMCell(4, 5),
    "RMSNorm": lambda: nn.RMSNorm(6),
    "InstanceNorm1d affine": lambda: nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
    "Transformer": lambda: nn.Transformer(8, 2, 1, 1, 16, batch_first=True),
    "AdaptiveLogSoftmaxWithLoss": lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 10], div_value=2.0),
    "PReLU": lambda: nn.PReLU(3),
}


@pytest.mark.parametrize("kind", list(ZOO))
def test_init_module_does_not_depend_on_torch_global_rng(kind):
    """Every parameter gets a named stream: built under two torch seeds (so every random
    tensor starts different), the initialised modules are identical."""
    states = []
    for torch_seed in (0, 1):
        torch.manual_seed(torch_seed)
        m = ZOO[kind]()
        states.append(_state(sst.init_module(m, seed=3)))
    _assert_same(*states)


def test_channels_last_conv_gets_the_contiguous_conv_values():
    plain = sst.init_module(nn.Conv2d(3, 4, 3), seed=5)
    cl = sst.init_module(nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last), seed=5)
    assert cl.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(cl.weight, plain.weight) and torch.equal(cl.bias, plain.bias)


def test_weight_norm_originals_are_set_as_at_registration():
    """init then weight_norm == weight_norm then init: the weight is drawn from the stream of
    its own name ('weight'), and original0/original1 come from right_inverse."""
    after = parametrizations.weight_norm(sst.init_module(nn.Linear(6, 4), seed=9))
    before = sst.init_module(parametrizations.weight_norm(nn.Linear(6, 4)), seed=9)
    _assert_same(_state(after), _state(before))
    assert type(before).__name__ == "ParametrizedLinear"  # the parametrization is back in place
    assert "weight" not in before._parameters


def test_routed_draws_continue_each_parameter_stream():
    m = nn.Linear(6, 3)
    with sst.routed(m, seed=4):
        nn.init.normal_(m.weight, 0.0, 0.5)
        m.weight.data.uniform_(-1.0, 1.0)  # a second draw continues the stream
        with pytest.raises(ValueError, match="^tensor: Tensor.normal_ in place on a tensor that requires grad"):
            m.bias.normal_(1.0, 2.0)
        with torch.no_grad():
            m.bias.normal_(1.0, 2.0)
    g = ss.Generator(4).child("weight")
    g.normal(0.0, 0.5, size=18, dtype=np.float32)
    want = g.uniform(-1.0, 1.0, size=(3, 6), dtype=np.float32)
    assert np.array_equal(m.weight.detach().numpy(), want)
    bias = ss.Generator(4).child("bias").normal(1.0, 2.0, size=3, dtype=np.float32)
    assert np.array_equal(m.bias.detach().numpy(), bias)


def test_routed_values_do_not_depend_on_the_order_of_parameters():
    a, b = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2)), nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    with sst.routed(a, seed=1), torch.no_grad():
        for p in a.parameters():
            p.normal_(0, 0.02)
    with sst.routed(b, seed=1), torch.no_grad():
        for p in reversed(list(b.parameters())):
            p.normal_(0, 0.02)
    _assert_same(_state(a), _state(b))


def test_routed_views_and_parts():
    m = nn.Embedding(5, 4)
    with sst.routed(m, seed=2), torch.no_grad():
        m.weight.T.normal_()  # a non-contiguous view of the whole tensor: C order of the view
        m.weight.data[3].uniform_()  # a part: child(name, byte offset)
    g = ss.Generator(2).child("weight")
    want = torch.from_numpy(g.normal(size=(4, 5), dtype=np.float32)).T.clone()
    want[3] = torch.from_numpy(ss.Generator(2).child("weight", 3 * 4 * 4).uniform(size=4, dtype=np.float32))
    assert torch.equal(m.weight.detach(), want)


def test_routed_bernoulli_random_trunc_normal_and_like():
    m = nn.Linear(10, 10).requires_grad_(False)
    trunc_normal_ = nn.init.trunc_normal_
    with sst.routed(m, seed=6):
        m.weight.bernoulli_(0.25)
        m.bias.random_(0, 7)
    w = ss.Generator(6).child("weight").bernoulli(0.25, size=100).reshape(10, 10)
    assert np.array_equal(m.weight.detach().numpy(), w.astype(np.float32))
    assert np.array_equal(m.bias.detach().numpy(), ss.Generator(6).child("bias").integers(0, 7, size=10).astype(np.float32))
    with sst.routed(m, seed=6):
        nn.init.trunc_normal_(m.weight, 0.0, 0.02, -0.04, 0.04)
        noise = torch.randn_like(m.bias)
    assert nn.init.trunc_normal_ is trunc_normal_
    want = ss.Generator(6).child("weight").truncated_normal(0.0, 0.02, -0.04, 0.04, size=(10, 10), dtype=np.float32)
    assert np.array_equal(m.weight.detach().numpy(), want)
    assert np.array_equal(noise.numpy(), ss.Generator(6).child("bias").standard_normal(size=10, dtype=np.float32))


def test_orthogonal_draws_from_the_parameter_stream():
    states = []
    for torch_seed in (0, 1):
        torch.manual_seed(torch_seed)
        m = nn.Linear(6, 4)
        with sst.routed(m, seed=1):
            nn.init.orthogonal_(m.weight)
        states.append(m.weight.detach().clone())
    assert torch.equal(*states)
    assert torch.allclose(states[0] @ states[0].T, torch.eye(4), atol=1e-5)


@pytest.mark.parametrize(
    "draw",
    [
        lambda m: torch.randn(3),
        lambda m: torch.empty(3).normal_(),
        lambda m: m.weight.exponential_(),
        lambda m: F.dropout(torch.ones(4), 0.5, training=True),
        lambda m: nn.init.sparse_(torch.empty(3, 3), 0.5),
    ],
    ids=["randn", "temporary", "exponential_", "dropout", "sparse_"],
)
def test_unrouted_draws_raise(draw):
    m = nn.Linear(3, 3)
    before = torch.get_rng_state()
    with pytest.raises(ValueError, match="^tensor: .*cannot come from a named stream"):
        with sst.routed(m, seed=1):
            draw(m)
    assert torch.equal(torch.get_rng_state(), before)


def test_global_rng_untouched_by_routed():
    m = nn.Linear(3, 3)
    torch.manual_seed(0)
    before = torch.get_rng_state()
    with sst.routed(m, seed=1):
        m.weight.data.normal_()
    assert torch.equal(torch.get_rng_state(), before)


class ReplacesWithDraw(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(3, 3))

    def reset_parameters(self):
        self.weight = nn.Parameter(torch.randn(3, 3))


class ReplacesThenInits(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(3, 3))

    def reset_parameters(self):
        self.weight = nn.Parameter(torch.empty(3, 3))
        nn.init.normal_(self.weight)


def test_reset_parameters_that_replaces_a_parameter():
    m = sst.init_module(nn.Sequential(ReplacesThenInits()), seed=3)
    want = ss.Generator(3).child("0.weight").standard_normal(size=(3, 3), dtype=np.float32)
    assert np.array_equal(m[0].weight.detach().numpy(), want)
    with pytest.raises(ValueError, match="module: cannot route the init of '0.weight'.*torch.randn"):
        sst.init_module(nn.Sequential(ReplacesWithDraw()), seed=3)


def test_meta_model_is_refused_by_init_module_and_routed():
    with torch.device("meta"):
        m = nn.Sequential(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="module: '0.weight' is on the meta device.*materialize"):
        sst.init_module(m, seed=1)
    with pytest.raises(ValueError, match="meta"):
        with sst.routed(m, seed=1):
            pass


def test_lazy_module_before_its_first_forward_is_refused():
    m = nn.Sequential(nn.LazyLinear(3), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="module: '0.weight' is an uninitialised parameter of a lazy module"):
        sst.init_module(m, seed=1)
    m(torch.ones(2, 5))
    states = []
    for torch_seed in (0, 1):
        torch.manual_seed(torch_seed)
        states.append(_state(sst.init_module(m, seed=1)))
    _assert_same(*states)


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.norm = nn.LayerNorm(4)
        self.bn = nn.BatchNorm1d(4)
        self.drop = sst.Dropout(0.1, seed=0, name="drop")
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.emb.weight


def test_materialize_equals_direct_construction():
    direct = sst.init_module(Tied(), seed=8)
    with torch.device("meta"):
        meta = Tied()
    sst.materialize(meta, "cpu", seed=8)
    _assert_same(_state(meta), _state(direct))
    assert meta.head.weight is meta.emb.weight
    assert torch.equal(meta.norm.weight, torch.ones(4)) and int(meta.drop.step) == 0
    assert int(meta.bn.num_batches_tracked) == 0


def test_materialize_with_init_fn():
    def init_fn(mod):
        if isinstance(mod, (nn.Linear, nn.Embedding)):
            mod.weight.data.normal_(0.0, 0.02)

    direct = sst.init_module(sst.init_module(Tied(), seed=8), seed=8, init_fn=init_fn)
    with torch.device("meta"):
        meta = Tied()
    sst.materialize(meta, "cpu", seed=8, init_fn=init_fn)
    _assert_same(_state(meta), _state(direct))


class CausalMask(nn.Module):
    def __init__(self, n=4, reset=False):
        super().__init__()
        self.register_buffer("mask", torch.tril(torch.ones(n, n)), persistent=False)
        self.proj = nn.Linear(n, n)
        if reset:
            self.reset_parameters = lambda: self.mask.copy_(torch.tril(torch.ones_like(self.mask)))


class RunningMean(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros(3))

    def reset_running_stats(self):
        self.mean.zero_()


def test_materialize_resets_running_stats_of_modules_without_reset_parameters():
    with torch.device("meta"):
        m = nn.Sequential(RunningMean())
    sst.materialize(m, "cpu", seed=1)
    assert torch.equal(m[0].mean, torch.zeros(3))


def test_materialize_names_tensors_left_uninitialised():
    with torch.device("meta"):
        m = nn.Sequential(CausalMask())
    with pytest.raises(ValueError, match="module: '0.mask' not set by any reset_parameters"):
        sst.materialize(m, "cpu", seed=1)
    with torch.device("meta"):
        m = nn.Sequential(CausalMask(reset=True))
    sst.materialize(m, "cpu", seed=1)
    assert torch.equal(m[0].mask, torch.tril(torch.ones(4, 4)))


def test_materialize_errors():
    with pytest.raises(TypeError, match="module"):
        sst.materialize(object(), "cpu", seed=1)
    with pytest.raises(ValueError, match="device"):
        sst.materialize(nn.Linear(2, 2), "no-such-device", seed=1)
    with pytest.raises(ValueError, match="device"):
        sst.materialize(nn.Linear(2, 2), "meta", seed=1)
    with pytest.raises(TypeError, match="module"):
        with sst.routed(object(), seed=1):
            pass


def test_kaiming_under_routing_matches_the_seedstream_mirror():
    m = nn.Conv2d(4, 6, 3)
    with sst.routed(m, seed=7):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.xavier_uniform_(m.bias.view(2, 3), gain=math.sqrt(2))
    want = torch.empty(6, 4, 3, 3)
    sst.init.kaiming_normal_(want, mode="fan_out", nonlinearity="relu", generator=ss.Generator(7).child("weight"))
    assert torch.equal(m.weight.detach(), want)
    b = torch.empty(2, 3)
    sst.init.xavier_uniform_(b, gain=math.sqrt(2), generator=ss.Generator(7).child("bias"))
    assert torch.equal(m.bias.detach(), b.reshape(6))


def test_parents_initialise_after_their_children():
    """As at construction: MultiheadAttention's own init zeroes out_proj.bias after the
    Linear's reset_parameters drew it."""
    m = sst.init_module(nn.MultiheadAttention(8, 2), seed=1)
    assert torch.equal(m.out_proj.bias, torch.zeros(8))
    assert torch.equal(m.in_proj_bias, torch.zeros(24))


@pytest.mark.filterwarnings("ignore:.*torch.nn.utils.weight_norm. is deprecated:FutureWarning")
def test_hook_weight_norm_sets_g_and_v_as_at_registration():
    after = nn.utils.weight_norm(sst.init_module(nn.Linear(6, 4), seed=9))
    states = []
    for torch_seed in (0, 1):
        torch.manual_seed(torch_seed)
        states.append(_state(sst.init_module(nn.utils.weight_norm(nn.Linear(6, 4)), seed=9)))
    _assert_same(states[0], states[1])
    _assert_same(states[0], _state(after))
    with torch.device("meta"):
        meta = nn.utils.weight_norm(nn.Linear(6, 4))
    sst.materialize(meta, "cpu", seed=9)
    _assert_same(_state(meta), _state(after))
    assert torch.equal(meta.weight, after.weight)


def test_routed_random_default_range_and_bernoulli_with_probabilities():
    m = nn.Module()
    m.register_buffer("codes", torch.empty(50))
    m.register_buffer("ids", torch.empty(20, dtype=torch.int32))
    m.register_buffer("mask", torch.empty(4, 3))
    probs = torch.tensor([0.0, 0.5, 1.0])
    with sst.routed(m, seed=2):
        m.codes.random_()
        m.ids.random_(5)
        m.ids[:10].random_(3, to=7)
        m.mask.bernoulli_(probs)
    want = ss.Generator(2).child("codes").integers(0, 2**24, size=50, endpoint=True)
    assert np.array_equal(m.codes.numpy(), want.astype(np.float32))
    ids = ss.Generator(2).child("ids").integers(0, 5, size=20)
    ids[:10] = ss.Generator(2).child("ids", 0).integers(3, 7, size=10)
    assert np.array_equal(m.ids.numpy(), ids.astype(np.int32))
    mask = ss.Generator(2).child("mask").bernoulli(np.broadcast_to(np.array([0.0, 0.5, 1.0]), (4, 3)).copy())
    assert np.array_equal(m.mask.numpy(), mask.astype(np.float32))
    assert torch.equal(m.mask[:, 0], torch.zeros(4)) and torch.equal(m.mask[:, 2], torch.ones(4))


def test_draws_on_empty_tensors_are_no_ops():
    m = nn.Linear(3, 3)
    m.register_buffer("empty", torch.empty(0, 4))
    with sst.routed(m, seed=1):
        m.empty.uniform_()
        nn.init.normal_(m.empty)
        torch.empty(0).normal_()
    assert m.empty.shape == (0, 4)
