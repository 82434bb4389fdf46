"""End to end: a small GPT and a transformers GPT-2 trained with every dropout patched.

Bit for bit: two runs agree; activation checkpointing changes nothing; resuming from a
mid-training checkpoint continues the uninterrupted run; nothing depends on
torch.manual_seed once the model is built.
"""

import copy
import io
import math

import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.checkpoint import checkpoint  # noqa: E402

import seedstream as ss  # noqa: E402
import seedstream.torch as sst  # noqa: E402

VOCAB, BLOCK, WIDTH, HEADS, LAYERS, BATCH = 48, 8, 16, 2, 2, 4


class Attention(nn.Module):
    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)
        self.resid_drop = nn.Dropout(dropout)
        self.dropout = dropout

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(WIDTH, dim=2)
        q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        return self.resid_drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))


class Block(nn.Module):
    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.attn = Attention(dropout)
        self.mlp = nn.Sequential(
            nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH), nn.Dropout(dropout)
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, dropout: float = 0.2, checkpointing=None) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(VOCAB, WIDTH), nn.Embedding(BLOCK, WIDTH)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(dropout) for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, VOCAB, bias=False)
        self.head.weight = self.wte.weight  # tied
        self.checkpointing = checkpointing

    def forward(self, idx, targets):
        pos = torch.arange(idx.size(1))
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.blocks:
            if self.checkpointing is None:
                x = block(x)
            else:
                x = checkpoint(block, x, use_reentrant=self.checkpointing)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))


def batch(step):
    """The data of a step: a pure function of the step, so a resumed run sees the same."""
    tokens = ss.Generator(11).child("batch", step).integers(0, VOCAB, size=(BATCH, BLOCK + 1))
    tokens = torch.from_numpy(tokens)
    return tokens[:, :-1], tokens[:, 1:]


def build(model_fn, seed=7):
    torch.manual_seed(0)  # weight init only; init is not what this test is about
    model = model_fn()
    sst.patch_dropout(model, seed=seed)
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2)


def train(model, opt, steps, start=0, loss_fn=None):
    torch.manual_seed(1234 + start)  # a training step must not depend on it
    losses = []
    for step in range(start, start + steps):
        idx, targets = batch(step)
        loss = model(idx, targets) if loss_fn is None else loss_fn(model, idx, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_two_runs_agree_and_dropout_is_active():
    a, b = build(GPT), build(GPT)
    la, lb = train(*a, 4), train(*b, 4)
    assert la == lb and same_weights(a[0], b[0])
    c = build(lambda: GPT(), seed=8)
    assert train(*c, 4) != la  # another dropout seed, other masks


@pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "non-reentrant"])
def test_checkpointed_equals_plain(reentrant):
    plain = build(GPT)
    ckpt = build(lambda: GPT(checkpointing=reentrant))
    assert train(*plain, 3) == train(*ckpt, 3)
    assert same_weights(plain[0], ckpt[0])


def test_resume_from_mid_training_checkpoint_continues_exactly():
    full = build(GPT)
    want = train(*full, 4)
    first = build(GPT)
    got = train(*first, 2)
    saved = io.BytesIO()
    torch.save({"model": first[0].state_dict(), "opt": first[1].state_dict()}, saved)
    saved.seek(0)
    state = torch.load(saved)
    resumed = build(GPT)
    resumed[0].load_state_dict(state["model"], strict=True)
    resumed[1].load_state_dict(state["opt"])
    got += train(*resumed, 2, start=2)
    assert got == want and same_weights(full[0], resumed[0])


def test_checkpoint_from_before_the_port_loads_strictly():
    torch.manual_seed(0)
    original = GPT()  # unpatched: torch's dropout, no step
    ported, _ = build(GPT)
    ported.load_state_dict(original.state_dict(), strict=True)


transformers = None


def _gpt2(gradient_checkpointing=False, reentrant=False):
    global transformers
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(
        vocab_size=VOCAB, n_positions=BLOCK, n_embd=WIDTH, n_layer=LAYERS, n_head=HEADS,
        resid_pdrop=0.2, embd_pdrop=0.2, attn_pdrop=0.2, bos_token_id=0, eos_token_id=0, use_cache=False,
    )
    # use_cache off as transformers sets it under checkpointing (the cache path rounds differently)
    config._attn_implementation = "sdpa"
    model = transformers.GPT2LMHeadModel(config)
    if gradient_checkpointing:
        kwargs = {"use_reentrant": reentrant}
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    model.train()
    return model


def _gpt2_loss(model, idx, targets):
    return model(input_ids=idx, labels=torch.cat([idx[:, :1], targets], 1)[:, :-1]).loss


@pytest.mark.parametrize(
    "attention,reentrant", [("sdpa", False), ("eager", False), ("sdpa", True)],
    ids=["sdpa", "eager", "sdpa-reentrant"],
)
def test_transformers_gpt2_is_reproducible_and_checkpointing_changes_nothing(attention, reentrant):
    def make(ckpt=False):
        def fn():
            m = _gpt2(ckpt, reentrant)
            m.config._attn_implementation = attention
            return m

        return build(fn)

    a, b, c = make(), make(), make(ckpt=True)
    la = train(*a, 3, loss_fn=_gpt2_loss)
    assert la == train(*b, 3, loss_fn=_gpt2_loss) == train(*c, 3, loss_fn=_gpt2_loss)
    assert same_weights(a[0], b[0]) and same_weights(a[0], c[0])
    assert all(math.isfinite(v) for v in la)


def _bert():
    global transformers
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=VOCAB, hidden_size=WIDTH, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        intermediate_size=4 * WIDTH, max_position_embeddings=BLOCK,
        hidden_dropout_prob=0.2, attention_probs_dropout_prob=0.2,
    )
    return transformers.BertForMaskedLM(config).train()


@pytest.mark.parametrize("make", [_gpt2, _bert], ids=["gpt2", "bert"])
def test_transformers_dropout_all_routed(make):
    """With dropout on, a training forward is the same under any torch.manual_seed."""
    model, _ = build(make)
    other = copy.deepcopy(model)
    idx, _ = batch(0)
    torch.manual_seed(1)
    x = model(input_ids=idx).logits
    torch.manual_seed(2)
    y = other(input_ids=idx).logits
    assert torch.equal(x, y)
    torch.manual_seed(1)
    assert not torch.equal(model(input_ids=idx).logits, x)  # the next pass: other masks
    model.eval()
    assert torch.equal(model(input_ids=idx).logits, other.eval()(input_ids=idx).logits)


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")  # dynamo's own
def test_compiled_training_equals_eager():
    eager = build(GPT)
    compiled_model, opt = build(GPT)
    compiled = torch.compile(compiled_model, backend="aot_eager")
    assert train(*eager, 2) == train(compiled, opt, 2)
    assert same_weights(eager[0], compiled_model)
