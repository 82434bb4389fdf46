"""A small block that calls one seedstream.torch.Dropout twice per forward, shared by the
checkpointing and sample-keys tests."""

import torch
import torch.nn as nn

import seedstream.torch as sst


class Block(nn.Module):
    """Uses its dropout twice per call."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.lin = nn.Linear(8, 8)
        self.drop = sst.Dropout(0.3, seed=5, name=name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(torch.tanh(self.lin(x))) * x
        return self.drop(h) + x
