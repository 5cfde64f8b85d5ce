"""BlazeFace output decoding (MediaPipe's TensorsToDetectionsCalculator for the face models).

Each anchor has 16 regressors: box centre x, y, width, height, then six keypoints (x, y), all in
input pixels relative to the anchor centre (divided by the input size to get relative units).
Scores are logits; sigmoid after clipping to +-100. numpy only.
"""

from __future__ import annotations

import numpy as np

NUM_KEYPOINTS = 6
NUM_COORDS = 4 + 2 * NUM_KEYPOINTS
SCORE_CLIP = 100.0
# MediaPipe's order; "right"/"left" are the subject's own sides.
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")


def decode_boxes(raw: np.ndarray, anchors: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(boxes (N, 4) x0, y0, x1, y1 and keypoints (N, 6, 2)), input-relative units, from the
    (N, 16) regressors; `scale` is the input size the regressors are measured in."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != NUM_COORDS or len(raw) != len(anchors):
        raise ValueError(f"regressors {raw.shape}: expected ({len(anchors)}, {NUM_COORDS})")
    a = np.asarray(anchors, dtype=np.float64)
    cx = raw[:, 0] / scale + a[:, 0]
    cy = raw[:, 1] / scale + a[:, 1]
    half_w, half_h = raw[:, 2] / scale / 2.0, raw[:, 3] / scale / 2.0
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    keypoints = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) / scale + a[:, None, :]
    return boxes, keypoints


def encode_boxes(boxes: np.ndarray, keypoints: np.ndarray, anchors: np.ndarray, scale: float) -> np.ndarray:
    """The exact inverse of `decode_boxes`: the (N, 16) regressors that decode to these boxes."""
    b = np.asarray(boxes, dtype=np.float64)
    a = np.asarray(anchors, dtype=np.float64)
    kp = np.asarray(keypoints, dtype=np.float64)
    centre = np.stack([(b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0], axis=1)
    size = np.stack([b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
    offsets = (kp - a[:, None, :]).reshape(len(b), -1)
    return np.concatenate([(centre - a) * scale, size * scale, offsets * scale], axis=1)


def sigmoid_scores(logits: np.ndarray) -> np.ndarray:
    """Face probability per anchor from the classifier logits (clipped as MediaPipe does)."""
    z = np.clip(np.asarray(logits, dtype=np.float64).reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    return 1.0 / (1.0 + np.exp(-z))
