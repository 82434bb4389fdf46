"""Fuzz of the torch layer: every call either raises a documented exception whose message
names the argument (RuntimeError only where torch raises one: autograd and inference
tensors), leaving the generator where it was, or gives exactly the NumPy API's values.

A short, derandomized (so reproducible) run is part of `make test`; the `slow` variants run
the same bodies much longer, with fresh random examples each time.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Callable, Dict, Tuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import ml_dtypes  # noqa: E402

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch.functional import dropout  # noqa: E402

DOCUMENTED = (TypeError, ValueError, MemoryError, RuntimeError)
NAMED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:")
BRIEF = settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))

FLOAT_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INT_DTYPES = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]
ODD_DTYPES = [torch.complex64, torch.bool, None, np.float32, "float32", torch.uint16]
NUMPY_OF = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16,
            torch.bfloat16: ml_dtypes.bfloat16, torch.int64: np.int64, torch.int32: np.int32,
            torch.int16: np.int16, torch.int8: np.int8, torch.uint8: np.uint8, torch.bool: np.bool_}
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([10**400, 2**64, -1, 0.5, 1.0, 1e-300, "0.5", "\ud800", b"x", np.float32(0.25),
                     np.int64(3), np.float16(6e4), np.array(0.5), np.array([1, 2]), [1, 2], (2,), object(),
                     torch.tensor(0.5), torch.tensor([1.0, 2.0]), 1j]),
)
SMALL_DIMS = st.lists(st.integers(0, 4), max_size=3).map(tuple)
FLOATS = st.one_of(st.floats(-4, 4), st.sampled_from([0.0, 1.0, -2.0, 2.0, 0.02]), ODD)
OUT_KINDS = ["none", "good", "non-contiguous", "wrong dtype", "0-d", "leaf requiring grad", "view of leaf",
             "meta", "inference", "expanded", "wrong shape", "ndarray", "channels_last", "non-leaf"]


def out_tensor(kind: str, shape: Tuple[int, ...], dtype: Any) -> Any:
    dtype = dtype if isinstance(dtype, torch.dtype) else torch.float32
    n = int(np.prod(shape)) if shape else 1
    if kind == "none":
        return None
    if kind == "good":
        return torch.full(shape, 7, dtype=dtype) if dtype != torch.bool else torch.zeros(shape, dtype=dtype)
    if kind == "non-contiguous":
        return torch.zeros(shape + (2,), dtype=dtype)[..., 0]
    if kind == "wrong dtype":
        return torch.zeros(shape, dtype=torch.float64 if dtype != torch.float64 else torch.float32)
    if kind == "0-d":
        return torch.zeros((), dtype=dtype)
    if kind == "leaf requiring grad":
        return torch.zeros(shape, dtype=torch.float32, requires_grad=True) if not dtype.is_floating_point else \
            torch.zeros(shape, dtype=dtype, requires_grad=True)
    if kind == "view of leaf":
        d = dtype if dtype.is_floating_point else torch.float32
        return torch.zeros((n + 1,), dtype=d, requires_grad=True)[:n].view(shape)
    if kind == "meta":
        return torch.empty(shape, dtype=dtype, device="meta")
    if kind == "inference":
        with torch.inference_mode():
            return torch.zeros(shape, dtype=dtype)
    if kind == "expanded":
        return torch.zeros((1,) * len(shape), dtype=dtype).expand(shape) if shape else torch.zeros((), dtype=dtype)
    if kind == "wrong shape":
        return torch.zeros((n + 1,), dtype=dtype)
    if kind == "ndarray":
        return np.zeros(shape, NUMPY_OF.get(dtype, np.float32))
    if kind == "channels_last":
        return torch.zeros((1, 2, 2, 3), dtype=dtype).to(memory_format=torch.channels_last)
    if kind == "non-leaf":
        d = dtype if dtype.is_floating_point else torch.float32
        return torch.zeros(shape, dtype=d, requires_grad=True) * 1
    raise AssertionError(kind)


def bits(x: Any) -> Tuple[str, Tuple[int, ...], bytes]:
    """dtype name, shape and bytes of a tensor or array, for bit-exact comparison."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        name = str(x.dtype).replace("torch.", "")
        if x.dtype in (torch.float16, torch.bfloat16):
            x = x.view(torch.int16)
        return name, tuple(x.shape), x.contiguous().numpy().tobytes()
    x = np.asarray(x)
    return x.dtype.name, tuple(x.shape), x.tobytes()


