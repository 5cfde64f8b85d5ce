"""From the detector's own box to the box the landmark models crop from (`wflw_rect`, the WFLW
annotation rectangle), fitted on WFLW-mini train faces (benchmarks/detector.py --fit) and stored
in box_mapping.json beside this file. numpy only.

With the detector box's centre (cx, cy) and side d = sqrt(w * h):
    cx' = cx + dx * d,  cy' = cy + dy * d,  w' = sw * d,  h' = sh * d.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

MAPPING_FILE = Path(__file__).resolve().parent / "box_mapping.json"
FIELDS = ("dx", "dy", "sw", "sh")
FORMULA = "cx' = cx + dx*d, cy' = cy + dy*d, w' = sw*d, h' = sh*d; d = sqrt(w*h) of the detector box"


@dataclass(frozen=True)
class BoxMapping:
    """Centre shift and side scales, in units of the detector box side."""

    dx: float = 0.0
    dy: float = 0.0
    sw: float = 1.0
    sh: float = 1.0

    def apply(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) detector boxes x0, y0, x1, y1 -> (N, 4) `wflw_rect` boxes (same pixels)."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        cx, cy, d = box_centre_side(b)
        cx, cy = cx + self.dx * d, cy + self.dy * d
        hw, hh = self.sw * d / 2.0, self.sh * d / 2.0
        return np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1)


def box_centre_side(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, centre y and side sqrt(w * h) of (N, 4) boxes."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w, h = np.clip(b[:, 2] - b[:, 0], 1e-9, None), np.clip(b[:, 3] - b[:, 1], 1e-9, None)
    return (b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0, np.sqrt(w * h)


def fit_box_mapping(detector_boxes: np.ndarray, target_boxes: np.ndarray) -> BoxMapping:
    """Least squares of each coefficient over matched pairs: with every residual measured in units of
    the detector box side, the solution is the mean of the per-face ratios."""
    cx, cy, d = box_centre_side(detector_boxes)
    t = np.asarray(target_boxes, dtype=np.float64).reshape(-1, 4)
    if len(t) != len(d) or len(d) == 0:
        raise ValueError(f"fit_box_mapping: {len(d)} detector boxes and {len(t)} targets (need equal, > 0)")
    tcx, tcy = (t[:, 0] + t[:, 2]) / 2.0, (t[:, 1] + t[:, 3]) / 2.0
    ratios = np.stack([(tcx - cx) / d, (tcy - cy) / d, (t[:, 2] - t[:, 0]) / d, (t[:, 3] - t[:, 1]) / d], axis=1)
    return BoxMapping(*(float(v) for v in ratios.mean(axis=0)))


def load_box_mapping(path: Path = MAPPING_FILE) -> BoxMapping:
    """The stored mapping; a ValueError naming the file when it is missing or malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        coef = data["coefficients"]
        return BoxMapping(**{k: float(coef[k]) for k in FIELDS})
    except FileNotFoundError:
        raise ValueError(f"{path}: box mapping file not found (benchmarks/detector.py --fit writes it)") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a box mapping file (needs coefficients {', '.join(FIELDS)}: {exc})") from None


def mapping_dict(mapping: BoxMapping) -> dict:
    return {k: round(v, 6) for k, v in asdict(mapping).items()}
