"""PyTorch -> ONNX with a static 1x3xHxW `input`, a [1, N, 2] `landmarks` output and, for heads
that score their points, a [1, N] `scores` output; then onnxsim.

Written to a temporary name and renamed only when complete.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import onnx
import torch

from lmk.artifact import set_onnx_meta
from lmk.files import atomic_path

OPSET = 17


def export_onnx(model: torch.nn.Module, path: Path, input_size: int, meta: dict, simplify: bool = True) -> Path:
    """Export `model` (eval mode, fp32) to `path`; metadata_props['lmk'] holds the JSON metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from lmk.models.landmark_model import WithScores, has_scores

    model = model.eval().float().to(memory_format=torch.contiguous_format)
    outputs = ["landmarks"]
    if has_scores(model):
        model, outputs = WithScores(model).eval(), ["landmarks", "scores"]
    x = torch.zeros(1, 3, input_size, input_size)
    with atomic_path(path) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (x,),
                str(tmp),
                input_names=["input"],
                output_names=outputs,
                opset_version=OPSET,
                dynamo=False,
                do_constant_folding=True,
            )
        proto = onnx.load(str(tmp))
        if simplify:
            proto = simplify_onnx(proto)
        set_onnx_meta(proto, meta)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    return path


def simplify_onnx(proto: onnx.ModelProto) -> onnx.ModelProto:
    """onnxsim, or the unsimplified graph with a clear warning when simplification fails."""
    try:
        from onnxsim import simplify

        simplified, ok = simplify(proto)
        if ok:
            return simplified
        warnings.warn("onnxsim could not validate the simplified graph; keeping the unsimplified one", stacklevel=2)
    except Exception as exc:  # onnxsim raises plain RuntimeErrors from C++
        warnings.warn(f"onnxsim failed ({exc}); keeping the unsimplified graph", stacklevel=2)
    return proto


def get_onnx_meta(path: Path) -> dict:
    proto = onnx.load(str(path), load_external_data=False)
    for prop in proto.metadata_props:
        if prop.key == "lmk":
            return json.loads(prop.value)
    raise ValueError(f"{path}: no 'lmk' metadata in the ONNX file")