def check_error(exc: BaseException) -> None:
    assert isinstance(exc, DOCUMENTED), f"{type(exc).__name__}: {exc}"
    assert NAMED.match(str(exc)), f"message does not start with an argument name: {type(exc).__name__}: {exc}"


# Each entry: draw the arguments -> (call(g), expected(h) from the NumPy API or None).
def _rand(d: Any) -> Tuple[Callable, Callable, Any, Any]:
    name = d(st.sampled_from(["rand", "randn", "normal", "trunc_normal"]))
    size = d(st.one_of(SMALL_DIMS, st.sampled_from([(-1,), (2.0,), (np.int64(2), 3), ("2",), (2**64,)])))
    dtype = d(st.sampled_from(FLOAT_DTYPES + ODD_DTYPES))
    grad = d(st.booleans())
    mean, std = d(FLOATS), d(FLOATS)
    kw: Dict[str, Any] = {"dtype": dtype} if dtype is not None else {}
    if grad:
        kw["requires_grad"] = True

    def call(g: ss.Generator, out: Any) -> Any:
        if name == "rand":
            return sst.rand(*size, generator=g, out=out, **kw)
        if name == "randn":
            return sst.randn(*size, generator=g, out=out, **kw)
        if name == "normal":
            return sst.normal(mean, std, size, generator=g, out=out, **kw)
        return sst.trunc_normal(*size, mean=mean, std=std, generator=g, out=out, **kw)

    def expected(h: ss.Generator, shape: Tuple[int, ...], dt: Any) -> Any:
        npdt = NUMPY_OF[dt]
        if name == "rand":
            return h.uniform(0.0, 1.0, shape, dtype=npdt)
        if name == "randn":
            return h.standard_normal(shape, dtype=npdt)
        if name == "normal":
            return h.normal(mean, std, shape, dtype=npdt)
        return h.truncated_normal(mean, std, -2.0, 2.0, shape, dtype=npdt)

    return call, expected, size, dtype if dtype is not None else torch.float32


def _randint(d: Any) -> Tuple[Callable, Callable, Any, Any]:
    low = d(st.one_of(st.integers(-300, 300), ODD))
    high = d(st.one_of(st.integers(-300, 300), ODD))
    size = d(st.one_of(SMALL_DIMS, st.sampled_from([-1, 3, (2.0,), np.int64(2)])))
    dtype = d(st.sampled_from(INT_DTYPES + ODD_DTYPES))
    two = d(st.booleans())

    def call(g: ss.Generator, out: Any) -> Any:
        if two:
            return sst.randint(high, size, generator=g, dtype=dtype, out=out)
        return sst.randint(low, high, size, generator=g, dtype=dtype, out=out)

    def expected(h: ss.Generator, shape: Tuple[int, ...], dt: Any) -> Any:
        return h.integers(0 if two else low, high, shape, dtype=NUMPY_OF[dt])

    return call, expected, size if isinstance(size, tuple) else (size,), dtype


def _randperm(d: Any) -> Tuple[Callable, Callable, Any, Any]:
    n = d(st.one_of(st.integers(-2, 9), ODD.filter(lambda v: not isinstance(v, int) or v < 100 or v > 2**61)))
    dtype = d(st.sampled_from([torch.int64, torch.int32, torch.float32]))

    def call(g: ss.Generator, out: Any) -> Any:
        return sst.randperm(n, generator=g, dtype=dtype, out=out)

    def expected(h: ss.Generator, shape: Tuple[int, ...], dt: Any) -> Any:
        return h.permutation(int(shape[0]))

    return call, expected, (n,), dtype


def _bernoulli(d: Any) -> Tuple[Callable, Callable, Any, Any]:
    p = d(st.one_of(st.floats(0, 1), ODD))
    size = d(SMALL_DIMS)

    def call(g: ss.Generator, out: Any) -> Any:
        return sst.bernoulli(p, *size, generator=g, out=out)

    def expected(h: ss.Generator, shape: Tuple[int, ...], dt: Any) -> Any:
        if isinstance(p, torch.Tensor):  # a probability per element, in p's dtype
            mask = np.empty(tuple(p.shape), np.bool_)
            h.bernoulli(p.detach().double().numpy(), out=mask)
            return torch.from_numpy(mask).to(p.dtype)
        return h.bernoulli(p, shape)

    return call, expected, size, torch.bool


