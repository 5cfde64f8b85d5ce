"""Pairing detections with annotated faces for scoring: greedy by IoU, best pair first, each box
used once (on faces this far apart greedy and optimal assignment agree). numpy only."""

from __future__ import annotations

import numpy as np

from lmk.detect.nms import iou_matrix


def match_boxes(detected: np.ndarray, truth: np.ndarray, min_iou: float) -> list[tuple[int, int, float]]:
    """(detection index, truth index, IoU) for every pair with IoU >= min_iou, greedily."""
    iou = iou_matrix(detected, truth)
    pairs: list[tuple[int, int, float]] = []
    if iou.size == 0:
        return pairs
    for flat in np.argsort(-iou, axis=None, kind="stable"):
        i, j = np.unravel_index(flat, iou.shape)
        if iou[i, j] < min_iou:
            break
        if all(i != p[0] and j != p[1] for p in pairs):
            pairs.append((int(i), int(j), float(iou[i, j])))
    return pairs
