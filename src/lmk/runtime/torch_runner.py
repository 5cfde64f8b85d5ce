"""Runner for a PyTorch checkpoint (fp32 eval mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lmk.checkpoint import load_model


def torch_runner(model: torch.nn.Module, compile: bool = False):
    """compile: `torch.compile` first (inductor: x86 int8 kernels for a PT2E program, fused float
    kernels otherwise); the first call then takes a minute or so."""
    model.eval()  # (not re-assigned: a PT2E graph module's eval() returns None)
    if compile:
        model = torch.compile(model)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()

    return run


def load_torch_runner(path: Path, compile: bool = False):
    """(runner, metadata) for a checkpoint."""
    model, blob = load_model(path)
    return torch_runner(model, compile), blob["meta"]


def load_pt2_runner(path: Path, compile: bool = False):
    """(runner, metadata) for a PT2E int8 program saved by `lmk quantize --runtime torch`. It runs in
    eager mode with reference q/dq ops: the accuracy of the int8 model, not x86 int8 kernel speed
    (that needs `compile`)."""
    from lmk.quantize.torch_quant import load_pt2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: PT2 file not found")
    module, meta = load_pt2(path)
    return torch_runner(module, compile), meta
