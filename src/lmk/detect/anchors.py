"""SSD anchor centres of BlazeFace, as MediaPipe's SsdAnchorsCalculator lays them out.

With `fixed_anchor_size` every anchor is 1 x 1 in input-relative units, so an anchor is just its
centre; the regressors are offsets from it. numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnchorOptions:
    """Anchor grid of one BlazeFace model: `layers` is (stride, anchors per cell) per feature map,
    in the order the model emits its outputs."""

    input_size: int = 192
    layers: tuple[tuple[int, int], ...] = ((4, 1),)
    offset: float = 0.5

    def as_dict(self) -> dict:
        return {
            "input_size": self.input_size,
            "layers": [{"stride": s, "anchors_per_cell": n} for s, n in self.layers],
            "offset": self.offset,
            "fixed_anchor_size": True,
        }


# MediaPipe's face_detection_full_range: one 48 x 48 layer (stride 4), one anchor per cell,
# interpolated_scale_aspect_ratio 0 (no second anchor), fixed anchor size.
FULL_RANGE = AnchorOptions()


def ssd_anchors(options: AnchorOptions = FULL_RANGE) -> np.ndarray:
    """(N, 2) float32 anchor centres (x, y) in input-relative units (0 = left/top edge of the input,
    1 = right/bottom edge), row-major per layer, the anchors of one cell consecutive."""
    parts = []
    for stride, per_cell in options.layers:
        n = math.ceil(options.input_size / stride)
        c = (np.arange(n, dtype=np.float32) + np.float32(options.offset)) / np.float32(n)
        yy, xx = np.meshgrid(c, c, indexing="ij")
        centres = np.stack([xx.ravel(), yy.ravel()], axis=1)
        parts.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(parts, axis=0)
