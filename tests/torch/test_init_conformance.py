"""seedstream.torch.init against torch.nn.init's documented contract.

torch's wheel ships no nn.init tests, so these are written from its documentation: the
fan and gain formulas (computed here from the documented definitions, not from torch's
helpers), bounds, warnings, errors and signatures, on the parameters of Linear, Conv1-3d
with groups, ConvTranspose, Embedding, Bilinear, LSTM and MultiheadAttention; and the
mirror equals the same torch.nn.init call routed by init_module, for every function and dtype.
"""

import inspect
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch import init  # noqa: E402

nn = torch.nn
FUNCTIONS = ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
             "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_"]
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
NP_DTYPE = {torch.float32: np.float32, torch.float64: np.float64}


def _layers():
    torch.manual_seed(0)
    return {
        "linear": nn.Linear(20, 30),
        "conv1d": nn.Conv1d(4, 8, 3, groups=2),
        "conv2d": nn.Conv2d(6, 12, (3, 5), groups=3),
        "conv3d": nn.Conv3d(4, 8, 2, groups=2),
        "convtranspose2d": nn.ConvTranspose2d(6, 4, 3, groups=2),
        "embedding": nn.Embedding(50, 16),
        "bilinear": nn.Bilinear(5, 7, 9),
        "lstm": nn.LSTM(8, 16, num_layers=2),
        "mha": nn.MultiheadAttention(16, 4),
    }


MATRICES = [(f"{layer}.{name}", tuple(p.shape))
            for layer, m in _layers().items() for name, p in m.named_parameters() if p.dim() >= 2]
VECTORS = [(f"{layer}.{name}", tuple(p.shape))
           for layer, m in _layers().items() for name, p in m.named_parameters() if p.dim() == 1]


def _fans(shape):
    """torch's documented fans: fan_in = size(1) * receptive field, fan_out = size(0) * it."""
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _gain(nonlinearity, a=None):
    """torch.nn.init.calculate_gain's documented table."""
    table = {"linear": 1.0, "conv2d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + (0.01 if a is None else a) ** 2))
    return table[nonlinearity]


# -- signatures ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", FUNCTIONS)
def test_signature_is_torchs_with_a_keyword_generator(name):
    theirs = inspect.signature(getattr(nn.init, name)).parameters
    ours = inspect.signature(getattr(init, name)).parameters
    assert [p for p in ours if p != "generator"] == [p for p in theirs if p != "generator"]
    for p in theirs:
        if p != "generator":
            assert ours[p].default == theirs[p].default, p
    assert ours["generator"].kind is inspect.Parameter.KEYWORD_ONLY


# -- fans, gains and bounds: the exact mapping ---------------------------------------------
@pytest.mark.parametrize("where,shape", MATRICES)
def test_fan_and_gain_formulas_on_layer_parameters(where, shape):
    """Each function is its documented distribution with torch's documented fans and gains,
    computed in torch's order; torch's own draws stay inside the same bounds."""
    fan_in, fan_out = _fans(shape)
    cases = [
        ("xavier_uniform_", {"gain": 2.5}, "uniform", math.sqrt(3.0) * (2.5 * math.sqrt(2.0 / (fan_in + fan_out)))),
        ("xavier_uniform_", {}, "uniform", math.sqrt(3.0) * (1.0 * math.sqrt(2.0 / (fan_in + fan_out)))),
        ("xavier_normal_", {"gain": 0.7}, "normal", 0.7 * math.sqrt(2.0 / (fan_in + fan_out))),
        ("kaiming_uniform_", {"a": math.sqrt(5)}, "uniform",
         math.sqrt(3.0) * (_gain("leaky_relu", math.sqrt(5)) / math.sqrt(fan_in))),
        ("kaiming_uniform_", {"mode": "FAN_OUT", "nonlinearity": "tanh"}, "uniform",
         math.sqrt(3.0) * (_gain("tanh") / math.sqrt(fan_out))),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, "normal", _gain("relu") / math.sqrt(fan_out)),
        ("kaiming_normal_", {"nonlinearity": "selu"}, "normal", _gain("selu") / math.sqrt(fan_in)),
    ]
    for name, kwargs, dist, scale in cases:
        t = torch.empty(shape, dtype=torch.float64)
        getattr(init, name)(t, **kwargs, generator=ss.Generator(3))
        if dist == "uniform":
            want = ss.Generator(3).uniform(-scale, scale, size=shape)
            theirs = getattr(nn.init, name)(torch.empty(shape, dtype=torch.float64), **kwargs)
            assert theirs.abs().max() <= scale
        else:
            want = ss.Generator(3).normal(0.0, scale, size=shape)
        assert np.array_equal(t.numpy(), want), (name, kwargs)


