"""torch.compile: seedstream.torch.Dropout traces into one graph (fullgraph=True, no
graph break, no recompile as the step moves) and draws the masks of eager mode."""

import copy

import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402

import seedstream.torch as sst  # noqa: E402


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(16, 32), nn.Linear(32, 8)
        self.drop_a = sst.Dropout(0.3, seed=1, name="a")
        self.drop_b = sst.Dropout(0.5, seed=1, name="b")

    def forward(self, x):
        return self.drop_b(self.b(torch.relu(self.drop_a(self.a(x)))))


def _steps(model, x, n=3):
    outs = []
    for _ in range(n):
        model.zero_grad()
        y = model(x)
        y.pow(2).sum().backward()
        outs.append((y.detach(), [p.grad.clone() for p in model.parameters()]))
    return outs


@pytest.mark.parametrize("backend", ["aot_eager", pytest.param("inductor", marks=pytest.mark.slow)])
def test_compiled_dropout_is_one_graph_with_the_eager_masks(backend):
    torch._dynamo.reset()
    torch.manual_seed(0)
    eager = Net()
    compiled_net = copy.deepcopy(eager)
    compiled = torch.compile(compiled_net, fullgraph=True, backend=backend)
    x = torch.linspace(-1, 1, 64).reshape(4, 16)
    want = _steps(eager, x, 1)
    got = _steps(compiled, x, 1)
    with torch._dynamo.config.patch(error_on_recompile=True):
        want += _steps(eager, x, 2)
        got += _steps(compiled, x, 2)
    for (ye, ge), (yc, gc) in zip(want, got):
        assert torch.equal(ye, yc)
        assert all(torch.equal(a, b) for a, b in zip(ge, gc))
    assert int(compiled_net.drop_a.step) == int(eager.drop_a.step) == 3


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")  # opcheck's own
def test_named_dropout_op_passes_torch_library_checks():
    x = torch.linspace(-1, 1, 24, dtype=torch.float64).reshape(4, 6).requires_grad_()
    d = sst.Dropout(0.4, seed=3, name="d")
    args = (x, 0.4, d._algorithm, d._key, "d", torch.tensor(2), -1)
    torch.library.opcheck(torch.ops.seedstream.named_dropout.default, args)
    assert torch.autograd.gradgradcheck(
        lambda t: torch.ops.seedstream.named_dropout(t, *args[1:]) ** 2, (x,)
    )


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")  # dynamo's own
def test_patched_model_compiles_with_the_eager_masks():
    """patch_dropout's bookkeeping runs eagerly (graph breaks); the masks do not change."""
    torch._dynamo.reset()

    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin, self.drop = nn.Linear(8, 8), nn.Dropout(0.5)

        def forward(self, x):
            return torch.nn.functional.dropout(self.drop(self.lin(x)), 0.3, training=self.training)

    torch.manual_seed(0)
    eager = Mixed()
    other = copy.deepcopy(eager)
    sst.patch_dropout(eager, seed=1)
    sst.patch_dropout(other, seed=1)
    compiled = torch.compile(other, backend="aot_eager")
    x = torch.ones(4, 8)
    for _ in range(2):
        assert torch.equal(eager(x), compiled(x))
    assert int(other.seedstream_dropout_step) == 2
