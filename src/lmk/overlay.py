"""Predicted points drawn on the image, for people to look at (`lmk predict --draw`). OpenCV only."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lmk.files import atomic_write_bytes


def draw_landmarks(image_rgb: np.ndarray, faces: list[np.ndarray], boxes: list | None = None) -> np.ndarray:
    """An RGB copy with each face's box (blue) and one green dot per point, sized to the face."""
    out = np.ascontiguousarray(image_rgb).copy()
    for i, points in enumerate(faces):
        pts = np.asarray(points, dtype=np.float64)
        span = float(np.ptp(pts, axis=0).max()) if len(pts) else 0.0
        radius = max(1, round(span / 150))
        if boxes is not None:
            x0, y0, x1, y1 = (round(float(v)) for v in boxes[i])
            cv2.rectangle(out, (x0, y0), (x1, y1), (40, 120, 255), max(1, radius // 2), cv2.LINE_AA)
        shift = 4  # sub-pixel drawing: coordinates in 1/16 px
        for x, y in pts:
            centre = (round(x * (1 << shift)), round(y * (1 << shift)))
            cv2.circle(out, centre, radius << shift, (0, 230, 0), -1, cv2.LINE_AA, shift)
    return out


def save_overlay(path: Path, image_rgb: np.ndarray, faces: list[np.ndarray], boxes: list | None = None) -> None:
    """Write the drawing as PNG (or JPEG, by suffix), never half-written."""
    path = Path(path)
    bgr = cv2.cvtColor(draw_landmarks(image_rgb, faces, boxes), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(path.suffix or ".png", bgr)
    if not ok:
        raise ValueError(f"{path}: OpenCV cannot encode an image of this type (use .png or .jpg)")
    atomic_write_bytes(path, buf.tobytes())
