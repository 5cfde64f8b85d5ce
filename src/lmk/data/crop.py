"""The square similarity crop of ARTIFACT.md, its exact inverse, and output-unit conversion.

One place for the transform: training, eval, export calibration and the runtimes all call this.
numpy + OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CropWindow:
    """A square window in the image: centre and side length in pixels."""

    cx: float
    cy: float
    side: float


def window_from_box(box, enlarge: float) -> CropWindow:
    """Square window centred on the box centre, side = enlarge * max(w, h)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return CropWindow((x0 + x1) / 2.0, (y0 + y1) / 2.0, enlarge * max(x1 - x0, y1 - y0))


def landmark_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """Bounding box of the points (the 300-W `landmark_bbox` box source)."""
    p = np.asarray(points, dtype=np.float64)
    return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())


# WFLW-mini train, medians: the WFLW rectangle is 1.245x the side of the 68-point bounding box
# and its centre sits 0.145 of that side higher (it includes the forehead).
WFLW_RECT_SCALE, WFLW_RECT_SHIFT_Y = 1.245, -0.145


def wflw_like_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """A WFLW-style rectangle estimated from landmarks, for faces that come without one (300-W)."""
    x0, y0, x1, y1 = landmark_box(points)
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + WFLW_RECT_SHIFT_Y * side
    half = WFLW_RECT_SCALE * side / 2
    return cx - half, cy - half, cx + half, cy + half


def face_window(box, points: np.ndarray, scheme: str, box_source: str, enlarge: float) -> CropWindow:
    """The crop window of one annotated face under a model's box source.

    `wflw_rect`: the record's detector rectangle; 300-W faces have none, so it is estimated
    from their landmarks (`wflw_like_box`). `landmark_bbox`: the points' bounding box.
    """
    if box_source == "landmark_bbox":
        return window_from_box(landmark_box(points), enlarge)
    if box_source != "wflw_rect":
        raise ValueError(f"unknown crop box source {box_source!r}")
    return window_from_box(box if scheme == "wflw98" else wflw_like_box(points), enlarge)


def crop_matrix(win: CropWindow, size: int) -> np.ndarray:
    """2x3 image -> input map: M = [[k, 0, W/2 - k*cx - 0.5], [0, k, W/2 - k*cy - 0.5]], k = W / s."""
    k = size / win.side
    return np.array(
        [[k, 0.0, size / 2.0 - k * win.cx - 0.5], [0.0, k, size / 2.0 - k * win.cy - 0.5]], dtype=np.float64
    )


def warp(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Bilinear warp, black outside the image (the only sampling used anywhere)."""
    return cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def crop_image(image: np.ndarray, win: CropWindow, size: int) -> np.ndarray:
    return warp(image, crop_matrix(win, size), size)


def image_to_normalized(points: np.ndarray, win: CropWindow) -> np.ndarray:
    """Image pixels -> crop_normalized units u = (x - (cx - s/2)) / s."""
    p = np.asarray(points, dtype=np.float64)
    origin = np.array([win.cx - win.side / 2.0, win.cy - win.side / 2.0])
    return (p - origin) / win.side


def normalized_to_image(uv: np.ndarray, win: CropWindow) -> np.ndarray:
    """crop_normalized -> image pixels: x = cx - s/2 + u * s (the exact inverse of the above)."""
    uv = np.asarray(uv, dtype=np.float64)
    origin = np.array([win.cx - win.side / 2.0, win.cy - win.side / 2.0])
    return origin + uv * win.side


def affine_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    return p @ matrix[:, :2].T + matrix[:, 2]


def pixels_to_normalized(points: np.ndarray, size: int) -> np.ndarray:
    """Input-pixel coordinates p -> crop_normalized u = (p + 0.5) / W."""
    return (np.asarray(points, dtype=np.float64) + 0.5) / size


def normalize_input(crop_rgb: np.ndarray, scale: float, mean, std) -> np.ndarray:
    """HWC uint8 RGB -> CHW float32, x = (pixel / scale - mean) / std, computed as one multiply-add
    per channel plane (pixel * a + b) written straight into the CHW array: one pass, on the path
    of every face `lmk predict` runs (equal to the formula within float32 rounding)."""
    std = np.asarray(std, dtype=np.float32)
    a = (1.0 / (np.float32(scale) * std)).astype(np.float32)
    b = (-np.asarray(mean, dtype=np.float32) / std).astype(np.float32)
    x = np.empty((crop_rgb.shape[2], *crop_rgb.shape[:2]), dtype=np.float32)
    for c in range(crop_rgb.shape[2]):
        np.multiply(crop_rgb[:, :, c], a[c], out=x[c], dtype=np.float32)
        x[c] += b[c]
    return x


def read_rgb(path) -> np.ndarray:
    """Read an image as RGB uint8; a clear error naming the file when it cannot be decoded."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"{path}: cannot read image (missing or not a decodable image)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
