"""The landmark model's face box from landmarks: a face found once is framed next time (the video
tracker, `lmk predict`'s second landmark pass) by the box its own points imply. numpy only.

The `wflw_rect` convention is WFLW's annotated rectangle; the transform from the points' bounding
box to it was fitted on WFLW-mini train faces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lmk.data.crop import landmark_box

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class BoxFit:
    """The model box from landmarks: with the points' bounding box of centre (cx, cy) and size
    s = sqrt(w h), box centre = (cx + dx s, cy + dy s), box size = (kw s, kh s)."""

    dx: float
    dy: float
    kw: float
    kh: float


# Fitted by `fit_box` (medians, one face each) on WFLW-mini TRAIN (450 faces): the annotated WFLW
# rectangle against the bounding box of the 98 annotated points, and of their 68-point subset
# (lmk.schemes.MAP_98_TO_68) for 68-point models. benchmarks/video_jitter.py refits them and
# records the refit next to these values in benchmarks/results/video_jitter.json.
WFLW_RECT_FITS: dict[int, BoxFit] = {
    98: BoxFit(dx=0.0040, dy=-0.1508, kw=0.9825, kh=1.2865),
    68: BoxFit(dx=0.0038, dy=-0.1508, kw=0.9839, kh=1.2874),
}


def fit_box(points: Sequence[np.ndarray], boxes: Sequence[Box]) -> BoxFit:
    """The `BoxFit` mapping each face's points' bounding box to its annotated box (per-face ratios,
    median over faces: a few odd annotations do not pull it)."""
    pb = np.array([landmark_box(p) for p in points], dtype=np.float64)
    bb = np.asarray(boxes, dtype=np.float64)
    s = np.sqrt((pb[:, 2] - pb[:, 0]) * (pb[:, 3] - pb[:, 1]))
    dx = ((bb[:, 0] + bb[:, 2]) - (pb[:, 0] + pb[:, 2])) / 2 / s
    dy = ((bb[:, 1] + bb[:, 3]) - (pb[:, 1] + pb[:, 3])) / 2 / s
    kw, kh = (bb[:, 2] - bb[:, 0]) / s, (bb[:, 3] - bb[:, 1]) / s
    return BoxFit(*(round(float(np.median(v)), 4) for v in (dx, dy, kw, kh)))


def face_size(points: np.ndarray) -> float:
    """sqrt(w h) of the points' bounding box, pixels: the scale the tracker smooths at."""
    x0, y0, x1, y1 = landmark_box(points)
    return float(np.sqrt(max(x1 - x0, 1e-6) * max(y1 - y0, 1e-6)))


def box_from_points(points: np.ndarray, convention: str = "wflw_rect", fit: BoxFit | None = None) -> Box:
    """The box a landmark model would be given for a face with these points: `landmark_bbox`
    models take the points' bounding box; `wflw_rect` models a WFLW-style detector rectangle,
    estimated with `fit` (default: the fitted one for this many points)."""
    if convention == "landmark_bbox":
        return landmark_box(points)
    if convention != "wflw_rect":
        raise ValueError(f"unknown box convention {convention!r} (wflw_rect or landmark_bbox)")
    if fit is None:
        n = len(points)
        if n not in WFLW_RECT_FITS:
            raise ValueError(f"no fitted points->box transform for {n} points (have {sorted(WFLW_RECT_FITS)})")
        fit = WFLW_RECT_FITS[n]
    x0, y0, x1, y1 = landmark_box(points)
    s = float(np.sqrt((x1 - x0) * (y1 - y0)))
    cx, cy = (x0 + x1) / 2 + fit.dx * s, (y0 + y1) / 2 + fit.dy * s
    hw, hh = fit.kw * s / 2, fit.kh * s / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)
