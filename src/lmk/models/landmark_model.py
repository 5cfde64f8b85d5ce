"""Backbone + head = a model that maps a normalised crop to [B, N, 2] crop_normalized points."""

from __future__ import annotations

import torch
from torch import nn


class LandmarkModel(nn.Module):
    def __init__(self, backbone: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x: torch.Tensor, return_aux: bool = False):
        """Coordinates for export/eval; with return_aux, the head's dict (for training losses)."""
        out = self.head(self.backbone(x))
        return out if return_aux else out["coords"]


class WithScores(nn.Module):
    """The deployable graph: (landmarks, scores), `scores` (B, N) per point in [0, 1], for a model
    whose head scores its points (the PIP heads; see `has_scores`)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor):
        out = self.model(x, return_aux=True)
        return out["coords"], out["scores"]


def has_scores(model: nn.Module) -> bool:
    """Whether the model (or the one it wraps) has a head that outputs per-point scores."""
    while not hasattr(model, "head") and hasattr(model, "model"):
        model = model.model
    return hasattr(model, "head") and hasattr(model.head, "cls")