@pytest.mark.parametrize("where,shape", VECTORS)
def test_one_dimensional_parameters(where, shape):
    """uniform_/normal_ take any shape; fan-based functions refuse fewer than 2 dimensions
    with torch's ValueError."""
    t = torch.empty(shape)
    init.uniform_(t, -0.25, 0.25, generator=ss.Generator(1))
    assert np.array_equal(t.numpy(), ss.Generator(1).uniform(-0.25, 0.25, shape, dtype=np.float32))
    for name in ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"):
        with pytest.raises(ValueError):
            getattr(nn.init, name)(torch.empty(shape))
        with pytest.raises(ValueError):
            getattr(init, name)(torch.empty(shape), generator=ss.Generator(1))


def test_mode_is_lower_cased_as_torch():
    a, b = torch.empty(6, 4), torch.empty(6, 4)
    init.kaiming_uniform_(a, mode="FAN_IN", generator=ss.Generator(2))
    init.kaiming_uniform_(b, mode="fan_in", generator=ss.Generator(2))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(a, mode="fan", generator=ss.Generator(2))
    with pytest.raises(ValueError):
        nn.init.kaiming_uniform_(a, mode="fan")


@pytest.mark.parametrize("view", [lambda w: w.T, lambda w: w[:, ::2], lambda w: w[1:, 1:]])
def test_non_contiguous_views_are_filled_in_place_in_c_order(view):
    """torch's docstring recommends kaiming_uniform_(w.T) for ``x @ w`` layouts."""
    w = torch.zeros(8, 6)
    v = view(w)
    assert init.kaiming_uniform_(v, generator=ss.Generator(4)) is v
    want = torch.empty(v.shape)
    init.kaiming_uniform_(want, generator=ss.Generator(4))
    assert torch.equal(view(w), want)


# -- warnings ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_zero_element_tensors_warn_as_torch_and_are_left_alone(name):
    w = torch.empty(4, 0)  # the weight of nn.Linear(0, 4)
    with pytest.warns(UserWarning) as theirs:
        getattr(nn.init, name)(w)
    g = ss.Generator(1)
    with pytest.warns(UserWarning) as ours:
        assert getattr(init, name)(w, generator=g) is w
    assert [str(x.message) for x in ours] == [str(x.message) for x in theirs]
    assert g.position == 0


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
                                  "orthogonal_"])
def test_zero_element_tensors_are_a_silent_no_op_as_torch(name):
    w = torch.empty(4, 0)  # the weight of nn.Linear(0, 4)
    getattr(nn.init, name)(w)  # pytest turns any warning into an error
    g = ss.Generator(1)
    assert getattr(init, name)(w, generator=g) is w and g.position == 0


