"""Crop -> run -> map back: the one inference path shared by eval, bench and every runtime.

A runner is any callable taking a float32 batch (B, 3, H, W) and returning (B, N, 2)
crop_normalized points. numpy + OpenCV only, so ORT and MNN paths run without torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lmk.artifact import InputSpec
from lmk.data.crop import (
    crop_image,
    face_window,
    normalize_input,
    normalized_to_image,
    read_rgb,
    window_from_box,
)
from lmk.data.records import FaceRecord
from lmk.schemes import SCHEMES

Runner = Callable[[np.ndarray], np.ndarray]


def record_window(rec: FaceRecord, spec: InputSpec):
    return face_window(rec.box, rec.points, rec.scheme, spec.box, spec.enlarge)


def make_input(image_rgb: np.ndarray, win, spec: InputSpec) -> np.ndarray:
    """(3, H, W) float32 model input for one face."""
    crop = crop_image(image_rgb, win, spec.size)
    return normalize_input(crop, spec.scale, spec.mean, spec.std)


def whole_image_box(image: np.ndarray) -> tuple[float, float, float, float]:
    """The box of an image that is itself the face crop: its outer pixel edges (pixel centres at
    integers), as a detector's box would have been cut out."""
    h, w = image.shape[:2]
    return (-0.5, -0.5, w - 0.5, h - 0.5)


def box_window(box, spec: InputSpec):
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"face box {tuple(box)}: needs x1 > x0 and y1 > y0")
    return window_from_box((x0, y0, x1, y1), spec.enlarge)


def predict_image(image_rgb: np.ndarray, box, runner: Runner, spec: InputSpec) -> np.ndarray:
    """(N, 2) points in image pixels for the face in `box` (x0, y0, x1, y1; the model's crop box
    convention, `wflw_rect`: a face detector's box)."""
    win = box_window(box, spec)
    out = np.asarray(runner(make_input(image_rgb, win, spec)[None]), dtype=np.float64)
    return normalized_to_image(out[0], win)


def predict_face(image_rgb: np.ndarray, box, scored_runner, spec: InputSpec) -> tuple[np.ndarray, float | None]:
    """(points (N, 2) in image pixels, face confidence or None) for the face in `box`, with a
    runner from `load_runner(..., with_scores=True)`: crop, normalise, run, map back."""
    from lmk.runtime import face_confidence

    win = box_window(box, spec)
    points, scores = scored_runner(make_input(image_rgb, win, spec)[None])
    return normalized_to_image(np.asarray(points[0], dtype=np.float64), win), face_confidence(
        None if scores is None else scores[0]
    )


def run_with_flip(runner: Runner, x: np.ndarray, flip_test: bool) -> np.ndarray:
    """Runner output, optionally averaged with the un-mirrored prediction of the mirrored input."""
    out = np.asarray(runner(x), dtype=np.float64)
    if not flip_test:
        return out
    mirrored = np.asarray(runner(np.ascontiguousarray(x[..., ::-1])), dtype=np.float64)
    perm = list(SCHEMES["wflw98"].flip) if out.shape[1] == 98 else list(SCHEMES["300w68"].flip)
    mirrored = mirrored[:, perm]
    mirrored[..., 0] = 1.0 - mirrored[..., 0]  # input pixel p <-> W-1-p  <=>  u <-> 1-u
    return (out + mirrored) / 2.0


def iter_crops(records: Iterable[FaceRecord], spec: InputSpec):
    """Yield (RGB uint8 crop, window) per record, reading each image once for consecutive faces."""
    last_path, image = None, None
    for rec in records:
        if rec.image_path != last_path:
            image, last_path = read_rgb(rec.image_path), rec.image_path
        win = record_window(rec, spec)
        yield crop_image(image, win, spec.size), win


def iter_inputs(records: Iterable[FaceRecord], spec: InputSpec):
    """Yield (model input, window) per record."""
    for crop, win in iter_crops(records, spec):
        yield normalize_input(crop, spec.scale, spec.mean, spec.std), win


def predict_records(
    records: list[FaceRecord],
    runner: Runner,
    spec: InputSpec,
    flip_test: bool = False,
    batch_size: int = 1,
    progress: bool = True,
) -> np.ndarray:
    """Predicted points in original-image pixels, (F, N, 2)."""
    preds: list[np.ndarray] = []
    batch, wins = [], []

    def flush():
        out = run_with_flip(runner, np.stack(batch), flip_test)
        preds.extend(normalized_to_image(o, w) for o, w in zip(out, wins))
        batch.clear()
        wins.clear()

    for x, win in tqdm(
        iter_inputs(records, spec), total=len(records), desc="predict", disable=not progress, leave=False
    ):
        batch.append(x)
        wins.append(win)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    return np.stack(preds)


UNITS = "image pixels (x right, y down; pixel centres at integers)"


# a face whose confidence is below this is reported as doubtful (chosen on validation faces with
# perturbed boxes, benchmarks/results/confidence_val.md: just under every zoo model's best cut)
LOW_CONFIDENCE = 0.8


@dataclass(frozen=True)
class FaceSearch:
    """How `lmk predict` turns the detector's candidates into faces: a cascade in which the landmark
    model's own confidence tells faces from the detector's false alarms, so the detector may keep
    weaker candidates than it would alone, and each face is re-framed by the box its points imply.
    Chosen on WFLW-mini train photos (benchmarks/face_search.py, its rule there).

    detector_min_score: detector candidates kept (below the detector's own default, `min_score`).
    min_confidence: a candidate is a face when its first landmark pass is at least this confident;
        a file without `scores` cannot say, so its candidates need the detector's own default instead.
    passes: landmark passes per face; each after the first crops from the box of the previous points.
    nms_iou: two faces whose final boxes overlap more than this are one face (the more confident kept).
    """

    detector_min_score: float = 0.2
    min_confidence: float = 0.5
    passes: int = 2
    nms_iou: float = 0.5


