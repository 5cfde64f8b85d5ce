"""Runner for a PyTorch checkpoint (fp32 eval mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lmk.checkpoint import load_model

# A PT2E program in eager mode (reference q/dq ops) rounds its float sums to int8 steps, and the
# order of those sums follows torch's thread count: lmk runs every eager .pt2 on this many threads
# (quantize, eval, bench alike), so one file has one NME.
PT2_EAGER_THREADS = 1


def torch_runner(model: torch.nn.Module, compile: bool = False, threads: int = 0):
    """compile: `torch.compile` first (inductor: x86 int8 kernels for a PT2E program, fused float
    kernels otherwise); the first call then takes a minute or so. threads > 0: each call runs on
    that many intra-op threads (torch's setting is restored after it)."""
    model.eval()  # (not re-assigned: a PT2E graph module's eval() returns None)
    if compile:
        model = torch.compile(model)

    def run(x: np.ndarray) -> np.ndarray:
        before = torch.get_num_threads()
        if threads > 0:
            torch.set_num_threads(threads)
        try:
            with torch.inference_mode():
                return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()
        finally:
            if threads > 0:
                torch.set_num_threads(before)

    return run


def scored_torch_runner(model: torch.nn.Module):
    """A (points, scores or None) runner for a LandmarkModel (see `lmk.runtime.load_runner`)."""
    model.eval()

    def run(x: np.ndarray):
        with torch.inference_mode():
            out = model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), return_aux=True)
        scores = out.get("scores")
        return out["coords"].float().numpy(), (None if scores is None else scores.float().numpy())

    return run


def load_torch_runner(path: Path, compile: bool = False, with_scores: bool = False):
    """(runner, metadata) for a checkpoint."""
    model, blob = load_model(path)
    if with_scores:
        return scored_torch_runner(model), blob["meta"]
    return torch_runner(model, compile), blob["meta"]


PT2_META_KEY = "lmk.json"  # the extra file of a saved PT2E program that holds its metadata


def load_pt2(path: Path) -> tuple[torch.nn.Module, dict]:
    """A PT2E int8 program saved by `lmk quantize --runtime torch`, and its metadata."""
    import json

    from lmk.quiet import library_output_dropped

    with library_output_dropped():
        from torchao.quantization.pt2e import allow_exported_model_train_eval  # registers the q/dq ops

    extra = {PT2_META_KEY: ""}
    program = torch.export.load(str(path), extra_files=extra)
    module = program.module()
    allow_exported_model_train_eval(module)
    return module, json.loads(extra[PT2_META_KEY])


def load_pt2_runner(path: Path, compile: bool = False):
    """(runner, metadata) for a PT2E int8 program saved by `lmk quantize --runtime torch`. It runs in
    eager mode with reference q/dq ops, on PT2_EAGER_THREADS: the accuracy of the int8 model, not
    x86 int8 kernel speed (that needs `compile`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: PT2 file not found")
    module, meta = load_pt2(path)
    return torch_runner(module, compile, threads=0 if compile else PT2_EAGER_THREADS), meta
