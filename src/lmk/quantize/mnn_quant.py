"""MNN offline int8 (`mnnquant`) on a folder of crops made exactly like the model's input.

The compiled `_tools.mnnquant` runs in a subprocess with the 4-argument form (the 3-argument
form aborts); `MNN.tools` is never imported (it pip-installs packages and uploads usage data).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from lmk.export.mnn_convert import ConversionError
from lmk.meta import publish

_QUANT = "import sys, _tools; _tools.mnnquant(sys.argv[1:])"


def mnn_quant_config(spec: dict, image_dir: Path, n: int, method: str, skip: list[str]) -> dict:
    """MNN computes (pixel - mean) * normal; ours is (pixel / scale - m) / s."""
    scale = float(spec["scale"])
    return {
        "format": "RGB",
        "mean": [scale * m for m in spec["mean"]],
        "normal": [1.0 / (scale * s) for s in spec["std"]],
        "width": int(spec["size"]),
        "height": int(spec["size"]),
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
    spec: dict,
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
            if crop.shape[:2] != (spec["size"], spec["size"]):
                raise ValueError(f"calibration crop {i} is {crop.shape[:2]}, expected {spec['size']}")
            cv2.imwrite(str(images / f"{i:05d}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        cfg = Path(work) / "quant.json"
        cfg.write_text(json.dumps(mnn_quant_config(spec, images, len(crops_rgb), method, skip or [])))
        fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".tmp.mnn")
        os.close(fd)
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _QUANT, "mnnquant", str(src), tmp, str(cfg)],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if proc.returncode != 0 or Path(tmp).stat().st_size == 0:
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-4:]
                raise ConversionError(
                    f"{src}: MNN quantization ({method}) failed (exit {proc.returncode}): {' | '.join(tail)}"
                )
            publish(tmp, dst)
        finally:
            Path(tmp).unlink(missing_ok=True)
            Path(tmp + ".json").unlink(missing_ok=True)  # mnnquant's dump of the scales
    return dst


def stamp_metadata(path: Path, meta: dict, probe: np.ndarray) -> bool:
    """Put `meta` into an int8 .mnn's bizCode (mnnquant drops it) by an MNN -> MNN rewrite, kept
    only when the rewritten file gives bit-identical outputs on `probe`."""
    from lmk.export.mnn_convert import convert_to_mnn
    from lmk.runtime.mnn_runner import load_mnn_runner

    path = Path(path)
    stamped = path.with_name(f".{path.name}.stamped.mnn")
    try:
        convert_to_mnn(path, stamped, meta, source_format="MNN")
        before = load_mnn_runner(path, meta=meta)[0](probe)
        after = load_mnn_runner(stamped)[0](probe)
        if not np.array_equal(before, after):
            return False
        publish(stamped, path)
        return True
    finally:
        stamped.unlink(missing_ok=True)
