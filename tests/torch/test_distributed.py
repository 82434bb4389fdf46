"""torch.distributed: sharded parameters get their part of the unsharded values; dropout
masks that do not depend on how the batch is split over processes."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as tdist

import _dist_workers as w

pytestmark = pytest.mark.skipif(not tdist.is_available(), reason="torch without distributed support")

FLOATS = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def test_sharded_init_equals_unsharded_2_ranks(tmp_path):
    w.spawn(2, tmp_path, w.sharded_init_body, FLOATS, 5)


@pytest.mark.slow
def test_sharded_init_equals_unsharded_4_ranks(tmp_path):
    w.spawn(4, tmp_path, w.sharded_init_body, FLOATS, 6)
