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
