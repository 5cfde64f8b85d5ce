"""Runtimes: turn a model file into a Runner (numpy batch -> crop_normalized points).

torch, ORT and MNN each live in their own module; ORT and MNN never import torch or training code.
"""

from __future__ import annotations

import numpy as np


def check_batch(x: np.ndarray, meta: dict, where: str) -> np.ndarray:
    """A (B, 3, H, W) float32 batch of the size the model was made for, or a clear error."""
    x = np.asarray(x, dtype=np.float32)
    expected = list(meta["input"]["shape"][1:])
    if x.ndim != 4 or list(x.shape[1:]) != expected:
        got = "x".join(str(d) for d in x.shape[1:]) if x.ndim == 4 else f"shape {x.shape}"
        raise ValueError(f"{where}: input is {got}, the model takes {'x'.join(str(d) for d in expected)}")
    return x