def _init(d: Any) -> Tuple[Callable, Callable, Any, Any]:
    name = d(st.sampled_from(["uniform_", "normal_", "trunc_normal_"]))
    a, b = d(FLOATS), d(FLOATS)
    dtype = d(st.sampled_from(FLOAT_DTYPES + [torch.int64, torch.complex64]))
    size = d(SMALL_DIMS)

    def call(g: ss.Generator, tensor: Any) -> Any:
        with warnings.catch_warnings():  # torch's documented warning for a far-off mean
            warnings.filterwarnings("ignore", "mean is more than 2 std", UserWarning)
            return getattr(sst.init, name)(tensor, a, b, generator=g)

    def expected(h: ss.Generator, shape: Tuple[int, ...], dt: Any) -> Any:
        npdt = NUMPY_OF[dt]
        if name == "uniform_":
            return h.uniform(a, b, shape, dtype=npdt)
        if name == "normal_":
            return h.normal(a, b, shape, dtype=npdt)
        return h.truncated_normal(a, b, -2.0, 2.0, shape, dtype=npdt)

    return call, expected, size, dtype


KINDS = {"rand": _rand, "randint": _randint, "randperm": _randperm, "bernoulli": _bernoulli, "init": _init}


def fuzz_tensors(data: Any) -> None:
    d = data.draw
    seed = d(st.integers(0, 2**64 - 1))
    kind = d(st.sampled_from(sorted(KINDS)))
    call, expected, size, dtype = KINDS[kind](d)
    out_kind = d(st.sampled_from(OUT_KINDS if kind != "init" else OUT_KINDS[1:]))
    try:
        shape = tuple(int(s) for s in size)
        if any(s < 0 or s > 64 for s in shape):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        shape = (2,)
    out = out_tensor(out_kind, shape, dtype)
    g = ss.Generator(seed)
    try:
        got = call(g, out)
    except Exception as exc:  # noqa: BLE001 - the point is to see which exceptions leave
        check_error(exc)
        assert g.position == 0, "a failed call moved the generator"
        return
    if out is not None:
        assert got is out
    assert isinstance(got, torch.Tensor)
    h = ss.Generator(seed)
    want = expected(h, tuple(got.shape), got.dtype)
    if got.device.type == "meta":
        assert g.position == h.position  # a meta draw moves the generator as the real one
        return
    assert bits(got) == bits(want), (kind, out_kind)
    assert g.position == h.position


@BRIEF
@given(data=st.data())
def test_tensor_functions(data):
    fuzz_tensors(data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_tensor_functions_long(data):
    fuzz_tensors(data)


def fuzz_dropout_and_sampler(data: Any) -> None:
    d = data.draw
    p = d(st.one_of(st.floats(0, 1), ODD))
    x = out_tensor(d(st.sampled_from(["good", "non-contiguous", "0-d", "leaf requiring grad", "meta", "expanded",
                                      "channels_last", "ndarray", "non-leaf"])),
                   d(SMALL_DIMS), d(st.sampled_from(FLOAT_DTYPES + [torch.int64])))
    g = ss.Generator(d(st.integers(0, 2**64 - 1)))
    try:
        y = dropout(x, p, generator=g, training=d(st.booleans()))
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
        assert g.position == 0
    else:
        assert isinstance(y, torch.Tensor) and y.shape == x.shape and y.dtype == x.dtype
    kwargs: Dict[str, Any] = {}
    options = (("num_replicas", st.one_of(st.integers(1, 4), ODD)), ("rank", st.one_of(st.integers(0, 3), ODD)),
               ("drop_last", st.booleans()), ("shuffle", st.booleans()))
    for key, values in options:
        if d(st.booleans()):
            kwargs[key] = d(values)
    n = d(st.one_of(st.integers(0, 40), st.sampled_from([2**64, -1, 2.0, [1, 2, 3], "abc", np.int64(5)])))
    seed = d(st.one_of(st.integers(0, 9), ODD))
    try:
        s = sst.ShuffleSampler(n, seed=seed, **kwargs)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
        return
    order = list(s)
    assert len(order) == len(s) and all(0 <= i < max(s.n, 1) for i in order)
    state = s.state_dict()
    if d(st.booleans()):
        state[d(st.sampled_from(sorted(state)))] = d(ODD)
    try:
        s.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001
        check_error(exc)
    else:  # resumes where the state says: the rest of that epoch's order
        position, epoch = s.position, s.epoch
        rest = list(s)
        fresh = sst.ShuffleSampler(n, seed=seed, **kwargs)
        fresh.set_epoch(epoch)
        assert rest == list(fresh)[position:]


@BRIEF
@given(data=st.data())
def test_dropout_and_sampler(data):
    fuzz_dropout_and_sampler(data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_dropout_and_sampler_long(data):
    fuzz_dropout_and_sampler(data)
