"""Runner for a PyTorch checkpoint (fp32 eval mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lmk.checkpoint import load_model


def torch_runner(model: torch.nn.Module):
    model.eval()  # (not re-assigned: a PT2E graph module's eval() returns None)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()

    return run


def load_torch_runner(path: Path):
    """(runner, metadata) for a checkpoint."""
    model, blob = load_model(path)
    return torch_runner(model), blob["meta"]
