"""Parameter count and FLOPs of a model at its input size (torch's FlopCounterMode)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_gflops(model: torch.nn.Module, input_size: int) -> float:
    """Forward GFLOPs for one 3 x S x S crop (1 multiply-add = 2 FLOPs)."""
    model = model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, input_size, input_size))
    return counter.get_total_flops() / 1e9
