"""Coordinate losses on errors in input pixels, and the PIP head's cell + offset loss."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _masked_mean(v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """v: (B, N, ...) per-point values; mask: (B, N)."""
    while mask.dim() < v.dim():
        mask = mask.unsqueeze(-1)
    mask = mask.expand_as(v)
    return (v * mask).sum() / mask.sum().clamp_min(1)


def l2(err, mask):
    return _masked_mean(err.pow(2), mask)


def l1(err, mask):
    return _masked_mean(err.abs(), mask)


def log_l2(err, mask):
    """The original research loss: log(1 + L2) with L2 the per-face mean squared error."""
    m = mask.unsqueeze(-1).expand_as(err)
    per_face = (err.pow(2) * m).sum(dim=(1, 2)) / m.sum(dim=(1, 2)).clamp_min(1)
    return torch.log1p(per_face).mean()


def wing(err, mask, w: float = 10.0, eps: float = 2.0):
    """Wing loss (Feng et al. 2018) on pixel errors."""
    x = err.abs()
    c = w - w * math.log(1 + w / eps)
    return _masked_mean(torch.where(x < w, w * torch.log1p(x / eps), x - c), mask)


LOSSES = {"l2": l2, "l1": l1, "log_l2": log_l2, "wing": wing}


def landmark_loss(
    out: dict,
    target: torch.Tensor,
    mask: torch.Tensor,
    loss: str,
    input_size: int,
    neighbors: int = 1,
    cls_sigma: float = 0.0,
    coord_weight: float = 0.0,
    soft_target: torch.Tensor | None = None,
    soft_weight: float = 0.0,
) -> torch.Tensor:
    """target: (B, N, 2) crop_normalized. Regression heads: loss on decoded pixels. PIP head:
    cross-entropy over grid cells + the chosen loss on offsets (pixels / stride = cell units).

    Offsets are trained at the target cell and its (2r+1)^2 neighbours (r = `neighbors`), each
    relative to its own centre, so that an argmax that slips one cell (int8 rounding, ties)
    still decodes to the right point. `cls_sigma` > 0 replaces the one-hot cell target by a
    Gaussian over cell centres (sigma in cells), a label smoothing that keeps the peak in place.
    `soft_target` (B, N, 2): a teacher's coordinates on the same crop, pulled towards with
    `soft_weight` on every point (distillation), in the same units as the coordinate loss.
    """
    reg = LOSSES[loss]
    soft = 0.0
    if soft_target is not None and soft_weight > 0:  # a teacher's points on this very crop, all 98
        soft = soft_weight * reg((out["coords"] - soft_target) * input_size, torch.ones_like(mask))
    if "logits" not in out:
        return reg((out["coords"] - target) * input_size, mask) + soft
    logits, off = out["logits"], out["offsets"]  # (B, N, G*G), (B, N, 2, G*G)
    g = int(round(math.sqrt(logits.shape[-1])))
    grid = target * g
    cell = grid.floor().clamp(0, g - 1)
    idx = (cell[..., 1] * g + cell[..., 0]).long()  # (B, N)
    if cls_sigma > 0:
        centers = torch.arange(g, device=grid.device, dtype=grid.dtype) + 0.5
        dx = (centers.view(1, 1, 1, g) - grid[..., 0, None, None]) ** 2  # (B, N, 1, G)
        dy = (centers.view(1, 1, g, 1) - grid[..., 1, None, None]) ** 2  # (B, N, G, 1)
        soft = torch.softmax((-(dx + dy) / (2 * cls_sigma**2)).flatten(2), dim=-1)
        ce = F.cross_entropy(logits.flatten(0, 1), soft.flatten(0, 1), reduction="none").view_as(idx)
    else:
        ce = F.cross_entropy(logits.flatten(0, 1), idx.flatten(), reduction="none").view_as(idx)
    cls_loss = (ce * mask).sum() / mask.sum().clamp_min(1)
    stride = input_size / g
    reg_loss = 0.0
    shifts = [(dx, dy) for dy in range(-neighbors, neighbors + 1) for dx in range(-neighbors, neighbors + 1)]
    for dx, dy in shifts:
        nb = cell + torch.tensor([dx, dy], dtype=cell.dtype, device=cell.device)
        valid = ((nb >= 0) & (nb <= g - 1)).all(dim=-1).to(mask.dtype) * mask
        nb = nb.clamp(0, g - 1)
        nidx = (nb[..., 1] * g + nb[..., 0]).long()
        pred_off = off.gather(3, nidx[:, :, None, None].expand(-1, -1, 2, 1)).squeeze(3)  # (B, N, 2)
        weight = 1.0 if (dx, dy) == (0, 0) else 1.0 / (len(shifts) - 1)  # neighbours share one unit
        reg_loss = reg_loss + weight * reg((pred_off - (grid - nb - 0.5)) * stride, valid) / stride
    if coord_weight > 0:
        reg_loss = reg_loss + coord_weight * reg((out["coords"] - target) * input_size, mask) / stride
    return cls_loss + reg_loss + soft / stride


def feature_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Feature distillation: 1 - cosine similarity between the student's (adapted) last feature map
    and the teacher's, per grid cell, averaged. The teacher's map is average-pooled to the
    student's grid first (a 256 px teacher sees a finer grid than a 96 px student); the cosine
    ignores the two networks' different activation scales."""
    teacher = F.adaptive_avg_pool2d(teacher, student.shape[-2:])
    return (1.0 - F.cosine_similarity(student, teacher, dim=1)).mean()
