"""Crop -> run -> map back: the one inference path shared by eval, bench and every runtime.

A runner is any callable taking a float32 batch (B, 3, H, W) and returning (B, N, 2)
crop_normalized points. numpy + OpenCV only, so ORT and MNN paths run without torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from tqdm import tqdm

from lmk.data.crop import crop_image, face_window, normalize_input, normalized_to_image, read_rgb
from lmk.data.records import FaceRecord
from lmk.schemes import SCHEMES

Runner = Callable[[np.ndarray], np.ndarray]


def record_window(rec: FaceRecord, spec: dict):
    return face_window(rec.box, rec.points, rec.scheme, spec["box"], spec["enlarge"])


def make_input(image_rgb: np.ndarray, win, spec: dict) -> np.ndarray:
    """(3, H, W) float32 model input for one face."""
    crop = crop_image(image_rgb, win, spec["size"])
    return normalize_input(crop, spec["scale"], spec["mean"], spec["std"])


def run_with_flip(runner: Runner, x: np.ndarray, flip_test: bool) -> np.ndarray:
    """Runner output, optionally averaged with the un-mirrored prediction of the mirrored input."""
    out = np.asarray(runner(x), dtype=np.float64)
    if not flip_test:
        return out
    mirrored = np.asarray(runner(np.ascontiguousarray(x[..., ::-1])), dtype=np.float64)
    perm = list(SCHEMES["wflw98"].flip) if out.shape[1] == 98 else list(SCHEMES["300w68"].flip)
    mirrored = mirrored[:, perm]
    mirrored[..., 0] = 1.0 - mirrored[..., 0]  # input pixel p <-> W-1-p  <=>  u <-> 1-u
    return (out + mirrored) / 2.0


def iter_crops(records: Iterable[FaceRecord], spec: dict):
    """Yield (RGB uint8 crop, window) per record, reading each image once for consecutive faces."""
    last_path, image = None, None
    for rec in records:
        if rec.image_path != last_path:
            image, last_path = read_rgb(rec.image_path), rec.image_path
        win = record_window(rec, spec)
        yield crop_image(image, win, spec["size"]), win


def iter_inputs(records: Iterable[FaceRecord], spec: dict):
    """Yield (model input, window) per record."""
    for crop, win in iter_crops(records, spec):
        yield normalize_input(crop, spec["scale"], spec["mean"], spec["std"]), win


def predict_records(
    records: list[FaceRecord],
    runner: Runner,
    spec: dict,
    flip_test: bool = False,
    batch_size: int = 1,
    progress: bool = True,
) -> np.ndarray:
    """Predicted points in original-image pixels, (F, N, 2)."""
    preds: list[np.ndarray] = []
    batch, wins = [], []

    def flush():
        out = run_with_flip(runner, np.stack(batch), flip_test)
        preds.extend(normalized_to_image(o, w) for o, w in zip(out, wins))
        batch.clear()
        wins.clear()

    for x, win in tqdm(
        iter_inputs(records, spec), total=len(records), desc="predict", disable=not progress, leave=False
    ):
        batch.append(x)
        wins.append(win)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    return np.stack(preds)
