"""Parameters split over processes (``torch.distributed.tensor.DTensor``): FSDP2's
``fully_shard``, tensor-parallel ``Shard(d)`` placements, both on a 2-D mesh. A routed draw on such a parameter
fills each process's local shard with the elements the unsharded tensor gets there, drawing
only those elements (``seedstream.fill_box``): no communication, cost proportional to the
local shard."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from seedstream import Generator
from seedstream._ranges import fill_box, words_per_element
from seedstream.torch import _buffers as buffers

try:
    from torch.distributed.tensor import DTensor, Replicate, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    try:
        from torch.distributed.tensor.placement_types import _StridedShard

        _SPLITS: Tuple[type, ...] = (Shard, _StridedShard, Replicate)
    except ImportError:
        _SPLITS = (Shard, Replicate)
except ImportError:  # torch built without distributed support
    DTensor = None  # type: ignore[assignment, misc]


def is_dtensor(t: Any) -> bool:
    return DTensor is not None and isinstance(t, DTensor)


def local(t: torch.Tensor) -> torch.Tensor:
    """The memory this process holds of `t`: a DTensor's local shard, else `t` itself."""
    return t._local_tensor if is_dtensor(t) else t  # type: ignore[attr-defined]


def local_box(t: Any) -> Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]:
    """(global shape, offset of the local shard, local shape) of a DTensor."""
    for p in t.placements:
        # _StridedShard (FSDP2 over tensor parallelism on the same dimension): torch places
        # its local part as one box too. A Partial tensor holds no values.
        if not isinstance(p, _SPLITS):
            raise ValueError(
                f"tensor: a DTensor placed as {p} has no seedstream mapping for its local "
                "part (supported: Shard(d) and Replicate() on each mesh dimension)"
            )
    shape = tuple(int(n) for n in t.shape)
    lshape, offset = compute_local_shape_and_global_offset(shape, t.device_mesh, t.placements)
    lshape, offset = tuple(int(n) for n in lshape), tuple(int(n) for n in offset)
    if lshape != tuple(local(t).shape):
        raise ValueError(
            f"tensor: the local shard has shape {tuple(local(t).shape)}, not the {lshape} its "
            f"placements {t.placements} give"
        )
    return shape, offset, lshape


def fill(t: Any, g: Generator, method: str, args: Tuple[Any, ...], kwargs: Optional[Dict[str, Any]] = None,
         draw_dtype: Any = None) -> None:
    """Fills `t`'s local shard with its box of ``g.<method>(*args, size=t.shape)``.

    ``draw_dtype`` (a NumPy dtype) draws in that dtype and converts (integers, bernoulli);
    by default the draw is in the local tensor's own dtype.
    """
    shape, offset, lshape = local_box(t)
    loc = local(t)
    kw = kwargs or {}
    dtypes = []

    def draw(arr: np.ndarray) -> None:
        dtypes.append(arr.dtype)
        fill_box(g, method, shape, offset, arr, *args, **kw)

    if draw_dtype is None:
        buffers.fill(loc, draw, "tensor")
    else:
        values = np.empty(lshape, dtype=draw_dtype)
        draw(values)
        with torch.no_grad():
            loc.copy_(torch.from_numpy(values))
    if not dtypes:  # a meta tensor: nothing drawn
        return
    # As after the whole draw, so that a second draw on the tensor continues its stream.
    n = int(np.prod(shape))
    g.advance(-(-n * words_per_element(method, dtypes[0]) // 4))
