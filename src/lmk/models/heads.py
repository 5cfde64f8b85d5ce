"""Landmark heads. Every head decodes to crop_normalized coordinates inside forward, so an
exported graph outputs [1, N, 2] directly; training-only outputs come back as a dict.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class FlattenHead(nn.Module):
    """The original research design: avgpool removed, flatten the last map -> Linear(2N)."""

    def __init__(self, channels: int, num_points: int, feat_size: int):
        super().__init__()
        self.num_points = num_points
        self.fc = nn.Linear(channels * feat_size * feat_size, num_points * 2)

    def forward(self, feats: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        x = torch.flatten(feats[-1], 1)
        return {"coords": self.fc(x).view(-1, self.num_points, 2)}


class GAPHead(nn.Module):
    """Global average pool -> dropout -> Linear(2N); coordinates centred on 0.5."""

    def __init__(self, channels: int, num_points: int, dropout: float = 0.1):
        super().__init__()
        self.num_points = num_points
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_points * 2)
        nn.init.zeros_(self.fc.bias)
        nn.init.normal_(self.fc.weight, std=1e-3)

    def forward(self, feats):
        x = self.drop(torch.flatten(self.pool(feats[-1]), 1))
        return {"coords": self.fc(x).view(-1, self.num_points, 2) + 0.5}


def heatmap_confidence(logits: torch.Tensor) -> torch.Tensor:
    """Per point, 1 - the normalised entropy of its cell distribution (softmax over the grid), in
    [0, 1]: 1 when one cell holds the point, 0 when the head cannot tell where it is (a crop with
    no face or the wrong face size spreads it out). (B, N, cells) -> (B, N)."""
    cells = logits.shape[-1]
    if cells < 2:
        return torch.ones(logits.shape[:-1], dtype=logits.dtype, device=logits.device)
    logp = torch.log_softmax(logits, dim=-1)
    entropy = -(logp.exp() * logp).sum(dim=-1)
    return 1.0 - entropy / math.log(cells)


class PIPHead(nn.Module):
    """PIPNet-style heatmap + offsets on a coarse grid (stride 32 by default, optionally merged
    with the stride-16 map). Decoding (a weighted mean of cell + offset, see _cell_weights) happens
    in forward with export-friendly ops only (Softmax or ArgMax, Equal, Mul, ReduceSum): no Gather.

    Cell convention: a grid of G x G cells over the crop; point u lies in cell c = floor(u * G),
    offset o = u * G - c - 0.5 in [-0.5, 0.5); decoding u = (c + 0.5 + o) / G.
    """

    def __init__(
        self, channels: tuple[int, ...], num_points: int, use_stride16: bool = True, mid: int = 256, neck: int = 0
    ):
        super().__init__()
        self.num_points = num_points
        self.use_stride16 = use_stride16
        self.decode = "soft"  # or "local" (3 x 3 cells around the argmax) or "argmax" (that cell alone)
        cin = channels[-1]
        # neck: a 1x1 conv that widens a thin last map before the per-point convs (cheap on a coarse grid)
        self.neck = (
            nn.Sequential(nn.Conv2d(cin, neck, 1, bias=False), nn.BatchNorm2d(neck), nn.ReLU(inplace=True))
            if neck and not use_stride16
            else None
        )
        if self.neck is not None:
            cin = neck
        if use_stride16:
            self.lateral = nn.Conv2d(channels[-2], mid, 1)
            self.top = nn.Conv2d(channels[-1], mid, 1)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.merge = nn.Sequential(
                nn.Conv2d(mid, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True)
            )
            cin = mid
        self.cls = nn.Conv2d(cin, num_points, 1)
        self.off = nn.Conv2d(cin, num_points * 2, 1)
        nn.init.normal_(self.cls.weight, std=1e-3)
        nn.init.zeros_(self.cls.bias)
        nn.init.normal_(self.off.weight, std=1e-3)
        nn.init.zeros_(self.off.bias)

    def forward(self, feats):
        x = feats[-1]
        if self.use_stride16:
            x = self.merge(self.lateral(feats[-2]) + self.up(self.top(x)))
        elif self.neck is not None:
            x = self.neck(x)
        b, _, gh, gw = x.shape
        n = self.num_points
        logits = self.cls(x).flatten(2)  # (B, N, G*G)
        off = self.off(x).view(b, n, 2, gh * gw)  # x and y offsets per cell
        cells = torch.arange(gh * gw, device=x.device).view(1, 1, -1)
        cx, cy = (cells % gw).to(off.dtype), torch.div(cells, gw, rounding_mode="floor").to(off.dtype)
        w = self._cell_weights(logits, cells, cx, cy, gw)  # (B, N, G*G), summing to 1 per point
        u = ((cx + 0.5 + off[:, :, 0]) * w).sum(dim=2) / gw
        v = ((cy + 0.5 + off[:, :, 1]) * w).sum(dim=2) / gh
        scores = heatmap_confidence(logits)
        return {"coords": torch.stack([u, v], dim=-1), "scores": scores, "logits": logits, "offsets": off}

    def _cell_weights(self, logits, cells, cx, cy, gw: int):
        """How much each cell's (cell + offset) counts for a point, per `decode`:
        soft: softmax over all cells, continuous in the scores, so a tiny change (int8 kernels
        rounding differently on x86 and ARM) can never move a point to a distant cell, as an argmax
        can when two cells nearly tie; local: softmax over the 3 x 3 cells around the argmax;
        argmax: that cell alone (one-hot)."""
        if self.decode == "soft":
            return torch.softmax(logits, dim=2)
        idx = logits.argmax(dim=2, keepdim=True)  # (B, N, 1)
        if self.decode == "argmax":
            return (cells == idx).to(cx.dtype)
        if self.decode != "local":
            raise ValueError(f"unknown PIP decoding {self.decode!r}: soft, local or argmax")
        icx, icy = (idx % gw).to(cx.dtype), torch.div(idx, gw, rounding_mode="floor").to(cx.dtype)
        near = ((cx - icx).abs() <= 1.0) & ((cy - icy).abs() <= 1.0)
        w = torch.exp(logits - logits.max(dim=2, keepdim=True).values) * near.to(cx.dtype)
        return w / w.sum(dim=2, keepdim=True)