@dataclass
class Face:
    """One face found by `find_faces`: its box (the model's crop-box convention, from its final
    points), points in image pixels, confidence (None without scores), the detector's score and box."""

    box: tuple[float, float, float, float]
    points: np.ndarray
    confidence: float | None
    detector_score: float
    detector_box: tuple[float, float, float, float]


def find_faces(
    image_rgb: np.ndarray, detections: list, scored_runner, spec: InputSpec, search: FaceSearch
) -> list[Face]:
    """The faces among `detections` (lmk.detect.Detection, best score first): the landmark cascade
    of `FaceSearch`, most confident first."""
    from lmk.detect.detector import DetectorOptions
    from lmk.detect.nms import iou_matrix
    from lmk.facebox import box_from_points

    unscored_floor = DetectorOptions().min_score
    faces: list[Face] = []
    for det in detections:
        if det.score < search.detector_min_score:
            continue
        box = tuple(det.box)
        points, conf = predict_face(image_rgb, box, scored_runner, spec)
        if (conf is None and det.score < unscored_floor) or (conf is not None and conf < search.min_confidence):
            continue
        for _ in range(search.passes - 1):
            points, conf = predict_face(image_rgb, box_from_points(points, spec.box), scored_runner, spec)
        faces.append(Face(box_from_points(points, spec.box), points, conf, float(det.score), box))
    faces.sort(key=lambda f: -(f.confidence if f.confidence is not None else f.detector_score))
    kept: list[Face] = []
    for f in faces:
        if not kept or iou_matrix(np.array([f.box]), np.array([k.box for k in kept])).max() <= search.nms_iou:
            kept.append(f)
    return kept


@dataclass
class ImageFaces:
    """The faces found in one image: their boxes, points in image pixels, confidences (None for a
    file without scores) and, for detected faces, the detector's scores."""

    image_path: Path
    image: np.ndarray  # RGB uint8
    boxes: list[tuple[float, float, float, float]]
    points: list[np.ndarray]  # (N, 2) per box
    confidences: list[float | None]
    detector_scores: list[float | None]


def parse_box(text: str) -> tuple[float, float, float, float]:
    """`X0,Y0,X1,Y1` -> four floats, or ValueError saying what is expected."""
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or not (box[2] > box[0] and box[3] > box[1]):
        raise ValueError(f"--box {text!r}: expected X0,Y0,X1,Y1 in image pixels with X1 > X0 and Y1 > Y0")
    return box


def predict_images(
    images: list[Path],
    boxes: list[tuple[float, float, float, float]],
    scored_runner,
    spec: InputSpec,
    detect=None,
    warn=None,
    search: FaceSearch | None = None,
) -> list[ImageFaces]:
    """Points for each face of each image: the boxes given (one image), else the faces found among
    the candidates of `detect` (image -> list of Detection, from a detector keeping candidates down
    to `search.detector_min_score`) by `find_faces`, else (detect None) the whole image as one face
    crop. A box partly outside its image is a warning (`warn`), one wholly outside an error; an
    image in which no face is found is a warning and no points; a face whose confidence is below
    LOW_CONFIDENCE, a warning."""
    from lmk.checks import box_in_image

    if boxes and len(images) > 1:
        raise ValueError(f"--box gives faces in one image; give one image with it ({len(images)} given)")
    say = warn or (lambda _msg: None)
    found = []
    for path in images:
        image = read_rgb(path)
        for b in boxes:
            note = box_in_image(b, image.shape[1], image.shape[0], str(path))
            if note:
                say(note)
        det_scores: list[float | None]
        if detect is not None and not boxes:
            found_faces = find_faces(image, detect(image), scored_runner, spec, search or FaceSearch())
            if not found_faces:
                say(f"{path}: no face found")
            use, det_scores = [f.box for f in found_faces], [f.detector_score for f in found_faces]
            faces = [(f.points, f.confidence) for f in found_faces]
        else:
            use = list(boxes) if boxes else [whole_image_box(image)]
            det_scores = [None] * len(use)
            faces = [predict_face(image, b, scored_runner, spec) for b in use]
        for b, (_, conf) in zip(use, faces):
            if conf is not None and conf < LOW_CONFIDENCE:
                box = ",".join(f"{v:.0f}" for v in b)
                say(f"{path}: face at {box}: low confidence {conf:.2f} (below {LOW_CONFIDENCE}: points may be wrong)")
        found.append(ImageFaces(Path(path), image, use, [p for p, _ in faces], [c for _, c in faces], det_scores))
    return found


def predictions_json(model: Path, meta: dict, found: list[ImageFaces]) -> dict:
    """What `lmk predict` returns: one entry per face, points rounded to 0.01 px; `confidence` in
    [0, 1] (None for a file without scores), `detector_score` for a detected face."""
    faces = [
        {
            "image": str(f.image_path),
            "box": [round(v, 2) for v in b],
            "landmarks": p.round(2).tolist(),
            "confidence": None if c is None else round(c, 4),
            "detector_score": None if d is None else round(d, 4),
        }
        for f in found
        for b, p, c, d in zip(f.boxes, f.points, f.confidences, f.detector_scores)
    ]
    return {"model": str(model), "scheme": meta.get("scheme", "wflw98"), "units": UNITS, "faces": faces}
