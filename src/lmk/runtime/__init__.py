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


def load_runner(model_path: Path, threads: int = 0, compile: bool = False, with_scores: bool = False):
    """(runner, meta) for a .pt checkpoint, a PT2E int8 .pt2, an .onnx or a .mnn file, by suffix;
    each runtime is imported only when its file type is asked for, so the ORT and MNN paths work
    without torch. `compile` (torch files only): `torch.compile` the model, for speed measurements.
    `with_scores`: the runner returns (points, scores), scores (B, N) per-point confidence in [0, 1]
    from the file's `scores` output, or None for a file without one (flatten heads, PT2E)."""
    model_path = Path(model_path)
    suffix = model_path.suffix.lower()
    if suffix in (".pt", ".pth"):
        from lmk.runtime.torch_runner import load_torch_runner

        return load_torch_runner(model_path, compile, with_scores=with_scores)
    if suffix == ".pt2":
        from lmk.runtime.torch_runner import load_pt2_runner

        run, meta = load_pt2_runner(model_path, compile)
        return (without_scores(run) if with_scores else run), meta
    if suffix == ".onnx":
        from lmk.runtime.ort_runner import load_ort_runner

        return load_ort_runner(model_path, threads=threads, with_scores=with_scores)
    if suffix == ".mnn":
        from lmk.runtime.mnn_runner import load_mnn_runner

        return load_mnn_runner(model_path, threads=threads, with_scores=with_scores)
    raise ValueError(f"{model_path}: unknown model file type {suffix!r} (expected .pt, .pt2, .onnx or .mnn)")


def without_scores(run):
    """A (points, scores) runner for a file that has no scores: scores None."""

    def scored(x: np.ndarray):
        return run(x), None

    return scored


def face_confidence(scores: np.ndarray | None) -> float | None:
    """A face's confidence: the mean of its points' scores (None where the file has none)."""
    return None if scores is None else float(np.mean(scores))
