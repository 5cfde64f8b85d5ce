"""Video: the One-Euro filter (plain and motion-compensated), the face-motion estimate, reading
frames, the tracker's rules (injected pure-numpy detector and landmark callables), atomic outputs,
and one real model followed through a short clip."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from lmk.data.crop import window_from_box
from lmk.data.readers import read_wflw
from lmk.facebox import box_from_points, face_size, fit_box
from lmk.smoothing import OneEuroFilter, OneEuroParams, smooth_sequence
from lmk.video import (
    DEFAULT_SMOOTHING,
    FlowParams,
    FrameResult,
    MotionCompensated,
    TrackerParams,
    estimate_face_motion,
    landmarks_from_runner,
    read_frames,
    to_gray,
    track_video,
    video_fps,
    write_outputs,
)

FPS = 30.0


def run_filter(signal: np.ndarray, params: OneEuroParams, scale=None) -> np.ndarray:
    f = OneEuroFilter(params)
    return np.stack([f(x, i / FPS, scale) for i, x in enumerate(signal)])


# ---------------------------------------------------------------- One-Euro


def test_constant_signal_stays_put():
    x = np.random.default_rng(0).uniform(0, 500, size=(98, 2))
    out = run_filter(np.repeat(x[None], 40, axis=0), OneEuroParams(min_cutoff=0.5, beta=2.0))
    assert np.array_equal(out, np.repeat(x[None], 40, axis=0))


def test_step_converges_without_overshoot():
    signal = np.zeros((60, 1, 2))
    signal[15:] = 1.0
    out = run_filter(signal, OneEuroParams(min_cutoff=1.0, beta=0.0))
    after = out[15:, 0, 0]
    assert np.all(np.diff(after) > 0) and np.all(after <= 1.0)  # monotone, no overshoot
    assert 1.0 - out[15 + 30, 0, 0] < 0.01  # within 1 % a second after the step (tau = 0.16 s)


def test_noise_variance_drops():
    noise = np.random.default_rng(1).standard_normal((600, 98, 2))
    out = run_filter(noise, OneEuroParams(min_cutoff=1.0, beta=0.0))
    # an exponential low-pass with alpha = 1/(1 + 30 tau) keeps alpha / (2 - alpha) ~ 0.1 of the variance
    assert out[60:].var() < 0.2 * noise[60:].var()


def test_beta_raises_responsiveness():
    t = np.arange(60) / FPS
    ramp = np.stack([np.stack([100 * t, 0 * t], axis=-1)], axis=1)  # one point moving 100 px/s
    lag = {beta: ramp[-1, 0, 0] - run_filter(ramp, OneEuroParams(1.0, beta))[-1, 0, 0] for beta in (0.0, 0.05, 0.5)}
    assert lag[0.0] > lag[0.05] > lag[0.5] > 0


def test_scale_makes_the_parameters_scale_free():
    """Speeds divided by the face size: the same motion at 10x the size is filtered 10x alike."""
    rng = np.random.default_rng(2)
    signal = np.cumsum(rng.standard_normal((50, 5, 2)), axis=0)
    p = OneEuroParams(min_cutoff=0.7, beta=3.0)
    small, big = run_filter(signal, p, scale=20.0), run_filter(10 * signal, p, scale=200.0)
    assert np.allclose(10 * small, big)


def test_reset_forgets_and_time_must_increase():
    f = OneEuroFilter(OneEuroParams(1.0, 0.0))
    f(np.zeros((3, 2)), 0.0)
    assert not np.allclose(f(np.ones((3, 2)), 0.1), 1.0)
    with pytest.raises(ValueError, match="time must increase"):
        f(np.ones((3, 2)), 0.1)
    f.reset()
    assert np.array_equal(f(np.ones((3, 2)), 0.1), np.ones((3, 2)))
    with pytest.raises(ValueError):
        OneEuroParams(min_cutoff=0.0)


def test_smooth_sequence_is_the_frame_by_frame_filter():
    x = np.cumsum(np.random.default_rng(3).standard_normal((30, 4, 2)), axis=0)
    times, scales = np.arange(30) / FPS, np.full(30, 50.0)
    p = OneEuroParams(1.5, 0.4)
    assert np.array_equal(smooth_sequence(x, times, p, scales), run_filter(x, p, scale=50.0))


def similarity(angle_deg: float, scale: float, shift, centre) -> np.ndarray:
    """2 x 3: rotate by angle and scale about `centre`, then shift."""
    a = np.deg2rad(angle_deg)
    lin = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.hstack([lin, (np.asarray(centre) + shift - lin @ np.asarray(centre))[:, None]])


def apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ m[:, :2].T + m[:, 2]


def test_motion_carries_the_state_so_a_moved_shape_has_no_lag():
    """Points moved exactly by known similarities: given the motions, even a very slow filter
    returns them unchanged; without them the same filter trails the motion."""
    rng = np.random.default_rng(4)
    x = rng.uniform(80, 120, size=(20, 2))
    steps = [
        similarity(rng.uniform(-2, 2), rng.uniform(0.98, 1.02), rng.uniform(-3, 3, 2), (100, 100)) for _ in range(30)
    ]
    track, motions = [x], [None]
    for m in steps:
        track.append(apply(m, track[-1]))
        motions.append(m)
    track = np.stack(track)
    p = OneEuroParams(min_cutoff=0.2, beta=0.0)
    times = np.arange(len(track)) / FPS
    carried = smooth_sequence(track, times, p, motions=motions)
    assert np.abs(carried - track).max() < 1e-9
    assert np.abs(smooth_sequence(track, times, p) - track).max() > 5.0
    f = OneEuroFilter(p)
    f(x, 0.0)
    with pytest.raises(ValueError, match="2 x 3"):
        f(x, 0.1, motion=np.eye(3))


# ---------------------------------------------------------------- face motion (optical flow)


def sample_face(sample_root):
    rec = read_wflw(sample_root, "test")[0]
    from lmk.data.crop import read_rgb

    return rec, read_rgb(rec.image_path)


def test_flow_recovers_a_known_similarity(sample_root):
    rec, image = sample_face(sample_root)
    m = similarity(2.0, 1.02, (3.3, -1.7), rec.points.mean(0))
    moved = cv2.warpAffine(image, m, image.shape[1::-1], flags=cv2.INTER_LINEAR)
    est = estimate_face_motion(to_gray(image), to_gray(moved), rec.points)
    assert est is not None and est.shape == (2, 3)
    assert np.abs(apply(est, rec.points) - apply(m, rec.points)).max() < 0.15  # pixels, at the landmarks
    still = estimate_face_motion(to_gray(image), to_gray(image), rec.points)
    assert np.abs(apply(still, rec.points) - rec.points).max() < 0.05


def test_flow_is_refused_where_it_cannot_be_trusted(sample_root):
    rec, image = sample_face(sample_root)
    gray, blank = to_gray(image), np.zeros(image.shape[:2], np.uint8)
    assert estimate_face_motion(blank, gray, rec.points) is None  # no corners in a blank frame
    assert estimate_face_motion(gray, blank, rec.points) is None  # nothing to track them to
    assert estimate_face_motion(gray, gray[:-1], rec.points) is None  # frames of different sizes
    assert estimate_face_motion(gray, gray, rec.points, FlowParams(min_points=10_000)) is None


def test_motion_compensated_tracking_passes_a_rigid_motion_without_lag(sample_root):
    """A still photo moved by a sequence of similarities, and a perfect landmark model: the
    motion-compensated tracker's points follow the truth (its state carried by the measured flow),
    plain One-Euro with the same slow cutoff trails it; the offline filter with the recorded
    motions equals the tracker's output."""
    rec, image = sample_face(sample_root)
    rng = np.random.default_rng(5)
    mats, m = [], np.hstack([np.eye(2), np.zeros((2, 1))])
    for _ in range(12):
        mats.append(m)
        step = similarity(rng.uniform(-1, 1), rng.uniform(0.99, 1.01), rng.uniform(-3, 3, 2), rec.points.mean(0))
        m = np.vstack([step, [0, 0, 1]])[:2] @ np.vstack([m, [0, 0, 1]])
    truth = [apply(m, rec.points) for m in mats]
    frames = [
        (i, cv2.warpAffine(image, m, image.shape[1::-1], flags=cv2.INTER_LINEAR), i / FPS) for i, m in enumerate(mats)
    ]

    def perfect(frame, box):
        i = next(j for j, f in enumerate(frames) if f[1] is frame)
        return truth[i].copy(), None

    p, seed = OneEuroParams(min_cutoff=0.5, beta=0.0), [rec.box]
    params = TrackerParams(box="landmark_bbox")
    mc = list(track_video(frames, None, perfect, FPS, MotionCompensated(p), params, seed))
    plain = list(track_video(frames, None, perfect, FPS, p, params, seed))
    err_mc = max(np.abs(r.faces[0].points - g).max() for r, g in zip(mc, truth))
    err_plain = max(np.abs(r.faces[0].points - g).max() for r, g in zip(plain, truth))
    assert err_mc < 0.3 and err_plain > 3.0, (err_mc, err_plain)
    motions = [r.faces[0].motion for r in mc]
    assert motions[0] is None and all(mo is not None for mo in motions[1:])
    assert all(r.faces[0].motion is None for r in plain)
    raw = np.stack([r.faces[0].raw_points for r in mc])
    offline = smooth_sequence(raw, np.arange(len(raw)) / FPS, p, np.array([face_size(x) for x in raw]), motions)
    assert np.array_equal(offline, np.stack([r.faces[0].points for r in mc]))


