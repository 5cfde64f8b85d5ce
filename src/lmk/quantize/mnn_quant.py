"""MNN offline int8 (`mnnquant`) on a folder of crops made exactly like the model's input.

`mnnquant` is called with the 4-argument form (the 3-argument form aborts), through
lmk.mnn_tools.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import cv2
import numpy as np

from lmk.artifact import InputSpec
from lmk.files import atomic_path
from lmk.mnn_tools import run_mnn_tool


def mnn_quant_config(spec: InputSpec, image_dir: Path, n: int, method: str, skip: list[str]) -> dict:
    """MNN computes (pixel - mean) * normal; ours is (pixel / scale - m) / s."""
    scale = float(spec.scale)
    return {
        "format": "RGB",
        "mean": [scale * m for m in spec.mean],
        "normal": [1.0 / (scale * s) for s in spec.std],
        "width": int(spec.size),
        "height": int(spec.size),
        "path": str(image_dir) + "/",
        "used_image_num": n,
        "feature_quantize_method": method,
        "weight_quantize_method": "MAX_ABS",
        "skip_quant_op_names": skip,
    }


def quantize_mnn(
    src: Path,
    dst: Path,
    crops_rgb: list[np.ndarray],
    spec: InputSpec,
    method: str = "EMA",
    skip: list[str] | None = None,
    timeout: float = 1200,
) -> Path:
    """Write an int8 .mnn from an fp32 .mnn; the crops are already W x W, so MNN's resize is a no-op."""
    src, dst = Path(src), Path(dst)
    with tempfile.TemporaryDirectory(prefix="lmk-mnn-calib-") as work:
        images = Path(work) / "images"
        images.mkdir()
        for i, crop in enumerate(crops_rgb):
            if crop.shape[:2] != (spec.size, spec.size):
                raise ValueError(f"calibration crop {i} is {crop.shape[:2]}, expected {spec.size}")
            cv2.imwrite(str(images / f"{i:05d}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        cfg = Path(work) / "quant.json"
        cfg.write_text(json.dumps(mnn_quant_config(spec, images, len(crops_rgb), method, skip or [])))
        with atomic_path(dst, ".mnn") as tmp:
            try:
                run_mnn_tool("mnnquant", [str(src), str(tmp), str(cfg)], tmp, f"{src} ({method})", timeout=timeout)
            finally:
                Path(str(tmp) + ".json").unlink(missing_ok=True)  # mnnquant's dump of the scales
    return dst
