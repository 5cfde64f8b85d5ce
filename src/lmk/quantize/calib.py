"""Calibration sources -> seeded face crops made by the same crop code as training and eval.

Sources: `wflw_train`, `wflw_test` (a WFLW root), `300w` (a 300-W folder), or a folder path: a
WFLW-layout root (train split) or a folder of images that are already face crops.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lmk.artifact import InputSpec
from lmk.data.crop import CropWindow, crop_image, normalize_input, read_rgb
from lmk.data.readers import DataError, read_300w, read_wflw
from lmk.data.records import FaceRecord
from lmk.predict import record_window

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
SOURCES = ("wflw_train", "wflw_test", "300w")


@dataclass(frozen=True)
class CalibFace:
    """One calibration face: an annotated face (its crop comes from the model's crop rule), or an
    image that is itself a face crop (`record` None: the whole image is the window)."""

    image_path: Path
    record: FaceRecord | None = None

    def window(self, image: np.ndarray, spec: InputSpec) -> CropWindow:
        if self.record is not None:
            return record_window(self.record, spec)
        h, w = image.shape[:2]
        return CropWindow((w - 1) / 2, (h - 1) / 2, max(w, h))


def calibration_faces(source: str, data: Path, n: int, seed: int = 0) -> list[CalibFace]:
    """Up to n faces, a seeded sample, in a stable order; DataError for an unknown or empty source."""
    data = Path(data)
    if source in ("wflw_train", "wflw_test"):
        pool = [CalibFace(r.image_path, r) for r in read_wflw(data, source.split("_")[1])]
    elif source == "300w":
        pool = [CalibFace(r.image_path, r) for r in read_300w(data)]
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise DataError(f"{folder}: calibration source is neither {', '.join(SOURCES)} nor a folder")
        if (folder / "WFLW_annotations").is_dir():
            pool = [CalibFace(r.image_path, r) for r in read_wflw(folder, "train")]
        else:
            pool = [CalibFace(p) for p in sorted(folder.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not pool:
        raise DataError(f"{source}: no calibration images found")
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(pool), size=min(n, len(pool)), replace=False))
    return [pool[i] for i in pick]


def calibration_crops_uint8(faces: list[CalibFace], spec: InputSpec) -> list[np.ndarray]:
    """RGB uint8 crops at the input size (for tools that read image files, like MNN's)."""
    out, cache = [], {}
    for face in faces:
        if face.image_path not in cache:  # consecutive faces often share an image
            cache = {face.image_path: read_rgb(face.image_path)}
        image = cache[face.image_path]
        out.append(crop_image(image, face.window(image, spec), spec.size))
    return out


def calibration_inputs(faces: list[CalibFace], spec: InputSpec) -> np.ndarray:
    """(N, 3, H, W) float32 model inputs, exactly as at inference (make_input = crop + normalize)."""
    return np.stack([normalize_input(c, spec.scale, spec.mean, spec.std) for c in calibration_crops_uint8(faces, spec)])
