"""Runtimes: turn a model file into a Runner (numpy batch -> crop_normalized points).

torch, ORT and MNN each live in their own module; ORT and MNN never import torch or training code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def check_batch(x: np.ndarray, meta: dict, where: str) -> np.ndarray:
    """A (B, 3, H, W) float32 batch of the size the model was made for, or a clear error."""
    x = np.asarray(x, dtype=np.float32)
    expected = list(meta["input"]["shape"][1:])
    if x.ndim != 4 or list(x.shape[1:]) != expected:
        got = "x".join(str(d) for d in x.shape[1:]) if x.ndim == 4 else f"shape {x.shape}"
        raise ValueError(f"{where}: input is {got}, the model takes {'x'.join(str(d) for d in expected)}")
    return x


def load_runner(model_path: Path, threads: int = 0, compile: bool = False):
    """(runner, meta) for a .pt checkpoint, a PT2E int8 .pt2, an .onnx or a .mnn file, by suffix;
    each runtime is imported only when its file type is asked for, so the ORT and MNN paths work
    without torch. `compile` (torch files only): `torch.compile` the model, for speed measurements."""
    model_path = Path(model_path)
    suffix = model_path.suffix.lower()
    if suffix in (".pt", ".pth"):
        from lmk.runtime.torch_runner import load_torch_runner

        return load_torch_runner(model_path, compile)
    if suffix == ".pt2":
        from lmk.runtime.torch_runner import load_pt2_runner

        return load_pt2_runner(model_path, compile)
    if suffix == ".onnx":
        from lmk.runtime.ort_runner import load_ort_runner

        return load_ort_runner(model_path, threads=threads)
    if suffix == ".mnn":
        from lmk.runtime.mnn_runner import load_mnn_runner

        return load_mnn_runner(model_path, threads=threads)
    raise ValueError(f"{model_path}: unknown model file type {suffix!r} (expected .pt, .pt2, .onnx or .mnn)")