# ---------------------------------------------------------------- reading frames


def test_read_frames_from_a_folder_in_natural_order(tmp_path):
    for value, name in [(10, "f1.png"), (20, "f2.png"), (30, "f10.png")]:
        bgr = np.zeros((8, 6, 3), np.uint8)
        bgr[..., 2] = value  # red in BGR
        cv2.imwrite(str(tmp_path / name), bgr)
    (tmp_path / "notes.txt").write_text("not a frame")
    frames = list(read_frames(tmp_path, fps=10.0))
    assert [i for i, _, _ in frames] == [0, 1, 2]
    assert [int(f[0, 0, 0]) for _, f, _ in frames] == [10, 20, 30]  # RGB: red first, f10 last
    assert [t for _, _, t in frames] == pytest.approx([0.0, 0.1, 0.2])
    with pytest.raises(FileNotFoundError):
        list(read_frames(tmp_path / "missing.mp4"))


def test_read_frames_from_an_mp4(tmp_path):
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (64, 48))
    assert writer.isOpened()
    for i in range(8):
        writer.write(np.full((48, 64, 3), 20 + 25 * i, np.uint8))
    writer.release()
    frames = list(read_frames(path))
    assert len(frames) == 8 and frames[0][1].shape == (48, 64, 3) and video_fps(path) == 25.0
    times = np.array([t for _, _, t in frames])
    assert np.all(np.diff(times) > 0) and times == pytest.approx(np.arange(8) / 25.0, abs=1e-3)
    means = [f.mean() for _, f, _ in frames]
    assert np.all(np.diff(means) > 10)  # the frames in their order (lossy codec: roughly)


