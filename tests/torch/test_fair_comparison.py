"""Two runs that differ only in the optimizer share init, data order and dropout masks."""

import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402

SEED = 1234


class Net(nn.Module):
    def __init__(self, extra=False):
        super().__init__()
        if extra:  # an unused layer built and initialised before all the others
            self.extra = nn.Linear(8, 8)
        self.fc1, self.fc2, self.out = nn.Linear(8, 64), nn.Linear(64, 64), nn.Linear(64, 3)
        self.drop1 = sst.Dropout(0.2, seed=SEED, name="drop1")
        self.drop2 = sst.Dropout(0.2, seed=SEED, name="drop2")

    def forward(self, x):
        x = self.drop1(F.relu(self.fc1(x)))
        return self.out(self.drop2(F.relu(self.fc2(x))))


def dataset():
    g = ss.Generator(SEED).child("dataset")
    x = sst.randn(96, 8, generator=g.child("x"))
    y = sst.randint(0, 3, (96,), generator=g.child("y"))
    return torch.utils.data.TensorDataset(x, y)


def run(make_optimizer, steps=4):
    """Trains a few steps; returns the initial weights, the batches and, per step and
    dropout module, its input and output."""
    model = Net()
    sst.init_module(model, seed=SEED)
    init = {k: v.clone() for k, v in model.state_dict().items()}
    opt = make_optimizer(model.parameters())
    seen = []
    for name in ("drop1", "drop2"):
        getattr(model, name).register_forward_hook(
            lambda m, args, out, name=name: seen.append((name, args[0].detach().clone(), out.detach().clone()))
        )
    loader = torch.utils.data.DataLoader(dataset(), batch_size=16,
                                         sampler=sst.ShuffleSampler(96, seed=SEED))
    batches = []
    for step, (x, y) in enumerate(loader):
        if step == steps:
            break
        batches.append((x, y))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return init, batches, seen


def test_sgd_and_adam_runs_share_init_batches_and_dropout_masks():
    sgd = run(lambda p: torch.optim.SGD(p, lr=0.1))
    adam = run(lambda p: torch.optim.Adam(p, lr=1e-3))
    init_a, batches_a, seen_a = sgd
    init_b, batches_b, seen_b = adam
    assert init_a.keys() == init_b.keys()
    assert all(torch.equal(init_a[k], init_b[k]) for k in init_a)
    assert len(batches_a) == len(batches_b) == 4
    for (xa, ya), (xb, yb) in zip(batches_a, batches_b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert [n for n, _, _ in seen_a] == [n for n, _, _ in seen_b]
    # Step 0: same weights and batch, so every dropout input and output is the same.
    for (_, ia, oa), (_, ib, ob) in zip(seen_a[:2], seen_b[:2]):
        assert torch.equal(ia, ib) and torch.equal(oa, ob)
    # Later steps: the weights have moved apart, yet each module keeps the same mask,
    # a function of (seed, name, step, index) only.
    moved = False
    for (_, ia, oa), (_, ib, ob) in zip(seen_a[2:], seen_b[2:]):
        moved = moved or not torch.equal(ia, ib)
        both = (ia != 0) & (ib != 0)
        assert both.float().mean() > 0.3
        assert torch.equal((oa != 0)[both], (ob != 0)[both])
    assert moved


def test_a_model_with_one_more_layer_keeps_the_shared_modules_init_and_masks():
    plain, wider = Net(), Net(extra=True)
    for m in (plain, wider):
        sst.init_module(m, seed=SEED)
    shared = plain.state_dict()
    assert all(torch.equal(shared[k], v) for k, v in wider.state_dict().items() if k in shared)
    x = dataset().tensors[0][:16]
    assert torch.equal(plain(x), wider(x))  # same weights, same masks
