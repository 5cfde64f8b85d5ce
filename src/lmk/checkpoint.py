"""Checkpoint = weights + full resolved config + ARTIFACT metadata + metrics. Loaded with
weights_only=True; needs torch and lmk.models but no training code (the torch runtime uses it).
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from lmk.artifact import validate_meta
from lmk.files import atomic_write_bytes
from lmk.models import ModelSpec, build_model
from lmk.models.landmark_model import LandmarkModel


class CheckpointError(ValueError):
    pass


def float_state(state_dict: dict) -> dict:
    """fp32 copies of the floating tensors (shipped checkpoints store fp16), others as they are."""
    return {k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()}


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    spec: ModelSpec,
    config: dict,
    meta: dict,
    extra: dict | None = None,
    half: bool = False,
) -> None:
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in model.state_dict().items()}
    blob = {"model": spec.as_dict(), "state_dict": state, "config": config, "meta": meta, **(extra or {})}
    buf = io.BytesIO()
    torch.save(blob, buf)
    atomic_write_bytes(Path(path), buf.getvalue())


def read_checkpoint(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(f"{path}: not a readable lmk checkpoint ({type(exc).__name__}: {exc})") from None
    for key in ("model", "state_dict", "meta"):
        if not isinstance(blob, dict) or key not in blob:
            raise CheckpointError(f"{path}: checkpoint lacks '{key}'")
    validate_meta(blob["meta"], str(path))
    return blob


def load_model(path: Path) -> tuple[LandmarkModel, dict]:
    """Rebuild the model in fp32 eval mode; returns (model, checkpoint dict)."""
    blob = read_checkpoint(path)
    model = build_model(ModelSpec(**blob["model"]))
    try:
        model.load_state_dict(float_state(blob["state_dict"]))
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit model {blob['model']}: {exc}") from None
    return model.eval(), blob