# ---------------------------------------------------------------- points -> box


def test_points_box_matches_the_annotated_rectangle(sample_root):
    """The fitted transform (WFLW-mini train) on the 20 sample test faces: the crop window of the
    landmarks' box lies near the annotation's (median 4 % of its side off, 7 % in size)."""
    recs = read_wflw(sample_root, "test")
    off, size = [], []
    for r in recs:
        a, b = window_from_box(r.box, 1.2), window_from_box(box_from_points(r.points), 1.2)
        off.append(np.hypot(a.cx - b.cx, a.cy - b.cy) / a.side)
        size.append(abs(np.log(b.side / a.side)))
    assert np.median(off) < 0.06 and np.median(size) < 0.12
    fit = fit_box([r.points for r in recs], [r.box for r in recs])
    assert -0.25 < fit.dy < -0.05 and 1.1 < fit.kh < 1.5  # the rectangle takes in the forehead
    assert box_from_points(recs[0].points, "landmark_bbox") == pytest.approx(
        (*recs[0].points.min(0), *recs[0].points.max(0))
    )


# ---------------------------------------------------------------- tracker rules


_ANGLE = np.linspace(0, 2 * np.pi, 98, endpoint=False)
TEMPLATE = np.stack([40 * np.cos(_ANGLE), 50 * np.sin(_ANGLE)], axis=-1)  # 98 points, a face-sized ellipse


