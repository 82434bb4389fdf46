"""seedstream.torch.audit: global RNG draws by module and call site, first differing module."""

import random
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from numpy.random import random_sample as imported_early  # noqa: E402

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402
from seedstream.torch._audit import DIFFERS, NUMPY_RNG, PYTHON_RNG, TORCH_RNG  # noqa: E402

VOCAB, D, T = 64, 32, 16


class Attention(nn.Module):
    def __init__(self, dropout_p):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.dropout_p = dropout_p

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, 4, c // 4).permute(2, 0, 3, 1, 4)
        p = self.dropout_p if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)  # SDPA line
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, i, drop, dropout_p=0.0):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.attn = Attention(dropout_p)
        self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))
        self.drop = drop if drop is not None else sst.Dropout(0.1, seed=1, name=f"blocks.{i}.drop")

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.drop(self.mlp(self.ln2(x)))


class GPT(nn.Module):
    """A small GPT ported to seedstream: seedstream Dropout, init_module, batches by step."""

    def __init__(self, blocks=None, extra=None):
        super().__init__()
        self.tok, self.pos = nn.Embedding(VOCAB, D), nn.Embedding(T, D)
        self.blocks = nn.ModuleList(blocks or [Block(i, None) for i in range(2)])
        self.extra = extra if extra is not None else nn.Identity()
        self.ln, self.head = nn.LayerNorm(D), nn.Linear(D, VOCAB)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln(self.extra(x)))


def batch(step_index, n=4):
    return sst.randint(0, VOCAB, (n, T), generator=ss.Generator(3).child("batch", step_index))