def test_trunc_normal_warns_when_the_mean_is_far_outside_as_torch():
    with pytest.warns(UserWarning) as theirs:
        nn.init.trunc_normal_(torch.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0)
    with pytest.warns(UserWarning) as ours:
        init.trunc_normal_(torch.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0, generator=ss.Generator(1))
    assert [str(x.message) for x in ours] == [str(x.message) for x in theirs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.trunc_normal_(torch.empty(10), mean=3.9, std=1.0, a=-2.0, b=2.0, generator=ss.Generator(1))


# -- errors --------------------------------------------------------------------------------
def test_errors_have_torchs_types():
    g = ss.Generator(1)
    cases = [
        ("trunc_normal_", (torch.empty(5),), {"a": 2.0, "b": -2.0}, RuntimeError),
        ("kaiming_uniform_", (torch.empty(3, 4),), {"nonlinearity": "swish"}, ValueError),
        ("orthogonal_", (torch.empty(3),), {}, ValueError),
        ("sparse_", (torch.empty(3, 3, 3), 0.1), {}, ValueError),
        ("xavier_normal_", (torch.empty(0, 0),), {}, ZeroDivisionError),
    ]
    for name, args, kwargs, exc in cases:
        with pytest.raises(exc):
            getattr(nn.init, name)(*args, **kwargs)
        with pytest.raises(exc):
            getattr(init, name)(*args, **kwargs, generator=g)


def test_negative_std_of_trunc_normal_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="std"):
        init.trunc_normal_(torch.empty(5), std=-1.0, generator=ss.Generator(1))


# -- orthogonal_ and sparse_ ----------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3)])
def test_orthogonal_is_torchs_algorithm_on_a_seedstream_normal_draw(shape):
    t = torch.empty(shape, dtype=torch.float64)
    init.orthogonal_(t, gain=2.0, generator=ss.Generator(5))
    rows = shape[0]
    flat = t.reshape(rows, -1)
    product = flat @ flat.T if rows <= flat.shape[1] else flat.T @ flat
    assert torch.allclose(product, 4.0 * torch.eye(product.shape[0], dtype=torch.float64), atol=1e-12)
    # the draw torch's algorithm starts from is seedstream's normal(0, 1)
    cols = math.prod(shape[1:])
    z = torch.from_numpy(ss.Generator(5).standard_normal((rows, cols)))
    z = z.T if rows < cols else z
    q, r = torch.linalg.qr(z)
    q = q * torch.diag(r, 0).sign()
    q = q.T if rows < cols else q
    assert torch.equal(t.reshape(q.shape), 2.0 * q)


def test_sparse_zeroes_a_fraction_of_each_column():
    t = torch.empty(10, 7)
    init.sparse_(t, 0.25, std=0.5, generator=ss.Generator(6))
    assert ((t == 0).sum(dim=0) == math.ceil(0.25 * 10)).all()
    g = ss.Generator(6)
    want = g.normal(0.0, 0.5, size=(10, 7), dtype=np.float32)
    for col in range(7):
        want[g.permutation(10)[:3], col] = 0
    assert np.array_equal(t.numpy(), want)


# -- the mirror equals the routed torch.nn.init call ------------------------------------------
ROUTED = [
    ("uniform_", {"a": -0.3, "b": 0.7}),
    ("normal_", {"mean": 0.1, "std": 0.5}),
    ("trunc_normal_", {"mean": 0.0, "std": 0.5, "a": -0.4, "b": 0.9}),
    ("xavier_uniform_", {"gain": 2.5}),
    ("xavier_normal_", {"gain": 2.5}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("orthogonal_", {"gain": 1.7}),
    ("sparse_", {"sparsity": 0.3, "std": 0.2}),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name,kwargs", ROUTED, ids=[r[0] for r in ROUTED])
def test_mirror_equals_init_module(name, kwargs, dtype):
    """``init.f(t, generator=Generator(s).child(q))`` is what ``init_module`` makes of
    ``torch.nn.init.f`` on the parameter named ``q``, bit for bit."""
    if name == "orthogonal_" and dtype not in NP_DTYPE:
        pytest.skip("torch's QR has no 16-bit kernels")
    m = nn.Linear(24, 40).to(dtype)

    def init_fn(sub):
        if isinstance(sub, nn.Linear):
            getattr(nn.init, name)(sub.weight, **kwargs)

    sst.init_module(m, 8, init_fn=init_fn)
    want = getattr(init, name)(torch.empty(40, 24, dtype=dtype), **kwargs, generator=ss.Generator(8).child("weight"))
    assert torch.equal(m.weight.detach(), want)
