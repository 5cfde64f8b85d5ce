"""A model whose graph outputs a subset of its points, in another layout: the 68 points of 300-W
taken from the 98 of WFLW inside the graph (PROTOCOL.md's mapping), so a 68-point app needs no
index table of its own."""

from __future__ import annotations

import copy

import torch
from torch import nn

from lmk.schemes import MAP_98_TO_68

LAYOUTS = {98: ("wflw98", None), 68: ("300w68", MAP_98_TO_68)}


class SelectPoints(nn.Module):
    def __init__(self, model: nn.Module, index: list[int]):
        super().__init__()
        self.model = model
        self.register_buffer("index", torch.tensor(index, dtype=torch.long), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.index_select(self.model(x), 1, self.index)


def with_points(model: nn.Module, points: int) -> nn.Module:
    """The model as is for 98 points; for 68, its 98 mapped inside the graph."""
    if points not in LAYOUTS:
        raise ValueError(f"--points must be 98 or 68, not {points}")
    index = LAYOUTS[points][1]
    return model if index is None else SelectPoints(model, index).eval()


def points_meta(meta: dict, points: int) -> dict:
    """The metadata of a file that outputs `points` points (a copy; 98: unchanged)."""
    meta = copy.deepcopy(meta)
    if points == 98:
        return meta
    meta.update(scheme=LAYOUTS[points][0], num_points=points)
    meta["output"]["shape"] = [1, points, 2]
    meta["output"]["mapping"] = "PROTOCOL.md 98 -> 68, inside the graph"
    return meta
