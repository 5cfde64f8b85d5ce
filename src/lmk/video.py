"""Video: frames in, tracked and smoothed landmarks out. numpy + OpenCV only (no torch), so it runs
wherever the ORT / MNN runners run.

- `read_frames(path)`: a video file (OpenCV) or a folder of image files -> (index, RGB, seconds).
- `Tracker` / `track_video(...)`: one landmark step per face per frame; the next frame's box is the
  box of the current landmarks, held while it barely moves (no detector on the steady path); the
  detector runs only when a face is lost or unsure, when there is none yet, or every
  `detect_every` frames; One-Euro smoothing per track (`lmk.smoothing`), optionally motion
  compensated (`MotionCompensated`: the face's image motion from the previous frame, by sparse
  optical flow, carries the filter state so that only the model's residual is smoothed).
- `write_outputs(...)`: a JSON-lines file (one frame a line) and optionally an annotated .mp4,
  each written under a temporary name and renamed when complete (`lmk.files.atomic_path`).

The detector and the landmark model are injected callables, so this module depends on neither:

    detect(frame_rgb) -> [(box, score), ...]           boxes x0, y0, x1, y1 in the landmark model's
                                                       box convention (`lmk.detect` gives these)
    landmarks(frame_rgb, box) -> (points (N, 2), confidence in 0..1 or None)

`landmarks_from_runner(run, spec)` builds the second from any lmk runner; a detector object with
`.detect(frame) -> [Detection]` becomes the first as `lambda f: [(d.box, d.score) for d in
detector.detect(f)]`. Coordinates are image pixels (x right, y down; pixel centres at integers),
times seconds. Figures (jitter, lag, the chosen parameters) are in benchmarks/results/video_jitter.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from lmk.data.crop import landmark_box, read_rgb, window_from_box
from lmk.detect.nms import iou_matrix
from lmk.facebox import box_from_points, face_size
from lmk.files import atomic_path
from lmk.smoothing import OneEuroFilter, OneEuroParams

Box = tuple[float, float, float, float]
Frame = tuple[int, np.ndarray, float]  # (index, RGB uint8 (H, W, 3), time in seconds)
Detect = Callable[[np.ndarray], Sequence[tuple[Box, float]]]
Landmarks = Callable[[np.ndarray, Box], tuple[np.ndarray, "float | None"]]

DEFAULT_FPS = 30.0  # frames of a folder, and videos whose container states no rate
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


# ---------------------------------------------------------------- reading


def natural_key(path: Path) -> list:
    """Sort key that orders frame2 before frame10 (numbers compared as numbers)."""
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", Path(path).name)]


def frame_files(folder: Path) -> list[Path]:
    """The image files of a folder of frames, in frame order (natural sort of the names)."""
    files = [p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES]
    if not files:
        raise FileNotFoundError(f"{folder}: no image files ({', '.join(FRAME_SUFFIXES)})")
    return sorted(files, key=natural_key)


def video_fps(path: Path, default: float = DEFAULT_FPS) -> float:
    """The frame rate a video file states (a folder of frames has none: `default`)."""
    path = Path(path)
    if path.is_dir():
        return float(default)
    cap = cv2.VideoCapture(str(path))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS)) if cap.isOpened() else 0.0
    finally:
        cap.release()
    return fps if np.isfinite(fps) and fps > 0 else float(default)


def read_frames(path: Path, fps: float | None = None) -> Iterator[Frame]:
    """(index, RGB frame, time in s) for each frame of a video file or a folder of image files.

    Folder: time = index / fps (`fps` or 30). Video: the decoder's timestamp of each frame when it
    increases (variable-rate files keep their real timing), else the previous one + 1 / fps, where
    fps is `fps` if given, else the container's rate, else 30: times always strictly increase.
    """
    path = Path(path)
    if path.is_dir():
        rate = float(fps or DEFAULT_FPS)
        for i, f in enumerate(frame_files(path)):
            yield i, read_rgb(f), i / rate
        return
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video file or folder of frames")
    rate = float(fps or video_fps(path))
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: OpenCV cannot open this video")
    try:
        i, last = 0, None
        while True:
            ok, bgr = cap.read()
            if not ok:
                if i == 0:
                    raise ValueError(f"{path}: no frame could be decoded")
                return
            msec = float(cap.get(cv2.CAP_PROP_POS_MSEC))
            t = msec / 1000.0 if np.isfinite(msec) else -1.0
            if last is not None and not t > last:
                t = last + 1.0 / rate
            elif last is None and t < 0:
                t = 0.0
            yield i, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t
            i, last = i + 1, t
    finally:
        cap.release()


# ---------------------------------------------------------------- face motion (sparse optical flow)


@dataclass(frozen=True)
class FlowParams:
    """How `estimate_face_motion` measures a face's image motion between two frames, and when it
    refuses (the caller then falls back to plain smoothing for that frame).

    Rule: corners (`cv2.goodFeaturesToTrack`) inside the convex hull of the face's previous
    landmarks, that hull scaled by `region` about its centroid; each tracked to the current frame
    and back (`cv2.calcOpticalFlowPyrLK`, both directions), kept when both directions succeed and
    it returns within `fb_max_px` pixels of where it started; a similarity (rotation, uniform
    scale, shift: `cv2.estimateAffinePartial2D`, RANSAC with `ransac_px` pixels reprojection
    threshold) fitted to the kept pairs. Refused (None) when fewer than `min_points` corners
    survive the check, when the RANSAC inliers are fewer than `min_points` or under
    `min_inlier_share` of them, or when the fit changes the scale by more than a factor
    e^`max_log_scale` in one frame. Only a crop around the face (the hull's box plus `win` and
    `margin` x the face size) is searched, so the cost does not grow with the frame size.

    max_corners, quality: `goodFeaturesToTrack`'s maxCorners and qualityLevel.
    min_distance: least spacing of corners, as a fraction of the face size (sqrt(w h) of the
        landmarks' box), at least 2 px.
    win, levels: the Lucas-Kanade window side (pixels) and pyramid levels (0: one level).
    margin: the search crop reaches this fraction of the face size beyond the hull's box (the
        largest face motion per frame that can be measured).
    """

    max_corners: int = 100
    quality: float = 0.01
    min_distance: float = 0.02
    region: float = 1.0
    win: int = 11
    levels: int = 3
    fb_max_px: float = 0.5
    ransac_px: float = 1.0
    min_points: int = 12
    min_inlier_share: float = 0.6
    max_log_scale: float = 0.2
    margin: float = 0.25

    def __post_init__(self):
        if not (self.max_corners > 0 and self.min_points >= 2 and 0 <= self.min_inlier_share <= 1 and self.win >= 3):
            raise ValueError(f"{self}: needs max_corners > 0, min_points >= 2, 0 <= min_inlier_share <= 1, win >= 3")


@dataclass(frozen=True)
class MotionCompensated:
    """Motion-compensated One-Euro smoothing, accepted by `smoothing=` wherever `OneEuroParams`
    is (`Tracker`, `track_video`).

    Rule, per track and frame: the face's image motion from the previous frame to this one is
    measured by `estimate_face_motion` (`flow`) in the region of the track's previous raw
    landmarks; the filter's state (last filtered points and their speed) is carried into this
    frame by it and the One-Euro step (`filter`) runs on what the motion leaves: the model's
    points against the motion-predicted ones (`lmk.smoothing`). Where the measurement is refused
    (too few corners, a poor RANSAC inlier share, an implausible scale step, a blank frame) the
    frame is smoothed by the plain One-Euro step. Because the motion is measured around the raw
    landmarks, it does not depend on the filter's parameters (one recorded run can be refiltered
    with any, `lmk.smoothing.smooth_sequence(..., motions=)`; each `FaceResult.motion` is the
    matrix used, None when none was).
    """

    filter: OneEuroParams = field(default_factory=OneEuroParams)
    flow: FlowParams = field(default_factory=FlowParams)


Smoothing = OneEuroParams | MotionCompensated

# The smoothing `lmk predict` applies to videos (the CLI imports this name): the setting that
# benchmarks/video_jitter.py recommends by its DEFAULT_RULE, on train clips (motion-compensated where
# it meets the jitter and lag targets there, rigid and non-rigid; otherwise plain One-Euro).
# Figures: benchmarks/results/video_jitter.md.
DEFAULT_SMOOTHING: Smoothing = MotionCompensated(filter=OneEuroParams(min_cutoff=3.0, beta=3.0, d_cutoff=1.0))


def to_gray(image: np.ndarray) -> np.ndarray:
    """8-bit single-channel version of an RGB (or already gray) frame, for the optical flow."""
    img = np.asarray(image)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY if img.shape[2] == 3 else cv2.COLOR_RGBA2GRAY)
    return img if img.dtype == np.uint8 else np.clip(img, 0, 255).astype(np.uint8)


def estimate_face_motion(
    prev_gray: np.ndarray, gray: np.ndarray, points: np.ndarray, params: FlowParams | None = None
) -> np.ndarray | None:
    """The similarity (2 x 3, previous frame pixels -> current frame pixels) by which the face
    whose landmarks in `prev_gray` are `points` (N, 2) moved into `gray`, or None when the
    measurement is refused (`FlowParams` gives the rule)."""
    p = params or FlowParams()
    if prev_gray.shape != gray.shape:
        return None
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.all(np.isfinite(pts)):
        return None
    h, w = gray.shape[:2]
    size = face_size(pts)
    pad = p.margin * size + p.win
    x0, y0 = (max(0, int(np.floor(v - pad))) for v in pts.min(0))
    x1, y1 = min(w, int(np.ceil(pts[:, 0].max() + pad)) + 1), min(h, int(np.ceil(pts[:, 1].max() + pad)) + 1)
    if x1 - x0 < p.win or y1 - y0 < p.win:
        return None
    a, b = np.ascontiguousarray(prev_gray[y0:y1, x0:x1]), np.ascontiguousarray(gray[y0:y1, x0:x1])
    centre = pts.mean(0)
    hull = cv2.convexHull(((pts - centre) * p.region + centre - (x0, y0)).astype(np.float32))
    mask = np.zeros(a.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(hull[:, 0]).astype(np.int32), 255)
    corners = cv2.goodFeaturesToTrack(
        a, p.max_corners, p.quality, max(2.0, p.min_distance * size), mask=mask, blockSize=3
    )
    if corners is None or len(corners) < p.min_points:
        return None
    lk = dict(winSize=(p.win, p.win), maxLevel=p.levels,
              criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))  # fmt: skip
    fwd, ok1, _ = cv2.calcOpticalFlowPyrLK(a, b, corners, None, **lk)
    back, ok2, _ = cv2.calcOpticalFlowPyrLK(b, a, fwd, None, **lk)
    good = (ok1[:, 0] == 1) & (ok2[:, 0] == 1) & (np.linalg.norm((back - corners)[:, 0], axis=1) < p.fb_max_px)
    if good.sum() < p.min_points:
        return None
    src, dst = corners[good, 0].astype(np.float64), fwd[good, 0].astype(np.float64)
    m, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=p.ransac_px, maxIters=500, confidence=0.995
    )
    if m is None or inliers is None:
        return None
    n_in = int(inliers.sum())
    if n_in < p.min_points or n_in < p.min_inlier_share * len(src) or not np.all(np.isfinite(m)):
        return None
    if abs(np.log(max(np.sqrt(abs(np.linalg.det(m[:, :2]))), 1e-9))) > p.max_log_scale:
        return None
    m = m.astype(np.float64)
    m[:, 2] += (x0, y0) - m[:, :2] @ (x0, y0)  # crop coordinates -> frame coordinates
    return m


# ---------------------------------------------------------------- tracking


@dataclass(frozen=True)
class TrackerParams:
    """When to distrust a track and what the box convention is.

    min_confidence: a face whose confidence (mean of its points' scores) is below this is re-found
        by the detector; models without scores (confidence None) are only re-detected when lost. 0.7:
        the highest cut at which no good validation face of any zoo model falls below
        (benchmarks/results/confidence_val.md).
    iou_match: a detection with at least this IoU against a track's box is that face.
    detect_every: also run the detector every k frames to pick up new faces (0: only when needed).
    max_faces: tracks kept at once (new faces beyond this are ignored, highest scores first).
    min_box_side: pixels; a face whose box is smaller, or whose box centre leaves the frame, is lost.
    box: the landmark model's box convention (its `InputSpec.box`): wflw_rect or landmark_bbox.
    hold: keep a track's crop box while the box of its new landmarks stays within `hold` of it
        (crop window centre moved by less than hold x its side, side changed by less than a factor
        e^hold). Without it (0) box and points feed each other every frame and never settle: the
        model is not exactly shift-equivariant, so even a still face in a still frame wanders by
        about a percent of the inter-ocular distance a frame. Held, a still face is cropped
        identically frame after frame and its points stay put. 0.05 sits inside the shift the
        models are trained to tolerate (6 % of the crop side, lmk.data.augment); the effect is
        measured in benchmarks/results/video_jitter.md.
    """

    min_confidence: float = 0.7
    iou_match: float = 0.3
    detect_every: int = 0
    max_faces: int = 8
    min_box_side: float = 8.0
    min_detection_score: float = 0.0
    box: str = "wflw_rect"
    hold: float = 0.05


@dataclass
class FaceResult:
    """One face in one frame. `box`: the box the landmarks were computed in; `points`: smoothed
    when smoothing is on (else the raw ones); `raw_points`: the model's own output; `redetected`:
    the detector re-found this track's face this frame (it was lost or unsure); `new`: the first
    frame of this track; `motion`: with `MotionCompensated` smoothing, the 2 x 3 similarity
    (previous frame -> this one) that carried the filter, None when the frame had plain smoothing
    (a track's first frame, or the flow measurement refused). Not part of the JSON."""

    track: int
    box: Box
    points: np.ndarray
    raw_points: np.ndarray
    confidence: float | None
    redetected: bool = False
    new: bool = False
    motion: np.ndarray | None = field(default=None, repr=False)

    def as_dict(self, raw: bool = False) -> dict:
        out = {
            "track": self.track,
            "box": [round(float(v), 2) for v in self.box],
            "landmarks": np.round(self.points, 2).tolist(),
            "confidence": None if self.confidence is None else round(float(self.confidence), 4),
            "redetected": self.redetected,
            "new": self.new,
        }
        if raw:
            out["raw_landmarks"] = np.round(self.raw_points, 2).tolist()
        return out


@dataclass
class FrameResult:
    """The faces of one frame; `image` (the RGB frame, for drawing) is not part of the JSON."""

    index: int
    time: float
    faces: list[FaceResult]
    image: np.ndarray | None = field(default=None, repr=False)

    def as_dict(self, raw: bool = False) -> dict:
        return {"frame": self.index, "time": round(self.time, 6), "faces": [f.as_dict(raw) for f in self.faces]}


@dataclass
class _Track:
    id: int
    box: Box  # where to look in the next frame
    filter: OneEuroFilter | None
    new: bool = True
    points: np.ndarray | None = None  # the last frame's raw landmarks (where to measure the motion)


class Tracker:
    """Follows faces through frames (see the module docstring). Feed frames in time order with
    `step`; `seed` starts tracks at known boxes (a user's box, an annotation) without a detector.

    Rules: the box of a frame comes from the previous frame's raw (unsmoothed) landmarks, held
    while they stay within `TrackerParams.hold` of it; smoothing never changes what the model
    sees, so filter lag cannot make a fast face escape its box. A track is re-detected (detector
    run, matched by IoU, landmarks redone in the detection's box, filter reset) when it is lost or
    its confidence < min_confidence; with no detector a doubtful track is kept as it is and a lost
    one dropped; a track the detector does not re-find is dropped (a new detection later is a new
    track id). `smoothing`: None (raw points), `OneEuroParams` (plain One-Euro per track) or
    `MotionCompensated` (One-Euro on what the face's measured image motion leaves).
    """

    def __init__(
        self,
        detect: Detect | None,
        landmarks: Landmarks,
        fps: float = DEFAULT_FPS,
        smoothing: Smoothing | None = None,
        params: TrackerParams | None = None,
    ):
        if smoothing is not None and not isinstance(smoothing, OneEuroParams | MotionCompensated):
            raise TypeError(f"smoothing must be None, OneEuroParams or MotionCompensated, got {smoothing!r}")
        self.detect, self.landmarks = detect, landmarks
        self.fps, self.smoothing = float(fps), smoothing
        self.filter_params = smoothing.filter if isinstance(smoothing, MotionCompensated) else smoothing
        self.flow = smoothing.flow if isinstance(smoothing, MotionCompensated) else None
        self.params = params or TrackerParams()
        self.tracks: list[_Track] = []
        self.next_id, self.frames, self.last_t = 0, 0, None
        self.prev_gray: np.ndarray | None = None

    def seed(self, boxes: Iterable[Box]) -> None:
        for b in boxes:
            self._new_track(tuple(float(v) for v in b))

    def _new_track(self, box: Box) -> _Track:
        tr = _Track(self.next_id, box, OneEuroFilter(self.filter_params) if self.filter_params else None)
        self.next_id += 1
        self.tracks.append(tr)
        return tr

    def _usable(self, points: np.ndarray, shape) -> bool:
        """Finite points whose box is big enough and centred inside the frame."""
        if points is None or not np.all(np.isfinite(points)):
            return False
        x0, y0, x1, y1 = landmark_box(points)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        big = max(x1 - x0, y1 - y0) >= self.params.min_box_side
        return big and 0 <= cx < shape[1] and 0 <= cy < shape[0]

    def _measure(self, image: np.ndarray, box: Box) -> tuple[np.ndarray | None, float | None]:
        points, conf = self.landmarks(image, box)
        points = None if points is None else np.asarray(points, dtype=np.float64)
        return points, None if conf is None else float(conf)

    def _next_box(self, box: Box, points: np.ndarray) -> Box:
        """The box for the next frame: the landmarks' box, unless it is within `hold` of `box`."""
        new = box_from_points(points, self.params.box)
        a, b = window_from_box(box, 1.0), window_from_box(new, 1.0)
        moved = np.hypot(b.cx - a.cx, b.cy - a.cy) > self.params.hold * a.side
        return new if moved or abs(np.log(b.side / a.side)) > self.params.hold else box

    def _time(self, t: float | None) -> float:
        """Strictly increasing time for the filters (a broken timestamp becomes last + 1/fps)."""
        if t is None:
            t = self.frames / self.fps
        if self.last_t is not None and not t > self.last_t:
            t = self.last_t + 1.0 / self.fps
        self.last_t = float(t)
        return self.last_t

    def step(self, image: np.ndarray, t: float | None = None) -> list[FaceResult]:
        """The faces in this frame (in track order), advancing every track by one frame."""
        p, t = self.params, self._time(t)
        kept: list[tuple[_Track, Box, np.ndarray, float | None, bool]] = []
        doubtful: list[tuple[_Track, np.ndarray | None, float | None, bool]] = []
        for tr in self.tracks:
            points, conf = self._measure(image, tr.box)
            usable = self._usable(points, image.shape)
            if usable and (conf is None or conf >= p.min_confidence):
                kept.append((tr, tr.box, points, conf, False))
            else:
                doubtful.append((tr, points, conf, usable))
        periodic = p.detect_every > 0 and self.frames % p.detect_every == 0
        dets: list[tuple[Box, float]] = []
        if self.detect is not None and (doubtful or not self.tracks or periodic):
            dets = [(tuple(float(v) for v in b), float(s)) for b, s in self.detect(image)]
            dets = sorted((d for d in dets if d[1] >= p.min_detection_score), key=lambda d: -d[1])
        used = [False] * len(dets)
        for tr, points, conf, usable in doubtful:
            best, best_iou = -1, p.iou_match
            for j, (b, _) in enumerate(dets):
                overlap = iou_matrix(tr.box, b)[0, 0]
                if not used[j] and overlap >= best_iou:
                    best, best_iou = j, overlap
            if best >= 0:
                used[best] = True
                points, conf = self._measure(image, dets[best][0])
                if self._usable(points, image.shape):
                    if tr.filter:
                        tr.filter.reset()
                    kept.append((tr, dets[best][0], points, conf, True))
            elif self.detect is None and usable:
                kept.append((tr, tr.box, points, conf, False))
        # detections on a face already followed are not new faces
        for _, _, points, _, _ in kept:
            here = box_from_points(points, p.box)
            for j, (b, _) in enumerate(dets):
                used[j] = used[j] or iou_matrix(here, b)[0, 0] >= p.iou_match
        for j, (b, _) in enumerate(dets):
            if not used[j] and len(kept) < p.max_faces:
                points, conf = self._measure(image, b)
                if self._usable(points, image.shape):
                    kept.append((self._new_track(b), b, points, conf, False))
        alive = {id(k[0]) for k in kept}
        self.tracks = [tr for tr in self.tracks if id(tr) in alive]
        order = {id(tr): i for i, tr in enumerate(self.tracks)}
        gray = to_gray(image) if self.flow is not None else None
        faces = []
        for tr, box, points, conf, redetected in sorted(kept, key=lambda k: order[id(k[0])]):
            motion = None
            carried = tr.filter is not None and tr.filter.x_hat is not None  # a state to carry
            if gray is not None and self.prev_gray is not None and tr.points is not None and carried:
                motion = estimate_face_motion(self.prev_gray, gray, tr.points, self.flow)
            out = tr.filter(points, t, face_size(points), motion) if tr.filter else points
            faces.append(FaceResult(tr.id, box, out, points, conf, redetected, tr.new, motion))
            tr.box, tr.new, tr.points = self._next_box(box, points), False, points
        self.prev_gray = gray
        self.frames += 1
        return faces


def track_video(
    frames: Iterable[Frame],
    detect: Detect | None,
    landmarks: Landmarks,
    fps: float = DEFAULT_FPS,
    smoothing: Smoothing | None = None,
    params: TrackerParams | None = None,
    seed_boxes: Sequence[Box] = (),
) -> Iterator[FrameResult]:
    """Track faces through `frames` ((index, RGB, time s) as `read_frames` yields; a time of None
    becomes index / fps). `detect` None: follow only `seed_boxes` (e.g. a box the user gave).
    `smoothing`: None, `OneEuroParams` or `MotionCompensated` (see `Tracker`); the CLI passes
    `DEFAULT_SMOOTHING`. Lazy: one frame is read, tracked and yielded at a time."""
    tracker = Tracker(detect, landmarks, fps, smoothing, params)
    tracker.seed(seed_boxes)
    for index, image, t in frames:
        faces = tracker.step(image, index / fps if t is None else t)
        yield FrameResult(int(index), float(tracker.last_t), faces, image)


def landmarks_from_runner(run: Callable, spec) -> Landmarks:
    """A `landmarks(frame, box)` callable from an lmk runner and its `InputSpec`: crop the
    window of `box`, run, map back to image pixels. A runner loaded `with_scores=True` returns
    (points, scores); the face's confidence is then the mean of its points' scores, else None."""
    from lmk.predict import predict_face

    def scored(x: np.ndarray):
        out = run(x)
        return out if isinstance(out, tuple) else (out, None)

    def landmarks(image: np.ndarray, box: Box) -> tuple[np.ndarray, float | None]:
        return predict_face(image, box, scored, spec)

    return landmarks


# ---------------------------------------------------------------- writing


def draw_frame(result: FrameResult) -> np.ndarray:
    """The frame (RGB) with each face's box, points and track id (and confidence when known)."""
    from lmk.overlay import draw_landmarks

    out = draw_landmarks(result.image, [f.points for f in result.faces], [f.box for f in result.faces])
    for f in result.faces:
        label = (
            f"#{f.track}" + ("" if f.confidence is None else f" {f.confidence:.2f}") + (" R" if f.redetected else "")
        )
        org = (round(f.box[0]), max(12, round(f.box[1]) - 4))
        cv2.putText(out, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 220, 0), 1, cv2.LINE_AA)
    return out


def write_outputs(
    results: Iterable[FrameResult],
    jsonl_path: Path,
    video_path: Path | None = None,
    fps: float = DEFAULT_FPS,
    raw: bool = False,
) -> int:
    """Write one JSON line per frame (`FrameResult.as_dict`) and, when `video_path` is given, the
    annotated frames as an mp4v video at `fps`. Streams (one frame in memory); both files appear
    only when complete, so a failed or interrupted run leaves any previous outputs as they were
    and no temporary files. Returns the number of frames written."""
    n = 0
    with ExitStack() as stack:
        jtmp = stack.enter_context(atomic_path(Path(jsonl_path)))
        vtmp = stack.enter_context(atomic_path(Path(video_path), suffix=".mp4")) if video_path else None
        writer, size = None, (0, 0)
        try:
            with open(jtmp, "w") as fh:
                for r in results:
                    fh.write(json.dumps(r.as_dict(raw)) + "\n")
                    if vtmp is not None:
                        if r.image is None:
                            raise ValueError(f"frame {r.index}: no image to draw for {video_path}")
                        h, w = r.image.shape[:2]
                        if writer is not None and (w, h) != size:
                            raise ValueError(f"frame {r.index}: {w}x{h}, the video is {size[0]}x{size[1]}")
                        if writer is None:
                            size = (w, h)
                            writer = cv2.VideoWriter(str(vtmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
                            if not writer.isOpened():
                                raise ValueError(f"{video_path}: OpenCV cannot write mp4v video here")
                        writer.write(cv2.cvtColor(draw_frame(r), cv2.COLOR_RGB2BGR))
                    n += 1
        finally:
            if writer is not None:
                writer.release()
        if n == 0:
            raise ValueError(f"{jsonl_path}: no frames to write")
    return n


# ---------------------------------------------------------------- lmk predict VIDEO

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def video_source(paths: Sequence[Path]) -> Path | None:
    """The one video file or folder of frames among `lmk predict`'s inputs, or None for photos."""
    videos = [Path(p) for p in paths if Path(p).is_dir() or Path(p).suffix.lower() in VIDEO_SUFFIXES]
    if not videos:
        return None
    if len(paths) > 1:
        raise ValueError(f"{videos[0]}: a video (or folder of frames) is predicted on its own; give it alone")
    if not videos[0].exists():
        raise FileNotFoundError(f"{videos[0]}: video not found")
    return videos[0]


def predict_video(
    path: Path, run: Callable, meta: dict, detect, out: Path, smooth: bool = True, boxes: Sequence[Box] = ()
) -> tuple[Path, Path, int]:
    """Track, smooth and write one video's landmarks: OUT/NAME.frames.jsonl and
    OUT/NAME.landmarks.mp4, each complete or absent. `run`: a runner loaded with scores; `detect`:
    image -> [Detection] (lmk.detect) or None to follow only `boxes`. Returns both paths and the
    number of frames."""
    from tqdm import tqdm

    from lmk.artifact import InputSpec

    fps = video_fps(path)
    find = None if detect is None else (lambda frame: [(d.box, d.score) for d in detect(frame)])
    results = track_video(
        read_frames(path, fps),
        find,
        landmarks_from_runner(run, InputSpec.from_meta(meta)),
        fps=fps,
        smoothing=DEFAULT_SMOOTHING if smooth else None,
        seed_boxes=boxes,
    )
    jsonl, video = Path(out) / f"{Path(path).stem}.frames.jsonl", Path(out) / f"{Path(path).stem}.landmarks.mp4"
    n = write_outputs(tqdm(results, desc="frames", unit="frame", leave=False), jsonl, video, fps=fps)
    return jsonl, video, n
