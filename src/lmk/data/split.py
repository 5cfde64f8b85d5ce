"""The train/validation split: one definition for training, `lmk eval --split val` and benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lmk.data.readers import DataError, read_300w, read_wflw
from lmk.data.records import FaceRecord
from lmk.schemes import attribute_flags


def split_by_image(records: list[FaceRecord], fraction: float, seed: int) -> tuple[list[FaceRecord], list[FaceRecord]]:
    """Hold out a seeded share of *images* (never faces of one image on both sides)."""
    if fraction <= 0:
        return records, []
    images = sorted({str(r.image_path) for r in records})
    rng = np.random.default_rng(seed)
    held = set(rng.choice(images, size=max(1, int(round(fraction * len(images)))), replace=False))
    return [r for r in records if str(r.image_path) not in held], [r for r in records if str(r.image_path) in held]


def repeat_hard(records: list[FaceRecord], times: int) -> list[FaceRecord]:
    """Faces with any WFLW attribute (pose, occlusion, blur, ...) `times` times, others once: every
    WFLW test face is such a face, a random share of train ones is not."""
    if times < 1:
        raise ValueError(f"hard_repeat must be >= 1, got {times}")
    return [r for r in records for _ in range(times if any(attribute_flags(r.attributes)) else 1)]


def validation_records(root: Path, config: dict, where: str) -> list[FaceRecord]:
    """The validation faces a checkpoint was chosen on: its own `val_fraction` and `seed` applied to
    the train split, so `lmk eval --split val` scores exactly what training scored."""
    fraction = float(config.get("val_fraction", 0.0))
    if fraction <= 0:
        raise DataError(
            f"{where}: trained with val_fraction {fraction:g} (all train faces); it has no validation faces"
        )
    records = read_300w(root) if config.get("dataset", "wflw") == "300w" else read_wflw(root, "train")
    return split_by_image(records, fraction, int(config.get("seed", 0)))[1]
