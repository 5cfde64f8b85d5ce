"""Augmentation that moves image and points together: every geometric change is one similarity
matrix composed onto the crop matrix, so points follow exactly. numpy + OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class AugmentConfig:
    flip: float = 0.5  # probability
    rotate: float = 25.0  # degrees, uniform +-
    scale: float = 0.12  # uniform 1 +- scale
    shift: float = 0.06  # fraction of the crop side, uniform +-
    color: float = 0.3  # brightness / contrast / saturation jitter strength
    gray: float = 0.1  # probability
    blur: float = 0.2  # probability
    occlude: float = 0.3  # probability of one random rectangle


AUGMENTS = {
    "default": AugmentConfig(),
    # the published small-model recipes' stronger draws (PFLD, PIPNet): wider pose, scale and
    # position, more occlusion, blur and colour
    "heavy": AugmentConfig(rotate=35.0, scale=0.2, shift=0.1, color=0.45, gray=0.2, blur=0.35, occlude=0.5),
}


def similarity(size: int, angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    """3x3 similarity about the input centre ((W-1)/2 in pixel-centre coordinates), then a shift."""
    c = (size - 1) / 2.0
    a = np.deg2rad(angle_deg)
    r = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    m = np.eye(3)
    m[:2, :2] = r
    m[:2, 2] = np.array([c, c]) - r @ np.array([c, c]) + np.array([tx, ty])
    return m


def flip_matrix(size: int) -> np.ndarray:
    """x -> W - 1 - x (pixel centres at integers)."""
    return np.array([[-1.0, 0.0, size - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def random_geometry(rng: np.random.Generator, size: int, cfg: AugmentConfig) -> tuple[np.ndarray, bool]:
    """A random 3x3 input -> input matrix and whether it mirrors."""
    m = similarity(
        size,
        rng.uniform(-cfg.rotate, cfg.rotate),
        1.0 + rng.uniform(-cfg.scale, cfg.scale),
        rng.uniform(-cfg.shift, cfg.shift) * size,
        rng.uniform(-cfg.shift, cfg.shift) * size,
    )
    flipped = bool(rng.random() < cfg.flip)
    if flipped:
        m = flip_matrix(size) @ m
    return m, flipped


def photometric(img: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Colour jitter, grey, blur and one occluding rectangle on an RGB uint8 crop."""
    x = img.astype(np.float32)
    if cfg.color > 0:
        x = x * (1 + rng.uniform(-cfg.color, cfg.color))  # brightness
        mean = x.mean()
        x = (x - mean) * (1 + rng.uniform(-cfg.color, cfg.color)) + mean  # contrast
        gray = x.mean(axis=2, keepdims=True)
        x = (x - gray) * (1 + rng.uniform(-cfg.color, cfg.color)) + gray  # saturation
    if rng.random() < cfg.gray:
        x = np.repeat(x.mean(axis=2, keepdims=True), 3, axis=2)
    x = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < cfg.blur:
        k = int(rng.choice([3, 5]))
        x = cv2.GaussianBlur(x, (k, k), 0)
    if rng.random() < cfg.occlude:
        h, w = x.shape[:2]
        ow, oh = int(rng.uniform(0.1, 0.4) * w), int(rng.uniform(0.1, 0.4) * h)
        x0, y0 = int(rng.uniform(0, w - ow)), int(rng.uniform(0, h - oh))
        x[y0 : y0 + oh, x0 : x0 + ow] = rng.integers(0, 256, size=3, dtype=np.uint8)
    return x