class Scene:
    """Frames whose pixel (0, 0) holds the frame index, one face per frame at known points;
    `landmarks` returns them (plus noise) with a scripted confidence, `detect` the true box."""

    def __init__(self, n: int, conf=None, noise: float = 0.0, detect_until: int | None = None, motion=1.0):
        rng = np.random.default_rng(0)
        self.truth = [TEMPLATE + [100 + motion * i, 100 + 0.5 * motion * i] for i in range(n)]
        self.noisy = [p + noise * rng.standard_normal(p.shape) for p in self.truth]
        self.conf = conf or [0.9] * n
        self.detect_until = n if detect_until is None else detect_until
        self.detect_calls: list[int] = []
        self.boxes_seen: list[tuple[int, tuple]] = []
        self.n = n

    def frames(self):
        for i in range(self.n):
            img = np.zeros((240, 320, 3), np.uint8)
            img[0, 0, 0] = i
            yield i, img, i / FPS

    def detect(self, frame):
        i = int(frame[0, 0, 0])
        self.detect_calls.append(i)
        return [(box_from_points(self.truth[i]), 0.95)] if i < self.detect_until else []

    def landmarks(self, frame, box):
        i = int(frame[0, 0, 0])
        self.boxes_seen.append((i, tuple(box)))
        return self.noisy[i].copy(), self.conf[i]


def test_detector_runs_only_when_there_is_no_face_or_confidence_drops():
    conf = [0.9] * 12
    conf[5] = 0.2  # unsure in frame 5: re-found by the detector, same track
    scene = Scene(12, conf=conf)
    results = list(track_video(scene.frames(), scene.detect, scene.landmarks, FPS))
    assert scene.detect_calls == [0, 5]
    assert all(len(r.faces) == 1 and r.faces[0].track == 0 for r in results)
    assert [r.faces[0].redetected for r in results] == [i == 5 for i in range(12)]
    assert [r.faces[0].new for r in results] == [i == 0 for i in range(12)]
    assert results[5].faces[0].confidence == pytest.approx(0.2)  # the detection's box gave it again
    # frame 5 was measured twice: in the tracked box, then in the detection's
    in_frame5 = [b for i, b in scene.boxes_seen if i == 5]
    assert len(in_frame5) == 2 and in_frame5[1] == pytest.approx(box_from_points(scene.truth[5]))


def test_a_face_the_detector_no_longer_finds_is_dropped_and_a_new_one_gets_a_new_id():
    conf = [0.9] * 10
    conf[3] = conf[4] = 0.1
    scene = Scene(10, conf=conf, detect_until=3)
    results = list(track_video(scene.frames(), scene.detect, scene.landmarks, FPS))
    assert [len(r.faces) for r in results] == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert scene.detect_calls == list(range(0, 1)) + list(range(3, 10))  # searched while nothing is tracked
    scene2 = Scene(6, conf=[0.9, 0.1, 0.9, 0.9, 0.9, 0.9])
    scene2.detect_until = 6

    def flaky_detect(frame):  # misses the face once: the track ends, the next detection is a new id
        return [] if int(frame[0, 0, 0]) == 1 else scene2.detect(frame)

    ids = [[f.track for f in r.faces] for r in track_video(scene2.frames(), flaky_detect, scene2.landmarks, FPS)]
    assert ids == [[0], [], [1], [1], [1], [1]]


