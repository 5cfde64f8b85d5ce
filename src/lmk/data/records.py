"""The plain record every reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class FaceRecord:
    """One annotated face: points in 0-based image pixels, a box, attribute flags, the image path."""

    image_path: Path
    points: np.ndarray  # (N, 2) float64, 0-based pixel coordinates
    box: tuple[float, float, float, float]  # x_min, y_min, x_max, y_max in image pixels
    scheme: str = "wflw98"
    attributes: dict[str, int] = field(default_factory=dict)
    source: str = ""  # "file:line" for messages
