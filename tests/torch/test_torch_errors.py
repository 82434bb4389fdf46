"""torch layer: errors name the argument; NumPy scalars work where Python numbers do; meta
tensors pass through; out= and init.*_ writes are in-place operations for autograd."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch.functional import dropout  # noqa: E402

G = ss.Generator(1)

NAMED = [
    ("Dropout p str", lambda: sst.Dropout("0.5", seed=1, name="d"), TypeError, "p"),
    ("Dropout p np.float64 > 1", lambda: sst.Dropout(np.float64(1.5), seed=1, name="d"), ValueError, "p"),
    ("Dropout p bool", lambda: sst.Dropout(True, seed=1, name="d"), TypeError, "p"),
    ("dropout p np.bool_", lambda: dropout(torch.ones(3), np.bool_(False), generator=G), TypeError, "p"),
    ("dropout p 10**400", lambda: dropout(torch.ones(3), 10**400, generator=G), ValueError, "p"),
    ("sampler n 2**64", lambda: sst.ShuffleSampler(2**64, seed=1), ValueError, "data_source_or_len"),
    ("sampler num_replicas 2**70", lambda: sst.ShuffleSampler(10, seed=1, num_replicas=2**70), ValueError,
     "num_replicas"),
    ("sampler num_replicas float", lambda: sst.ShuffleSampler(10, seed=1, num_replicas=2.0), TypeError,
     "num_replicas"),
    ("sampler rank ndarray", lambda: sst.ShuffleSampler(10, seed=1, num_replicas=2, rank=np.array([0, 1])),
     TypeError, "rank"),
    ("sampler epoch float", lambda: sst.ShuffleSampler(10, seed=1).set_epoch(1.0), TypeError, "epoch"),
    ("sampler surrogate seed", lambda: sst.ShuffleSampler(10, seed="\ud800"), ValueError, "seed"),
    ("Dropout surrogate name", lambda: sst.Dropout(0.5, seed=1, name="\ud800"), ValueError, "name"),
    ("loader_generator epoch -1", lambda: sst.loader_generator(1, -1), ValueError, "epoch"),
    ("loader_generator epoch float", lambda: sst.loader_generator(1, 1.0), TypeError, "epoch"),
    ("sampler state version array", lambda: sst.ShuffleSampler(4, seed=1).load_state_dict(
        {**sst.ShuffleSampler(4, seed=1).state_dict(), "version": np.array([1, 2])}), ValueError, "state"),
    ("sampler state without epoch", lambda: sst.ShuffleSampler(4, seed=1).load_state_dict(
        {k: v for k, v in sst.ShuffleSampler(4, seed=1).state_dict().items() if k != "epoch"}), ValueError, "state"),
    ("rand ndarray size", lambda: sst.rand(np.array([[2, 3]]), generator=G), TypeError, "size"),
    ("randperm str", lambda: sst.randperm("3", generator=G), TypeError, "n"),
    ("randperm -1", lambda: sst.randperm(-1, generator=G), ValueError, "n"),
    ("normal mean 10**400", lambda: sst.normal(10**400, 1.0, 3, generator=G), ValueError, "loc"),
    ("bernoulli p 10**400", lambda: sst.bernoulli(10**400, 3, generator=G), ValueError, "p"),
    ("rand out leaf requiring grad", lambda: sst.rand(3, generator=G, out=torch.zeros(3, requires_grad=True)),
     RuntimeError, "out"),
    ("randn out view of leaf", lambda: sst.randn(2, generator=G, out=torch.zeros(4, requires_grad=True)[:2]),
     RuntimeError, "out"),
]


@pytest.mark.parametrize("call,exc,name", [row[1:] for row in NAMED], ids=[row[0] for row in NAMED])
def test_errors_name_the_argument(call, exc, name):
    position = G.position
    with pytest.raises(exc) as info:
        call()
    assert str(info.value).startswith(name + ":"), str(info.value)
    assert G.position == position


def test_numpy_scalars_work_where_python_numbers_do():
    d = sst.Dropout(np.float32(0.25), seed=1, name="d")
    assert d.p == float(np.float32(0.25))
    x = torch.ones(1000)
    assert torch.equal(dropout(x, np.float64(0.5), generator=ss.Generator(3)),
                       dropout(x, 0.5, generator=ss.Generator(3)))
    a = sst.ShuffleSampler(10, seed=1, num_replicas=np.int64(2), rank=np.int64(1))
    b = sst.ShuffleSampler(10, seed=1, num_replicas=2, rank=1)
    assert list(a) == list(b) and type(a.num_replicas) is int
    a.set_epoch(np.uint32(3))
    b.set_epoch(3)
    assert list(a) == list(b)
    assert torch.equal(sst.rand(np.int64(2), np.int32(3), generator=ss.Generator(1)),
                       sst.rand(2, 3, generator=ss.Generator(1)))


def test_sampler_state_takes_numpy_integers_and_fails_whole():
    s = sst.ShuffleSampler(10, seed=1)
    s.set_epoch(2)
    it = iter(s)
    head = [next(it) for _ in range(3)]
    state = {**s.state_dict(), "epoch": np.int64(2), "position": np.uint8(3)}
    t = sst.ShuffleSampler(10, seed=1)
    t.load_state_dict(state)
    full = sst.ShuffleSampler(10, seed=1)
    full.set_epoch(2)
    assert head + list(t) == list(full) and t.epoch == 2
    u = sst.ShuffleSampler(10, seed=1)
    with pytest.raises(ValueError, match="state"):
        u.load_state_dict({**state, "position": 11})
    assert u.epoch == 0 and u.position == 0


def test_meta_tensors_compute_nothing():
    g = ss.Generator(1)
    x = torch.empty(3, 4, device="meta", requires_grad=True)
    y = dropout(x, 0.5, generator=g)
    assert y.device.type == "meta" and y.shape == (3, 4) and y.requires_grad
    assert g.position == 3  # as a real draw of 12 elements of 1 word
    y.sum().backward()
    assert x.grad.device.type == "meta"
    m = sst.Dropout(0.5, seed=1, name="d")
    assert m(torch.empty(5, device="meta")).device.type == "meta"
    probs = torch.empty(7, device="meta")
    g = ss.Generator(1)
    r = sst.bernoulli(probs, generator=g)
    assert r.device.type == "meta" and r.shape == (7,) and r.dtype == probs.dtype
    assert g.position == 2  # as a real draw of 7 elements of 1 word


# -- autograd: out= and init.*_ are in-place writes --------------------------------------
FILLS = [
    ("rand out", lambda t, g: sst.rand(3, generator=g, out=t)),
    ("randn out", lambda t, g: sst.randn(3, generator=g, out=t)),
    ("normal out", lambda t, g: sst.normal(0.0, 1.0, 3, generator=g, out=t)),
    ("trunc_normal out", lambda t, g: sst.trunc_normal(3, generator=g, out=t)),
    ("init.uniform_", lambda t, g: sst.init.uniform_(t, generator=g)),
    ("init.normal_", lambda t, g: sst.init.normal_(t, generator=g)),
    ("init.trunc_normal_", lambda t, g: sst.init.trunc_normal_(t, generator=g)),
    ("init.kaiming_uniform_", lambda t, g: sst.init.kaiming_uniform_(t.view(1, 3), generator=g)),
    ("init.xavier_normal_", lambda t, g: sst.init.xavier_normal_(t.view(1, 3), generator=g)),
]


@pytest.mark.parametrize("fill", [f[1] for f in FILLS], ids=[f[0] for f in FILLS])
def test_overwriting_a_tensor_saved_for_backward_raises_at_backward(fill):
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    z = y.sin()  # saves y
    version = y._version
    with torch.no_grad():
        fill(y, ss.Generator(1))
    assert y._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


@pytest.mark.parametrize("fill", [f[1] for f in FILLS], ids=[f[0] for f in FILLS])
def test_fills_bump_the_version_of_plain_tensors(fill):
    t = torch.zeros(3)
    fill(t, ss.Generator(1))
    assert t._version == 1


def test_init_fills_a_leaf_that_requires_grad_like_torch():
    w = torch.zeros(3, requires_grad=True)
    sst.init.normal_(w, generator=ss.Generator(1))  # as torch.nn.init: under no_grad
    assert w.requires_grad and w.grad_fn is None and w._version == 1
    assert torch.equal(w.detach(), sst.randn(3, generator=ss.Generator(1)))


def test_inference_tensors_are_not_updated_outside_inference_mode():
    with torch.inference_mode():
        t = torch.zeros(3)
    with pytest.raises(RuntimeError, match="tensor"):
        sst.init.uniform_(t, generator=ss.Generator(1))
    with pytest.raises(RuntimeError, match="out"):
        sst.rand(3, generator=ss.Generator(1), out=t)
    with torch.inference_mode():
        sst.rand(3, generator=ss.Generator(1), out=t)
    assert torch.equal(t, sst.rand(3, generator=ss.Generator(1)))


def test_init_fills_strided_views_in_c_order_and_rejects_expanded_tensors():
    w = torch.zeros(4, 6)
    view = w.t()  # not contiguous
    sst.init.normal_(view, generator=ss.Generator(2))
    assert torch.equal(view, sst.randn(6, 4, generator=ss.Generator(2)))
    assert w._version == 1
    with pytest.raises(RuntimeError, match="^tensor:"):
        sst.init.uniform_(torch.zeros(1, 3).expand(4, 3), generator=ss.Generator(2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fills_are_in_place_for_autograd_too():
    x = torch.ones(3, device="cuda", requires_grad=True)
    y = x * 2
    z = y.sin()
    with torch.no_grad():
        sst.rand(3, generator=ss.Generator(1), out=y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    with pytest.raises(RuntimeError, match="^out:"):
        sst.rand(3, generator=ss.Generator(1), out=torch.zeros(3, device="cuda", requires_grad=True))
    view = torch.zeros(4, 6, device="cuda").t()
    sst.init.normal_(view, generator=ss.Generator(2))
    assert torch.equal(view.cpu(), sst.randn(6, 4, generator=ss.Generator(2)))


def test_dropout_on_meta_moves_the_generator_as_a_real_draw():
    real, meta = ss.Generator(4), ss.Generator(4)
    dropout(torch.ones(1001), 0.3, generator=real)
    dropout(torch.empty(1001, device="meta"), 0.3, generator=meta)
    assert meta.position == real.position
    assert np.array_equal(meta.random(5), real.random(5))