def test_seeded_tracking_without_detector_follows_the_landmarks_and_holds_a_still_box():
    moving = Scene(8, motion=6.0)  # 6 px a frame: beyond the hold, the box follows every frame
    list(track_video(moving.frames(), None, moving.landmarks, FPS, seed_boxes=[box_from_points(moving.truth[0])]))
    for (i, box), prev in zip(moving.boxes_seen[1:], moving.truth):
        assert box == pytest.approx(box_from_points(prev)), i
    still = Scene(8, motion=0.0, noise=0.3)  # sub-pixel wobble only: the crop box stays put
    seed = box_from_points(still.truth[0])
    results = list(track_video(still.frames(), None, still.landmarks, FPS, seed_boxes=[seed]))
    assert len({b for _, b in still.boxes_seen}) == 1 and all(r.faces[0].box == seed for r in results)
    low = Scene(5, conf=[0.9, 0.1, 0.1, 0.9, 0.9])  # no detector: an unsure face is kept as it is
    out = list(track_video(low.frames(), None, low.landmarks, FPS, seed_boxes=[box_from_points(low.truth[0])]))
    assert [len(r.faces) for r in out] == [1] * 5 and not any(r.faces[0].redetected for r in out)


def test_smoothing_per_track_cuts_jitter_and_keeps_the_raw_points():
    scene = Scene(90, noise=1.5, motion=0.0)
    seed = [box_from_points(scene.truth[0])]
    params = OneEuroParams(min_cutoff=1.0, beta=0.0)
    results = list(track_video(scene.frames(), None, scene.landmarks, FPS, params, seed_boxes=seed))
    raw = np.stack([r.faces[0].raw_points for r in results])
    smooth = np.stack([r.faces[0].points for r in results])
    assert np.array_equal(raw, np.stack(scene.noisy)) and np.array_equal(smooth[0], raw[0])
    jitter = {k: np.linalg.norm(np.diff(v, axis=0), axis=-1).mean() for k, v in (("raw", raw), ("smooth", smooth))}
    assert jitter["smooth"] < 0.3 * jitter["raw"]
    assert results[3].as_dict()["faces"][0].keys() == {"track", "box", "landmarks", "confidence", "redetected", "new"}
    json.dumps([r.as_dict(raw=True) for r in results])  # JSON-able


def test_motion_compensation_falls_back_to_plain_smoothing_when_the_flow_fails():
    """Blank frames give the flow nothing to track: every frame is smoothed by the plain step, so
    the output is exactly plain One-Euro's."""
    scene = Scene(20, noise=1.5, motion=2.0)
    seed = [box_from_points(scene.truth[0])]
    p = OneEuroParams(min_cutoff=1.0, beta=0.5)
    mc = list(track_video(scene.frames(), None, scene.landmarks, FPS, MotionCompensated(p), seed_boxes=seed))
    plain = list(track_video(scene.frames(), None, scene.landmarks, FPS, p, seed_boxes=seed))
    assert all(r.faces[0].motion is None for r in mc)
    for a, b in zip(mc, plain):
        assert np.array_equal(a.faces[0].points, b.faces[0].points)
    assert "motion" not in mc[3].as_dict()["faces"][0]


def test_the_default_smoothing_is_a_setting_the_tracker_takes():
    assert isinstance(DEFAULT_SMOOTHING, OneEuroParams | MotionCompensated)
    scene = Scene(4)
    out = list(track_video(scene.frames(), scene.detect, scene.landmarks, FPS, DEFAULT_SMOOTHING))
    assert [len(r.faces) for r in out] == [1] * 4
    with pytest.raises(TypeError, match="smoothing"):
        list(track_video(scene.frames(), scene.detect, scene.landmarks, FPS, smoothing={"min_cutoff": 1.0}))


def test_landmarks_from_a_runner_with_and_without_scores():
    from lmk.artifact import InputSpec

    spec = InputSpec(size=32, enlarge=1.0)
    centre = np.full((1, 3, 2), 0.5)

    def plain(x):
        assert x.shape == (1, 3, 32, 32) and x.dtype == np.float32
        return centre

    def scored(x):
        return centre, np.array([[0.2, 0.4, 0.9]])

    box = (10.0, 20.0, 50.0, 60.0)
    points, conf = landmarks_from_runner(plain, spec)(np.zeros((100, 100, 3), np.uint8), box)
    assert conf is None and points == pytest.approx(np.full((3, 2), [30.0, 40.0]))
    assert landmarks_from_runner(scored, spec)(np.zeros((100, 100, 3), np.uint8), box)[1] == pytest.approx(0.5)


