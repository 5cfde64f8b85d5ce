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

    def forward(self, x: torch.Tensor, return_aux: bool = False):
        if not return_aux:
            return torch.index_select(self.model(x), 1, self.index)
        out = self.model(x, return_aux=True)
        return {k: torch.index_select(out[k], 1, self.index) for k in ("coords", "scores") if k in out}


def check_points(native: int, points: int) -> bool:
    """Whether a `native`-point model's file outputs other points than its own (`points` 0: its
    own); the one mapping is WFLW's 98 to 300-W's 68."""
    if points in (0, native):
        return False
    if native == 98 and points in LAYOUTS:
        return True
    raise ValueError(f"a {native}-point model cannot output {points} points (the one mapping is 98 -> 68)")


def with_points(model: nn.Module, points: int) -> nn.Module:
    """The model as is for its own points (`points` 0 or its count); a 98-point model's 68 mapped
    inside the graph for 68."""
    if not check_points(model.head.num_points, points):
        return model
    return SelectPoints(model, LAYOUTS[points][1]).eval()


def points_meta(meta: dict, points: int) -> dict:
    """The metadata of a file that outputs `points` points (a copy; the model's own: unchanged)."""
    meta = copy.deepcopy(meta)
    if not check_points(int(meta["num_points"]), points):
        return meta
    meta.update(scheme=LAYOUTS[points][0], num_points=points)
    meta["output"]["shape"] = [1, points, 2]
    meta["output"]["mapping"] = "PROTOCOL.md 98 -> 68, inside the graph"
    return meta
