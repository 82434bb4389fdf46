"""seedstream.torch tensor constructors: same values as the NumPy API, filled in place."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402


def test_rand_equals_numpy_api_and_advances_alike():
    g, h = ss.Generator(3), ss.Generator(3)
    for dtype, np_dtype in [(torch.float32, np.float32), (torch.float64, np.float64)]:
        t = sst.rand(4, 5, generator=g, dtype=dtype)
        a = h.random((4, 5), dtype=np_dtype)
        assert t.dtype == dtype and t.shape == (4, 5)
        assert np.array_equal(t.numpy(), a)
        assert g.position == h.position
    assert sst.rand((2, 3), generator=g).shape == (2, 3)
    assert sst.rand([2, 3], generator=g).shape == (2, 3)
    assert sst.rand(torch.Size([2]), generator=g).shape == (2,)


def test_out_is_filled_in_place_through_the_tensor_memory():
    out = torch.empty(1000)
    ptr = out.data_ptr()
    res = sst.rand(1000, generator=ss.Generator(1), out=out)
    assert res is out and out.data_ptr() == ptr
    assert np.array_equal(out.numpy(), ss.Generator(1).random(1000, dtype=np.float32))


def test_requires_grad_is_kept_and_filled_without_autograd():
    p = torch.empty(10, requires_grad=True)
    with torch.no_grad():  # as torch.rand(out=p): a leaf that requires grad only under no_grad
        sst.rand(10, generator=ss.Generator(2), out=p)
    assert p.requires_grad and p.grad_fn is None
    q = sst.rand(3, generator=ss.Generator(2), requires_grad=True)
    assert q.requires_grad


def test_randint_randperm_bernoulli_match_numpy_api():
    g, h = ss.Generator(4), ss.Generator(4)
    assert np.array_equal(sst.randint(10, (100,), generator=g).numpy(), h.integers(10, size=100))
    assert np.array_equal(
        sst.randint(-5, 5, (7, 3), generator=g, dtype=torch.int16).numpy(),
        h.integers(-5, 5, size=(7, 3), dtype=np.int16),
    )
    assert np.array_equal(sst.randperm(100, generator=g).numpy(), h.permutation(100))
    assert np.array_equal(sst.bernoulli(0.3, 50, generator=g).numpy(), h.bernoulli(0.3, size=50))
    assert g.position == h.position


@pytest.mark.parametrize(
    "draw",
    [
        lambda g, dev: sst.rand(10, 7, generator=g, device=dev),
        lambda g, dev: sst.rand(5, generator=g, device=dev, dtype=torch.float64),
        lambda g, dev: sst.randn(3, 3, generator=g, device=dev, dtype=torch.bfloat16),
        lambda g, dev: sst.normal(0.0, 2.0, (9,), generator=g, device=dev, dtype=torch.float64),
        lambda g, dev: sst.trunc_normal(13, generator=g, device=dev),
        lambda g, dev: sst.randint(0, 7, (5,), generator=g, device=dev, dtype=torch.int8),
        lambda g, dev: sst.randperm(11, generator=g, device=dev),
        lambda g, dev: sst.randperm(2, generator=g, device=dev),
        lambda g, dev: sst.bernoulli(0.3, 9, generator=g, device=dev),
        lambda g, dev: sst.bernoulli(torch.full((3, 3), 0.5, device=dev), generator=g),
        lambda g, dev: sst.init.orthogonal_(torch.empty(4, 6, device=dev), generator=g),
        lambda g, dev: sst.init.sparse_(torch.empty(5, 3, device=dev), 0.4, generator=g),
        lambda g, dev: sst.init.kaiming_uniform_(torch.empty(6, 5, dtype=torch.float64, device=dev), generator=g),
    ],
)
def test_meta_draw_moves_the_position_as_the_real_draw(draw):
    """A model built on meta then materialised draws the same later values as a real one."""
    real, meta = ss.Generator(5), ss.Generator(5)
    draw(real, "cpu")
    t = draw(meta, "meta")
    assert t.device.type == "meta"
    assert meta.position == real.position > 0
    assert np.array_equal(meta.random(4), real.random(4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensor_has_the_cpu_values():
    t = sst.rand(1000, generator=ss.Generator(6), device="cuda")
    assert t.device.type == "cuda"
    assert np.array_equal(t.cpu().numpy(), ss.Generator(6).random(1000, dtype=np.float32))


def test_bad_arguments():
    g = ss.Generator(1)
    with pytest.raises(TypeError, match="generator"):
        sst.rand(3, generator=np.random.default_rng())
    with pytest.raises(TypeError, match="dtype"):  # an unsupported dtype: NumPy's TypeError
        sst.rand(3, generator=g, dtype=torch.int32)
    with pytest.raises(ValueError, match="out"):
        sst.rand(3, generator=g, dtype=torch.float32, out=torch.empty(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="out"):
        sst.rand(4, 2, generator=g, out=torch.empty(2, 4).t())
    with pytest.raises(ValueError, match="size"):
        sst.rand(-1, generator=g)
    with pytest.raises(TypeError, match="dtype"):
        sst.randint(3, (2,), generator=g, dtype=torch.float32)
    with pytest.raises(TypeError, match="randint"):
        sst.randint(3, generator=g)
    with pytest.raises(ValueError, match="p"):
        sst.bernoulli(1.5, 3, generator=g)
    with pytest.raises(ValueError, match="n"):
        sst.randperm(-2, generator=g)
    assert g.position == 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_float_constructors_match_generator_methods(dtype):
    import ml_dtypes

    np_dtype = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16,
                torch.bfloat16: ml_dtypes.bfloat16}[dtype]

    def bits(t):
        return t.view(torch.int16).numpy().tobytes() if t.element_size() == 2 else t.numpy().tobytes()

    cases = [
        (lambda g: sst.rand(6, 7, generator=g, dtype=dtype), lambda g: g.uniform(0.0, 1.0, (6, 7), dtype=np_dtype)),
        (lambda g: sst.randn(6, 7, generator=g, dtype=dtype), lambda g: g.standard_normal((6, 7), dtype=np_dtype)),
        (lambda g: sst.normal(2.0, 0.5, (6, 7), generator=g, dtype=dtype),
         lambda g: g.normal(2.0, 0.5, (6, 7), dtype=np_dtype)),
        (lambda g: sst.trunc_normal(6, 7, mean=0.1, std=2.0, a=-1.0, b=3.0, generator=g, dtype=dtype),
         lambda g: g.truncated_normal(0.1, 2.0, -1.0, 3.0, (6, 7), dtype=np_dtype)),
    ]
    for torch_call, numpy_call in cases:
        g, h = ss.Generator(9), ss.Generator(9)
        t = torch_call(g)
        assert t.dtype == dtype and t.shape == (6, 7)
        assert bits(t) == numpy_call(h).tobytes()
        assert g.position == h.position


def test_rand_float32_equals_random():
    assert np.array_equal(sst.rand(100, generator=ss.Generator(1)).numpy(),
                          ss.Generator(1).random(100, dtype=np.float32))


def test_bernoulli_of_a_probability_tensor_is_torch_like():
    probs = torch.rand(50, 20, dtype=torch.float64)
    got = sst.bernoulli(probs, generator=ss.Generator(3))
    assert got.dtype == torch.float64 and got.shape == (50, 20)
    want = ss.Generator(3).bernoulli(probs.numpy())
    assert np.array_equal(got.numpy(), want.astype(np.float64))
    f32 = sst.bernoulli(probs.float(), generator=ss.Generator(3), dtype=torch.bool)
    assert f32.dtype == torch.bool
    with pytest.raises(ValueError, match="p"):
        sst.bernoulli(torch.tensor([0.5, 2.0]), generator=ss.Generator(3))


def test_out_gives_the_dtype_when_dtype_is_not_given():
    """As torch: ``rand(n, out=t)`` draws in ``t``'s dtype."""
    for make, out, want in [
        (lambda g, o: sst.rand(6, generator=g, out=o), torch.empty(6, dtype=torch.float64),
         lambda g: ss.Generator(3).random(6)),
        (lambda g, o: sst.randn(6, generator=g, out=o), torch.empty(6, dtype=torch.float64),
         lambda g: ss.Generator(3).standard_normal(6)),
        (lambda g, o: sst.normal(1.0, 2.0, (6,), generator=g, out=o), torch.empty(6, dtype=torch.float64),
         lambda g: ss.Generator(3).normal(1.0, 2.0, 6)),
        (lambda g, o: sst.trunc_normal(6, generator=g, out=o), torch.empty(6, dtype=torch.float64),
         lambda g: ss.Generator(3).truncated_normal(size=6)),
        (lambda g, o: sst.randint(0, 9, (6,), generator=g, out=o), torch.empty(6, dtype=torch.int32),
         lambda g: ss.Generator(3).integers(0, 9, 6, dtype=np.int32)),
    ]:
        got = make(ss.Generator(3), out)
        assert got is out
        assert np.array_equal(out.numpy(), want(None))
