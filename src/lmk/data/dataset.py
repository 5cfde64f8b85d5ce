"""torch Dataset over FaceRecords: crops are cached once (with margin), augmentation then warps
from the cache with one composed matrix, so each sample costs one warpAffine.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from lmk.artifact import InputSpec
from lmk.data.augment import AugmentConfig, photometric, random_geometry
from lmk.data.crop import (
    CropWindow,
    affine_points,
    crop_matrix,
    face_window,
    normalize_input,
    pixels_to_normalized,
    read_rgb,
    warp,
)
from lmk.data.records import FaceRecord
from lmk.schemes import MAP_98_TO_68, REGIONS_68, SCHEMES


def to_layout(points: np.ndarray, scheme: str, layout: str = "wflw98") -> tuple[np.ndarray, np.ndarray]:
    """Points in the model's layout and a 0/1 mask of the ones that are annotated: 300-W faces
    have 68 of WFLW's 98. A WFLW face gives a 68-point model the 51 inner points only: its contour
    mapped to 17 points follows WFLW's convention, not 300-W's jaw, so a native 68-point model
    would learn two conventions at once (a teacher fills those, see `LandmarkDataset`'s `fill`)."""
    if scheme == layout:
        return points, np.ones(len(points), dtype=np.float32)
    if layout == "300w68":
        if scheme != "wflw98":
            raise ValueError(f"cannot map {scheme} points to {layout}")
        mask = np.ones(68, dtype=np.float32)
        mask[list(REGIONS_68["jaw"])] = 0
        return points[MAP_98_TO_68], mask
    out = np.zeros((98, 2))
    mask = np.zeros(98, dtype=np.float32)
    out[MAP_98_TO_68] = points
    mask[MAP_98_TO_68] = 1
    return out, mask


def resize_pixels(size: int, new_size: int) -> np.ndarray:
    """3x3 map from one input size's pixels to another's over the same window (pixel centres at
    integers): p' = (p + 0.5) * new / size - 0.5."""
    r = new_size / size
    return np.array([[r, 0.0, 0.5 * r - 0.5], [0.0, r, 0.5 * r - 0.5], [0.0, 0.0, 1.0]])


class LandmarkDataset(Dataset):
    """Yields (input CHW float32, target (N, 2) crop_normalized, mask (N,)) tensors, N the points of
    `layout` (98 WFLW or 68 300-W); with `teacher_size`, also the same augmented face cropped at
    that size (a teacher's input).

    `fill`: per record, the layout's points in image pixels (a teacher's predictions) or None; they
    stand in for the points the record lacks (300-W faces have 68 of the 98; WFLW faces lack 300-W's
    jaw), which then count as labelled.
    """

    CACHE_MARGIN = 1.6  # cached window is this much larger than the crop window

    def __init__(
        self,
        records: list[FaceRecord],
        spec: InputSpec,
        augment: AugmentConfig | None,
        seed: int = 0,
        teacher_size: int = 0,
        fill: list[np.ndarray | None] | None = None,
        layout: str = "wflw98",
    ):
        self.records, self.spec, self.augment = records, spec, augment
        self.seed, self.epoch = seed, 0
        self.teacher_size = teacher_size
        self.flip = np.array(SCHEMES[layout].flip)
        size = spec.size
        base = max(size, teacher_size)
        self.cache_size = int(round(base * self.CACHE_MARGIN)) if augment else base
        self.cache, self.cache_m, self.points, self.masks = [], [], [], []
        for i, rec in enumerate(tqdm(records, desc="caching crops", leave=False, disable=len(records) < 50)):
            win = face_window(rec.box, rec.points, rec.scheme, spec.box, spec.enlarge)
            big = CropWindow(win.cx, win.cy, win.side * (self.cache_size / base))
            m = crop_matrix(big, self.cache_size)
            self.cache.append(warp(read_rgb(rec.image_path), m, self.cache_size))
            self.cache_m.append(
                np.vstack([crop_matrix(win, size), [0, 0, 1]]) @ np.linalg.inv(np.vstack([m, [0, 0, 1]]))
            )
            pts, mask = to_layout(rec.points, rec.scheme, layout)
            if fill is not None and fill[i] is not None:
                pts = np.where(mask[:, None] > 0, pts, fill[i])
                mask = np.ones_like(mask)
            self.points.append(affine_points(pts, crop_matrix(win, size)))  # canonical crop's input pixels
            self.masks.append(mask)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int):
        size, spec = self.spec.size, self.spec
        pts, mask = self.points[i], self.masks[i]
        cache_to_input = self.cache_m[i]
        geo, rng = np.eye(3), None
        if self.augment is None:
            img = warp(self.cache[i], cache_to_input[:2], size)
        else:
            rng = np.random.default_rng((self.seed, self.epoch, i))
            geo, flipped = random_geometry(rng, size, self.augment)
            img = warp(self.cache[i], (geo @ cache_to_input)[:2], size)
            pts = affine_points(pts, geo[:2])
            if flipped:
                pts, mask = pts[self.flip], mask[self.flip]
        if self.teacher_size:  # the same face, motion and photometric draws, at the teacher's size
            m = resize_pixels(size, self.teacher_size) @ geo @ cache_to_input
            teacher_img = warp(self.cache[i], m[:2], self.teacher_size)
            if rng is not None:
                teacher_img = photometric(teacher_img, copy.deepcopy(rng), self.augment)
        if rng is not None:
            img = photometric(img, rng, self.augment)
        x = normalize_input(img, spec.scale, spec.mean, spec.std)
        target = pixels_to_normalized(pts, size).astype(np.float32)
        out = (torch.from_numpy(x), torch.from_numpy(target), torch.from_numpy(np.asarray(mask, dtype=np.float32)))
        if self.teacher_size:
            out += (torch.from_numpy(normalize_input(teacher_img, spec.scale, spec.mean, spec.std)),)
        return out
