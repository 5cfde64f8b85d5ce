"""The face detector: BlazeFace full range over the whole image and overlapping tiles, merged by
weighted NMS, each box mapped to the landmark models' `wflw_rect` crop box.

numpy + OpenCV + MNN at run time. The tiles exist for small faces: the model sees a 192 x 192
picture, so a face that is a few percent of a group photo is a few input pixels in one pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lmk.detect.anchors import FULL_RANGE, AnchorOptions, ssd_anchors
from lmk.detect.decode import decode_boxes, sigmoid_scores
from lmk.detect.mapping import MAPPING_FILE, BoxMapping, load_box_mapping
from lmk.detect.model import MODEL_FILE, BlazeFaceNet, normalize
from lmk.detect.nms import weighted_nms
from lmk.detect.tiling import Tile, letterbox, plan_tiles


@dataclass(frozen=True)
class DetectorOptions:
    """How the detector searches and what it keeps (defaults chosen on WFLW-mini train faces,
    benchmarks/detector.py --fit).

    grids: the passes; 1 is the whole image, n >= 2 a grid of square tiles, n along the longer side.
    overlap: fraction of a tile shared with its neighbour (a face smaller than that fits in one tile).
    edge_margin: a tile's box may cross an edge the tile shares with the rest of the image by this
        fraction of its size; beyond that it is a cut face, left to the tile or pass that holds it whole.
    min_score: face probability a candidate needs; nms_threshold: IoU above which candidates merge.
    """

    grids: tuple[int, ...] = (1, 2, 3)
    overlap: float = 0.25
    edge_margin: float = 0.3
    min_score: float = 0.4
    nms_threshold: float = 0.3

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass
class Detection:
    """One face. `box`: the landmark models' crop box (`wflw_rect`), x0, y0, x1, y1 in image pixels
    (pixel centres at integers); `raw_box`: the detector's own box, same units; `keypoints`: (6, 2)
    image pixels in `lmk.detect.decode.KEYPOINT_NAMES` order (the subject's right eye first, which
    is on the image's left in an unmirrored photo)."""

    box: tuple[float, float, float, float]
    score: float
    raw_box: tuple[float, float, float, float]
    keypoints: np.ndarray = field(repr=False)


@dataclass
class TileCandidates:
    """What one tile yields before merging: boxes (K, 4), scores (K,), keypoints (K, 6, 2), image pixels."""

    tile: Tile
    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray


def inner_edges_ok(boxes: np.ndarray, tile: Tile, width: int, height: int, margin: float) -> np.ndarray:
    """Which boxes (image pixels) stay within the tile's edges that face the rest of the image, up to
    `margin` of their own size; edges on the image border do not count."""
    w = (boxes[:, 2] - boxes[:, 0]) * margin
    h = (boxes[:, 3] - boxes[:, 1]) * margin
    ok = np.ones(len(boxes), dtype=bool)
    if tile.x0 > 0:
        ok &= boxes[:, 0] >= tile.x0 - 0.5 - w
    if tile.y0 > 0:
        ok &= boxes[:, 1] >= tile.y0 - 0.5 - h
    if tile.x1 < width:
        ok &= boxes[:, 2] <= tile.x1 - 0.5 + w
    if tile.y1 < height:
        ok &= boxes[:, 3] <= tile.y1 - 0.5 + h
    return ok


def merge_candidates(
    found: list[TileCandidates], width: int, height: int, options: DetectorOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidates of all tiles of an image (width x height) that pass the score and edge rules,
    merged by weighted NMS: (boxes (K, 4), scores (K,), keypoints (K, 6, 2)), best score first."""
    boxes, scores, keypoints = [np.zeros((0, 4))], [np.zeros(0)], [np.zeros((0, 6, 2))]
    for c in found:
        keep = (c.scores >= options.min_score) & inner_edges_ok(c.boxes, c.tile, width, height, options.edge_margin)
        boxes.append(c.boxes[keep])
        scores.append(c.scores[keep])
        keypoints.append(c.keypoints[keep])
    return weighted_nms(np.concatenate(boxes), np.concatenate(scores), np.concatenate(keypoints), options.nms_threshold)


def check_image(image: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array, or a ValueError saying what was given."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or min(image.shape[:2]) < 1:
        raise ValueError(f"face detection needs an RGB uint8 image (H, W, 3); got {image.dtype} {image.shape}")
    return image


class Detector:
    """BlazeFace with its anchors, search options and box mapping; `detect` is the entry point."""

    def __init__(
        self,
        net: BlazeFaceNet,
        options: DetectorOptions | None = None,
        mapping: BoxMapping | None = None,
        anchors: AnchorOptions = FULL_RANGE,
    ):
        self.net = net
        self.options = options or DetectorOptions()
        self.mapping = mapping or BoxMapping()
        if anchors.input_size != net.size:
            raise ValueError(f"{net.path}: input {net.size} px, anchor options are for {anchors.input_size} px")
        self.anchors = ssd_anchors(anchors)
        if len(self.anchors) != net.num_anchors:
            raise ValueError(f"{net.path}: {net.num_anchors} anchors in the model, {len(self.anchors)} in the options")

    def tile_candidates(self, image_rgb: np.ndarray, tile: Tile, min_score: float | None = None) -> TileCandidates:
        """One model run on one tile: the anchors scoring at least `min_score` (default: the
        options'), decoded and mapped to image pixels."""
        x, lb = letterbox(image_rgb, tile, self.net.size)
        raw, logits = self.net(normalize(x))
        scores = sigmoid_scores(logits)
        keep = scores >= (self.options.min_score if min_score is None else min_score)
        boxes, keypoints = decode_boxes(raw[keep], self.anchors[keep], float(self.net.size))
        return TileCandidates(tile, lb.boxes_to_image(boxes), scores[keep], lb.to_image(keypoints))

    def tiles(self, width: int, height: int) -> list[Tile]:
        """Every tile of every pass, whole image first."""
        return [t for grid in self.options.grids for t in plan_tiles(width, height, grid, self.options.overlap)]

    def detect_raw(self, image_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All passes merged: (detector boxes (K, 4), scores (K,), keypoints (K, 6, 2)) in image
        pixels, best score first; no box mapping."""
        image_rgb = check_image(image_rgb)
        h, w = image_rgb.shape[:2]
        found = [self.tile_candidates(image_rgb, t) for t in self.tiles(w, h)]
        return merge_candidates(found, w, h, self.options)

    def detect(self, image_rgb: np.ndarray) -> list[Detection]:
        """Every face found in an RGB uint8 (H, W, 3) image, best score first."""
        return self.detections(*self.detect_raw(image_rgb))

    def detections(self, raw: np.ndarray, scores: np.ndarray, keypoints: np.ndarray) -> list[Detection]:
        """Merged candidates (`detect_raw`'s output) as Detections, their boxes mapped."""
        mapped = self.mapping.apply(raw)
        return [
            Detection(tuple(map(float, m)), float(s), tuple(map(float, r)), k)
            for m, s, r, k in zip(mapped, scores, raw, keypoints)
        ]


def load_detector(
    threads: int = 1,
    options: DetectorOptions | None = None,
    model_path: Path = MODEL_FILE,
    mapping_path: Path | None = MAPPING_FILE,
) -> Detector:
    """The shipped detector (BlazeFace full range, MNN) with the stored box mapping; `mapping_path`
    None keeps the detector's own boxes (identity mapping)."""
    mapping = load_box_mapping(mapping_path) if mapping_path is not None else BoxMapping()
    return Detector(BlazeFaceNet(model_path, threads), options, mapping)
