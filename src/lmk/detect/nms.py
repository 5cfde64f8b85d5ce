"""Box overlap and MediaPipe's weighted non-maximum suppression. numpy only.

Weighted NMS: take the best remaining box, gather every remaining box overlapping it by more than
the threshold (itself included), replace it by their score-weighted mean (box and keypoints), keep
the best box's score, drop the gathered ones, repeat.
"""

from __future__ import annotations

import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of boxes x0, y0, x1, y1 (any consistent units)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merged (boxes (K, 4), scores (K,), keypoints (K, P, 2)), best score first."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
    alive = np.ones(len(boxes), dtype=bool)
    out_b, out_s, out_k = [], [], []
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        group = alive & (iou_matrix(boxes[i], boxes)[0] > threshold)
        group[i] = True
        w = scores[group] / scores[group].sum()
        out_b.append(w @ boxes[group])
        out_k.append(np.tensordot(w, keypoints[group], axes=1))
        out_s.append(scores[i])
        alive &= ~group
    n_kp = keypoints.shape[1] if keypoints.ndim == 3 else 0
    if not out_b:
        return np.zeros((0, 4)), np.zeros(0), np.zeros((0, n_kp, 2))
    return np.stack(out_b), np.array(out_s), np.stack(out_k)