def test_the_video_path_loads_without_torch():
    code = (
        "import sys, numpy as np; import lmk.video, lmk.smoothing; from lmk.artifact import InputSpec; "
        "f = lmk.video.landmarks_from_runner(lambda x: np.full((1, 3, 2), 0.5), InputSpec(size=16)); "
        "f(np.zeros((20, 20, 3), np.uint8), (2, 2, 18, 18)); "
        "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime', 'MNN') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


# ---------------------------------------------------------------- outputs


def small_results(n: int = 6) -> list[FrameResult]:
    scene = Scene(n)
    return list(track_video(scene.frames(), scene.detect, scene.landmarks, FPS))


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


def test_outputs_are_written_atomically_and_a_rerun_leaves_no_temp_files(tmp_path):
    jsonl, mp4 = tmp_path / "out" / "faces.jsonl", tmp_path / "out" / "faces.mp4"
    assert write_outputs(small_results(), jsonl, mp4, fps=FPS) == 6
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [d["frame"] for d in lines] == list(range(6)) and lines[0]["faces"][0]["new"] is True
    frames = list(read_frames(mp4))
    assert len(frames) == 6 and frames[0][1].shape == (240, 320, 3) and video_fps(mp4) == pytest.approx(FPS)
    assert leftovers(jsonl.parent) == []
    assert write_outputs(small_results(4), jsonl, mp4, fps=FPS) == 4  # a re-run replaces both
    assert len(jsonl.read_text().splitlines()) == 4 and len(list(read_frames(mp4))) == 4
    assert sorted(p.name for p in jsonl.parent.iterdir()) == ["faces.jsonl", "faces.mp4"]


def test_a_failed_run_keeps_the_previous_outputs(tmp_path):
    jsonl, mp4 = tmp_path / "faces.jsonl", tmp_path / "faces.mp4"
    write_outputs(small_results(), jsonl, mp4)
    before = (jsonl.read_bytes(), mp4.read_bytes())

    def broken():
        yield from small_results(3)
        raise RuntimeError("decoder died")

    with pytest.raises(RuntimeError, match="decoder died"):
        write_outputs(broken(), jsonl, mp4)
    assert (jsonl.read_bytes(), mp4.read_bytes()) == before and leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="no frames"):
        write_outputs(iter(()), tmp_path / "empty.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces.jsonl", "faces.mp4"]


# ---------------------------------------------------------------- a real model


def test_a_real_model_follows_a_face_through_a_moving_clip(sample_root):
    """The shipped nano checkpoint (loaded through the torch runner for the test only) tracks a
    sample face drifting 2 px a frame from an annotation seed: one track, its points stay on the
    face (this hard face scores 9 % NME from its annotation box; a lost track would be far above)."""
    pytest.importorskip("torch")
    from lmk.artifact import InputSpec
    from lmk.data.crop import read_rgb
    from lmk.metrics import nme_per_face
    from lmk.runtime import load_runner
    from lmk.weights import default_checkpoint

    run, meta = load_runner(default_checkpoint().parent / "wflw98_nano.pt", with_scores=True)
    spec = InputSpec.from_meta(meta)
    rec = read_wflw(sample_root, "test")[0]
    image = read_rgb(rec.image_path)
    shifts = [np.array([2.0 * i, 1.0 * i]) for i in range(12)]
    frames = [(i, cv2.warpAffine(image, np.float64([[1, 0, s[0]], [0, 1, s[1]]]), image.shape[1::-1]), i / FPS)
              for i, s in enumerate(shifts)]  # fmt: skip
    seed = [rec.box]
    params = TrackerParams(box=spec.box)
    results = list(
        track_video(frames, None, landmarks_from_runner(run, spec), FPS, OneEuroParams(4.0, 1.0), params, seed)
    )
    assert all(len(r.faces) == 1 and r.faces[0].track == 0 for r in results)
    confidence = [r.faces[0].confidence for r in results]  # None for a model without a scores head
    assert all(c is None for c in confidence) or all(0.0 <= c <= 1.0 for c in confidence)
    pred = np.stack([r.faces[0].raw_points for r in results])
    truth = np.stack([rec.points + s for s in shifts])
    nme = nme_per_face(pred, truth, "wflw98")
    assert nme.mean() < 0.15 and nme.max() < 0.2