def train_step(model, opt, idx):
    loss = F.cross_entropy(model(idx).view(-1, VOCAB), idx.view(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def run_audit(model, make_batch=lambda: batch(0)):
    sst.init_module(model, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    return sst.audit(model, lambda: train_step(model, opt, make_batch()), restore=[opt])


def only(report, kind):
    rows = [f for f in report.findings if f.kind == kind]
    assert len(rows) == 1, str(report)
    return rows[0]


def test_fully_ported_gpt_reports_nothing():
    report = run_audit(GPT())
    assert report.clean, str(report)
    assert report.to_dict() == {"clean": True, "findings": []}
    assert "nothing found" in str(report)


def test_finds_an_nn_dropout_left_in_a_ported_model():
    blocks = [Block(0, None), Block(1, nn.Dropout(0.1))]
    report = run_audit(GPT(blocks))
    f = only(report, TORCH_RNG)
    assert len(report.findings) == 1
    assert (f.module, f.call, f.detail) == ("blocks.1.drop", "torch.nn.functional.dropout", "p=0.1")
    assert f.site.startswith("test_audit.py:") and f.site.endswith("in forward")
    assert "seedstream.torch.Dropout" in f.fix and "patch_dropout" in f.fix
    assert "blocks.1.drop" in str(report) and "patch_dropout" in str(report)


class Noisy(nn.Module):
    def forward(self, x):
        return x + 0.01 * torch.randn(x.shape)


def test_finds_torch_randn_in_a_forward():
    report = run_audit(GPT(extra=Noisy()))
    f = only(report, TORCH_RNG)
    assert len(report.findings) == 1  # restored global state: both runs agree
    assert (f.module, f.call, f.count) == ("extra", "torch.randn", 1)
    assert "generator=" in f.fix


def test_finds_sdpa_dropout_p_when_not_patched():
    blocks = [Block(0, None), Block(1, None, dropout_p=0.1)]
    report = run_audit(GPT(blocks))
    f = only(report, TORCH_RNG)
    assert f.module == "blocks.1.attn"
    assert f.call == "torch.nn.functional.scaled_dot_product_attention" and f.detail == "dropout_p=0.1"
    assert "patch_dropout" in f.fix
    # the same model in eval mode draws nothing
    model = GPT(blocks)
    sst.init_module(model, seed=0)
    model.eval()
    assert sst.audit(model, lambda: model(batch(0))).clean


class NoisyData(torch.utils.data.Dataset):
    def __init__(self, draw):
        self.draw = draw

    def __len__(self):
        return 8

    def __getitem__(self, i):
        tokens = batch(i, n=1)[0]
        if self.draw() < 0.5:  # a random augmentation
            tokens = tokens.flip(0)
        return tokens


@pytest.mark.parametrize("kind,draw,call", [
    (NUMPY_RNG, lambda: np.random.rand(), "numpy.random.rand"),
    (PYTHON_RNG, lambda: random.random(), "random.random"),
])
def test_finds_global_numpy_and_python_draws_in_a_dataset(kind, draw, call):
    data = NoisyData(draw)
    report = run_audit(GPT(), lambda: torch.stack([data[i] for i in range(4)]))
    f = only(report, kind)
    assert len(report.findings) == 1
    assert f.module is None and f.call == call and f.count == 4
    assert f.site.startswith("test_audit.py:") and f.site.endswith("in <lambda>")
    assert "seedstream" in f.fix
    assert "(outside the model)" in str(report)


def test_a_shuffling_dataloader_is_reported_with_the_sampler_fix():
    data = torch.utils.data.TensorDataset(torch.arange(32).view(8, 4))
    loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=True)
    report = run_audit(GPT(), lambda: next(iter(loader))[0] % VOCAB)
    f = only(report, TORCH_RNG)
    assert f.module is None and f.site.endswith("in <lambda>")
    assert "ShuffleSampler" in f.fix and "loader_generator" in f.fix


class ImportedEarly(nn.Module):
    def forward(self, x):
        return x * float(1.0 + 0.0 * imported_early())


def test_global_draw_through_a_name_imported_before_the_audit_is_still_found():
    report = run_audit(GPT(extra=ImportedEarly()))
    f = only(report, NUMPY_RNG)
    assert f.module == "extra" and "not seen" in f.call


class Unseeded(nn.Module):
    def forward(self, x):
        return x + torch.from_numpy(np.random.default_rng().random(x.shape, dtype=np.float32))


class Clock(nn.Module):
    def forward(self, x):
        return x + float(time.monotonic_ns() % 1_000_003)


class Counter(nn.Module):
    """Keeps state outside the step (a plain attribute, not a buffer)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x + float(self.calls)


@pytest.mark.parametrize("extra", [Unseeded, Clock, Counter])
def test_reports_the_first_module_that_differs_with_its_maximum_difference(extra):
    report = run_audit(GPT(extra=extra()))
    f = only(report, DIFFERS)
    assert len(report.findings) == 1
    assert (f.module, f.call) == ("extra", "forward output")
    assert f.max_diff > 0 and "inputs equal" in f.detail
    assert f.site.startswith("test_audit.py:") and f.site.endswith(f"{extra.__name__}.forward")
    assert "use_deterministic_algorithms" in f.fix
    if extra is Counter:
        assert f.max_diff == pytest.approx(1.0, abs=1e-5)  # x + 2 - (x + 1) in float32
    row = report.to_dict()["findings"][0]
    assert row["kind"] == DIFFERS and row["module"] == "extra" and row["max_diff"] == f.max_diff


def test_data_that_changes_between_runs_shows_at_the_first_module_with_its_inputs():
    batches = iter(range(100))
    report = run_audit(GPT(), lambda: batch(next(batches)))
    f = only(report, DIFFERS)
    assert f.module == "tok" and "inputs differ" in f.detail and "data" in f.fix


class NoisyGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        noise = np.random.default_rng().random(grad.shape, dtype=np.float32)
        return grad + torch.from_numpy(noise)


class GradientOnly(nn.Module):
    def forward(self, x):
        return NoisyGradient.apply(x)


def test_a_difference_in_backward_only_is_reported_as_a_gradient():
    report = run_audit(GPT(extra=GradientOnly()))
    f = only(report, DIFFERS)
    assert f.call.startswith("gradient of") and f.max_diff > 0
    # the first gradient to differ is upstream of the noise: the last block's output
    assert f.module == "blocks.1"


def test_audit_leaves_model_optimizer_and_global_rngs_as_they_were():
    model = GPT([Block(0, nn.Dropout(0.1)), Block(1, None)])
    sst.init_module(model, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    train_step(model, opt, batch(0))
    before = ({k: v.clone() for k, v in model.state_dict().items()}, str(opt.state_dict()),
              torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    grads = [p.grad.clone() for p in model.parameters()]
    sst.audit(model, lambda: train_step(model, opt, batch(1)), restore=[opt])
    after = model.state_dict()
    assert all(torch.equal(before[0][k], after[k]) for k in after)
    assert str(opt.state_dict()) == before[1]
    assert torch.equal(torch.get_rng_state(), before[2])
    assert np.array_equal(np.random.get_state()[1], before[3]) and random.getstate() == before[4]
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))
    # global functions are unwrapped again
    assert np.random.rand.__self__ is np.random.mtrand._rand
    assert random.random.__self__ is random._inst


def test_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match="model"):
        sst.audit(object(), lambda: None)
    with pytest.raises(TypeError, match="step"):
        sst.audit(GPT(), 3)
    with pytest.raises(TypeError, match="restore"):
        sst.audit(GPT(), lambda: None, restore=[3])


SCRIPT = '''
import torch, seedstream as ss, seedstream.torch as sst

model = torch.nn.Sequential(torch.nn.Linear(4, 8), {drop}, torch.nn.Linear(8, 1))
sst.init_module(model, seed=0)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

def step():
    x = sst.randn(5, 4, generator=ss.Generator(0).child("x"))
    loss = model(x).square().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss

if __name__ == "__main__":
    raise SystemExit("the audit must not run the main block")
'''


@pytest.mark.parametrize("drop,status", [("torch.nn.Dropout(0.5)", 1),
                                         ("sst.Dropout(0.5, seed=0, name='drop')", 0)])
def test_command_line_audits_a_script(tmp_path, capsys, drop, status):
    from seedstream.torch._audit import main

    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(drop=drop))
    assert main([str(script)]) == status
    out = capsys.readouterr().out
    assert ("torch.nn.functional.dropout" in out) == (status == 1)
    assert main([str(script), "--json"]) == status
    assert ('"clean": true' in capsys.readouterr().out) == (status == 0)


def test_python_dash_m_seedstream_audit(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(drop="torch.nn.Dropout(0.5)"))
    r = subprocess.run([sys.executable, "-m", "seedstream", "audit", str(script)], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "patch_dropout" in r.stdout and "train.py:" in r.stdout
    r = subprocess.run([sys.executable, "-m", "seedstream", "audit", str(script), "--model", "net"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "net" in r.stderr


def test_a_model_under_patch_dropout_reports_nothing():
    blocks = [Block(0, nn.Dropout(0.1), dropout_p=0.1), Block(1, nn.Dropout(0.2), dropout_p=0.1)]
    model = GPT(blocks)
    assert not run_audit(model).clean  # torch's dropout and SDPA's dropout_p draw globally
    handle = sst.patch_dropout(model, seed=5)
    report = run_audit(model)
    assert report.clean, str(report)
    handle.remove()
    assert not run_audit(model).clean
