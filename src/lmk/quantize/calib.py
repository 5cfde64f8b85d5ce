"""Calibration sources -> seeded face crops made by the same crop code as training and eval.

Sources: `wflw_train`, `wflw_test` (a WFLW root), `300w` (a 300-W folder), or a folder path: a
WFLW-layout root (train split) or a folder of images that are already face crops.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lmk.data.crop import CropWindow, read_rgb
from lmk.data.readers import DataError, read_300w, read_wflw
from lmk.data.records import FaceRecord
from lmk.predict import iter_crops, iter_inputs, make_input

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def calibration_records(source: str, data: Path, n: int, seed: int = 0) -> list[FaceRecord] | list[Path]:
    """Up to n records (or crop image paths), a seeded sample, in a stable order."""
    data = Path(data)
    if source in ("wflw_train", "wflw_test"):
        pool: list = read_wflw(data, source.split("_")[1])
    elif source == "300w":
        pool = read_300w(data)
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise DataError(f"{folder}: calibration source is neither wflw_train, wflw_test, 300w nor a folder")
        if (folder / "WFLW_annotations").is_dir():
            pool = read_wflw(folder, "train")
        else:
            pool = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not pool:
        raise DataError(f"{source}: no calibration images found")
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(pool), size=min(n, len(pool)), replace=False))
    return [pool[i] for i in pick]


def calibration_inputs(items: list, spec: dict) -> np.ndarray:
    """(N, 3, H, W) float32 model inputs, exactly as at inference."""
    if items and isinstance(items[0], FaceRecord):
        return np.stack([x for x, _ in iter_inputs(items, spec)])
    out = []
    for path in items:  # already-cropped faces: the whole image is the window
        img = read_rgb(path)
        h, w = img.shape[:2]
        out.append(make_input(img, CropWindow((w - 1) / 2, (h - 1) / 2, max(w, h)), spec))
    return np.stack(out)


def calibration_crops_uint8(items: list[FaceRecord], spec: dict) -> list[np.ndarray]:
    """RGB uint8 crops at the input size (for tools that read image files, like MNN's)."""
    return [crop for crop, _ in iter_crops(items, spec)]
