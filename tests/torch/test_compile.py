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
    args = (x, 0.4, d._algorithm, d._key, "d", torch.tensor(2))
    torch.library.opcheck(torch.ops.seedstream.named_dropout.default, args)
    assert torch.autograd.gradgradcheck(
        lambda t: torch.ops.seedstream.named_dropout(t, *args[1:]) ** 2, (x,)
    )
