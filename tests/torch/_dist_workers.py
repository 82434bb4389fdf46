"""Process bodies for the multi-process tests (spawned, so importable by name)."""

from __future__ import annotations

import faulthandler
import os
import traceback
from typing import Any, Callable, Dict

import torch
import torch.distributed as tdist


def run(rank: int, world: int, store_path: str, body: Callable[..., Any], args: Any, backend: str) -> None:
    # A crash in native code (SIGABRT, SIGSEGV) then prints every thread's Python stack.
    faulthandler.enable(all_threads=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    kw: Dict[str, Any] = {}
    if backend == "nccl":
        # One device per process, bound to the group so collectives never guess it.
        torch.cuda.set_device(rank)
        kw["device_id"] = torch.device("cuda", rank)
    tdist.init_process_group(backend, init_method=f"file://{store_path}", rank=rank, world_size=world, **kw)
    try:
        body(rank, world, *args)
        tdist.barrier()
    except BaseException:
        traceback.print_exc()
        raise
    finally:
        tdist.destroy_process_group()


def spawn(world: int, tmp_path: Any, body: Callable[..., Any], *args: Any, backend: str = "gloo") -> None:
    import torch.multiprocessing as mp

    store = str(tmp_path / f"store-{backend}-{world}")
    mp.spawn(run, args=(world, store, body, args, backend), nprocs=world, join=True)


def local_device(device: str, rank: int) -> torch.device:
    """Where a process's tensors live: `cuda:rank` under "cuda" (one device per process)."""
    return torch.device("cuda", rank) if device == "cuda" else torch.device(device)


class Net(torch.nn.Module):
    """Uneven sizes on purpose: no dimension divides by 2 or 4."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(11, 7)
        self.fc1 = torch.nn.Linear(7, 13)
        self.norm = torch.nn.LayerNorm(13)
        self.fc2 = torch.nn.Linear(13, 5)
        self.head = torch.nn.Linear(5, 3, bias=False)

    def reset_parameters(self) -> None:
        torch.nn.init.trunc_normal_(self.head.weight, std=0.02, a=-0.04, b=0.04)


def reference(dtype: torch.dtype, seed: int) -> Dict[str, torch.Tensor]:
    from seedstream.torch import init_module

    return {k: v.clone() for k, v in init_module(Net().to(dtype), seed).state_dict().items()}


def assert_shards_equal(model: torch.nn.Module, ref: Dict[str, torch.Tensor], what: str) -> int:
    from torch.distributed.tensor import DTensor

    from seedstream.torch._distributed import local_box

    checked = 0
    for name, t in model.state_dict().items():
        if isinstance(t, DTensor):
            _, offset, lshape = local_box(t)
            box = tuple(slice(o, o + n) for o, n in zip(offset, lshape))
            got, want = t._local_tensor.cpu(), ref[name][box]
            checked += 1
        else:
            got, want = t.cpu(), ref[name]
        if isinstance(t, DTensor):
            # The placements' own view of the whole tensor, gathered from every process.
            whole = t.full_tensor().cpu()
            assert torch.equal(whole.view(-1).view(torch.uint8), ref[name].reshape(-1).view(torch.uint8)), (what, name)
        assert got.dtype == want.dtype and got.shape == want.shape, (what, name)
        assert torch.equal(got.view(-1).view(torch.uint8) if got.numel() else got,
                           want.contiguous().view(-1).view(torch.uint8) if want.numel() else want), (what, name)
    return checked


def sharded_init_body(rank: int, world: int, dtypes: Any, seed: int, device: str = "cpu") -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    from seedstream.torch import init_module, materialize, routed

    mesh = init_device_mesh(device, (world,))
    here = local_device(device, rank)
    for dtype in dtypes:
        ref = reference(dtype, seed)
        # FSDP2 after construction on meta: Shard(0) of every parameter, uneven.
        with torch.device("meta"):
            model = Net().to(dtype)
        for m in (model.fc1, model.fc2, model.head):
            fully_shard(m, mesh=mesh)
        fully_shard(model, mesh=mesh)
        materialize(model, here, seed=seed)
        assert assert_shards_equal(model, ref, f"fsdp {dtype}") == 8
        # The same model re-initialised in place.
        init_module(model, seed)
        assert_shards_equal(model, ref, f"fsdp init_module {dtype}")
        # Tensor parallel: Shard(0) weights and biases (colwise), Shard(1) weights (rowwise).
        model = Net().to(dtype).to(here)
        parallelize_module(model, mesh, {"fc1": ColwiseParallel(), "fc2": RowwiseParallel(),
                                         "head": ColwiseParallel()})
        init_module(model, seed)
        assert assert_shards_equal(model, ref, f"tp {dtype}") == 5
        # Further routed draws: a second draw continues the stream; bernoulli_, random_,
        # rand_like/randn_like of a sharded parameter.
        plain = init_module(Net().to(dtype), seed)
        for m in (plain, model):
            with routed(m, seed), torch.no_grad():
                torch.nn.init.normal_(m.fc2.weight)
                m.fc2.weight.data.uniform_(-1.0, 1.0)
                m.fc1.weight.bernoulli_(0.3)
                m.fc1.bias.random_(0, 100)
                m.head.weight.data.copy_(torch.randn_like(m.head.weight) + torch.rand_like(m.head.weight))
        assert_shards_equal(model, {k: v.clone() for k, v in plain.state_dict().items()}, f"tp routed {dtype}")


SEED, SAMPLES, STEPS = 21, 8, 3


class DropNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.drop_in = torch.nn.Dropout(0.3)
        self.fc1 = torch.nn.Linear(6, 16)
        self.drop = torch.nn.Dropout(0.3)
        self.fc2 = torch.nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(torch.relu(self.fc1(self.drop_in(x)))))


def batch(step: int, here: torch.device = torch.device("cpu")) -> torch.Tensor:
    from seedstream import Generator

    x = Generator(SEED).child("data", step).standard_normal((SAMPLES, 6), dtype="float32")
    return torch.from_numpy(x).to(here)


def wrap(model: torch.nn.Module, ddp: bool, here: torch.device) -> torch.nn.Module:
    """`model` under DDP when `ddp`; on a CUDA device, DDP is told which one."""
    if not ddp:
        return model
    ids = [here.index] if here.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def train(rank: int, world: int, micro: int, ddp: bool, device: str = "cpu") -> Dict[str, Any]:
    """STEPS steps of SGD on this process's share of each global batch, in micro-batches of
    `micro` samples; per (step, global sample index), the input dropout's input and output
    (the data, never zero, so a zero output is a dropped element). The model and data live
    on `device` (`cuda:rank` for "cuda"); what is returned is on the CPU."""
    from seedstream.torch import init_module, patch_dropout

    here = local_device(device, rank)
    model = init_module(DropNet(), SEED).to(here)
    patch = patch_dropout(model, seed=SEED)
    seen: Dict[Any, Any] = {}
    current: Dict[str, int] = {}

    def record(module: Any, args: Any, out: torch.Tensor) -> None:
        for j in range(out.shape[0]):
            seen[(current["step"], current["offset"] + j)] = (args[0][j].detach().cpu().clone(),
                                                              out[j].detach().cpu().clone())

    model.drop_in.register_forward_hook(record)
    net = wrap(model, ddp, here)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    share = SAMPLES // world
    for step in range(STEPS):
        x = batch(step, here)
        y = x.sum(dim=1, keepdim=True)
        opt.zero_grad()
        for lo in range(rank * share, (rank + 1) * share, micro):
            current.update(step=step, offset=lo)
            with patch.samples(step, lo):
                loss = ((net(x[lo:lo + micro]) - y[lo:lo + micro]) ** 2).sum() * (world / SAMPLES)
            loss.backward()
        opt.step()
    return {"seen": seen, "params": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}


class SampleNet(torch.nn.Module):
    """Channel dropout, attention dropout (MultiheadAttention) and a seedstream Dropout."""

    def __init__(self) -> None:
        from seedstream.torch import Dropout

        super().__init__()
        self.fc1 = torch.nn.Linear(6, 12)
        self.chan = torch.nn.Dropout1d(0.3)
        self.attn = torch.nn.MultiheadAttention(4, 2, dropout=0.3, batch_first=True)
        self.drop = Dropout(0.3, seed=SEED, name="out")
        self.fc2 = torch.nn.Linear(12, 1)
        self.masks: Any = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.chan(self.fc1(x).view(-1, 4, 3))  # 4 channels of 3
        t = h.transpose(1, 2)  # 3 tokens of 4
        a, w = self.attn(t, t, t, need_weights=True, average_attn_weights=False)
        out = self.drop(a.reshape(-1, 12) + 1)
        self.masks = (h == 0, w == 0, out == 0)
        return self.fc2(out)


def train_samples(rank: int, world: int, micro: int, ddp: bool, device: str = "cpu") -> Dict[Any, Any]:
    """As `train`, with SampleNet under sample_keys; per (step, global sample index), the
    masks of its three dropouts (on the CPU)."""
    from seedstream.torch import init_module, patch_dropout, sample_keys

    here = local_device(device, rank)
    model = init_module(SampleNet(), SEED).to(here)
    patch_dropout(model, seed=SEED)
    net = wrap(model, ddp, here)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen: Dict[Any, Any] = {}
    share = SAMPLES // world
    for step in range(STEPS):
        x = batch(step, here)
        y = x.sum(dim=1, keepdim=True)
        opt.zero_grad()
        for lo in range(rank * share, (rank + 1) * share, micro):
            with sample_keys(step, lo):
                loss = ((net(x[lo:lo + micro]) - y[lo:lo + micro]) ** 2).sum() * (world / SAMPLES)
            loss.backward()
            for j in range(micro):
                seen[(step, lo + j)] = tuple(m[j].cpu().clone() for m in model.masks)
        opt.step()
    return seen


def dropout_body(rank: int, world: int, out_dir: str, device: str = "cpu") -> None:
    result = train(rank, world, 1 if world == 4 else 2, ddp=True, device=device)
    torch.save(result, f"{out_dir}/train-{world}-{rank}.pt")
    if world == 2:
        torch.save(train_samples(rank, world, 2, ddp=True, device=device), f"{out_dir}/samples-{rank}.pt")
        # Default keys under data parallelism: the rank is part of the key, so two ranks fed
        # the same data draw different masks.
        from seedstream.torch import init_module, patch_dropout

        here = local_device(device, rank)
        model = init_module(DropNet(), SEED).to(here)
        patch_dropout(model, seed=SEED)
        out = model.drop_in(torch.ones(64, 16, device=here))
        both = [torch.empty_like(out) for _ in range(world)]
        tdist.all_gather(both, out)
        torch.save({"auto": [t.cpu() for t in both]}, f"{out_dir}/default-{rank}.pt")


def fsdp_tp_body(rank: int, world: int, seed: int, device: str = "cpu") -> None:
    """FSDP2 over tensor parallelism on a 2 x 2 mesh (_StridedShard where both split dim 0)."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    from seedstream.torch import init_module

    mesh = init_device_mesh(device, (2, world // 2), mesh_dim_names=("dp", "tp"))
    ref = reference(torch.float32, seed)
    model = Net().to(local_device(device, rank))
    parallelize_module(model, mesh["tp"], {"fc1": ColwiseParallel(), "fc2": RowwiseParallel()})
    fully_shard(model, mesh=mesh["dp"])
    init_module(model, seed)
    assert assert_shards_equal(model, ref, "fsdp over tp") == 8


def all_body(rank: int, world: int, dtypes: Any, seed: int, out_dir: str, device: str = "cpu") -> None:
    sharded_init_body(rank, world, dtypes, seed, device)
    if world == 4:
        fsdp_tp_body(rank, world, seed, device)
    dropout_body(rank, world, out_dir, device)
