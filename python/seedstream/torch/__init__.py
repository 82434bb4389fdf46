"""PyTorch integration: tensors filled in place from seedstream streams, deterministic
Dropout, a resumable, random-access ShuffleSampler, and per-sample streams for datasets
(ReproducibleDataset, sample_generator).

Needs PyTorch (``pip install 'seedstream[torch]'``). Values equal the NumPy API's values for
the same generator and position, on every device.
"""

try:
    import torch as _torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "seedstream.torch needs PyTorch; install it with: pip install 'seedstream[torch]'"
    ) from exc

from seedstream.torch import functional, init
from seedstream.torch._audit import AuditReport, Finding, audit
from seedstream.torch._dataset import ReproducibleDataset, sample_generator
from seedstream.torch._dropout import Dropout
from seedstream.torch._module_init import init_module, materialize
from seedstream.torch._patch import DropoutPatch, patch_dropout, sample_keys
from seedstream.torch._routing import routed
from seedstream.torch._sampler import ShuffleSampler
from seedstream.torch._tensors import bernoulli, normal, rand, randint, randn, randperm, trunc_normal
from seedstream.torch._workers import loader_generator, worker_init_fn

__all__ = [
    "AuditReport",
    "Dropout",
    "Finding",
    "DropoutPatch",
    "ReproducibleDataset",
    "ShuffleSampler",
    "audit",
    "bernoulli",
    "functional",
    "init",
    "init_module",
    "loader_generator",
    "materialize",
    "normal",
    "patch_dropout",
    "rand",
    "randint",
    "randn",
    "randperm",
    "routed",
    "sample_generator",
    "sample_keys",
    "trunc_normal",
    "worker_init_fn",
]
