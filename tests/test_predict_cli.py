"""`lmk predict`: landmarks in image pixels for a photo + face box, or for a face crop."""

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from lmk.cli import app
from lmk.data.readers import read_dataset
from lmk.metrics import nme_per_face
from lmk.runtime import load_runner


@pytest.fixture(scope="module")
def face(sample_root):
    return read_dataset(sample_root, "wflw", "test")[3]


def run_predict(args):
    res = CliRunner().invoke(app, ["predict", *map(str, args)])
    return res, (json.loads(res.stdout) if res.exit_code == 0 else None)


def test_predict_with_a_box_matches_eval_and_the_annotation(face, tmp_path):
    """The shipped model on a sample photo with its WFLW box: the same points as the eval path,
    close to the annotation, and an overlay of the photo's size."""
    from lmk.artifact import InputSpec
    from lmk.predict import predict_records
    from lmk.weights import default_deployable

    box = ",".join(str(v) for v in face.box)
    res, out = run_predict([face.image_path, "--box", box, "--draw", tmp_path])
    assert res.exit_code == 0, res.output
    points = np.array(out["faces"][0]["landmarks"])
    assert points.shape == (98, 2) and out["scheme"] == "wflw98"
    assert out["model"] == str(default_deployable()) and 0.8 < out["faces"][0]["confidence"] <= 1
    runner, meta = load_runner(default_deployable())
    expected = predict_records([face], runner, InputSpec.from_meta(meta), progress=False)[0]
    np.testing.assert_allclose(points, expected, atol=0.006)  # JSON keeps 0.01 px
    assert nme_per_face(points[None], face.points[None], "wflw98")[0] < 0.08
    drawn = cv2.imread(str(tmp_path / f"{face.image_path.stem}.landmarks.png"))
    assert drawn.shape == cv2.imread(str(face.image_path)).shape


def test_a_face_crop_needs_no_box(face, tiny_checkpoint, tmp_path):
    """With --whole-image the whole image is the face box: cutting the box out of the photo gives the
    same points (shifted) as the photo with that box, when nothing else is in the window."""
    image = cv2.imread(str(face.image_path))
    x0, y0, x1, y1 = (int(v) for v in face.box)
    masked = np.zeros_like(image)
    masked[y0:y1, x0:x1] = image[y0:y1, x0:x1]
    cv2.imwrite(str(tmp_path / "masked.png"), masked)
    cv2.imwrite(str(tmp_path / "crop.png"), image[y0:y1, x0:x1])
    edges = f"{x0 - 0.5},{y0 - 0.5},{x1 - 0.5},{y1 - 0.5}"  # the crop's outer pixel edges in the photo
    res, whole = run_predict([tmp_path / "masked.png", "--box", edges, "--checkpoint", tiny_checkpoint])
    assert res.exit_code == 0, res.output
    res, crop = run_predict([tmp_path / "crop.png", "--whole-image", "--checkpoint", tiny_checkpoint])
    assert res.exit_code == 0, res.output
    assert crop["faces"][0]["box"] == [-0.5, -0.5, x1 - x0 - 0.5, y1 - y0 - 0.5]
    shifted = np.array(crop["faces"][0]["landmarks"]) + [x0, y0]
    np.testing.assert_allclose(shifted, whole["faces"][0]["landmarks"], atol=0.02)


def test_predict_finds_the_faces_of_several_photos(sample_root, tiny_checkpoint, tmp_path):
    """No --box: the detector's faces, each with its detector score and the model's confidence."""
    images = sorted((sample_root / "WFLW_images").rglob("*.jpg"))[:2]
    res = CliRunner().invoke(
        app, ["predict", *map(str, images), "--checkpoint", str(tiny_checkpoint), "--json", str(tmp_path / "p.json")]
    )
    assert res.exit_code == 0, res.output
    out = json.loads((tmp_path / "p.json").read_text())
    assert {f["image"] for f in out["faces"]} == {str(p) for p in images}
    assert all(len(f["landmarks"]) == 98 and 0 < f["detector_score"] <= 1 for f in out["faces"])
    assert all(f["confidence"] is None for f in out["faces"])  # the tiny GAP-head model has no scores


def test_no_face_found_is_a_message_not_points(tmp_path):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 128, np.uint8))
    res = CliRunner().invoke(app, ["predict", str(blank)])
    assert res.exit_code == 0, res.output
    assert f"{blank}: no face found" in res.stderr
    assert json.loads(res.stdout)["faces"] == []


def test_several_boxes_in_one_photo(sample_root, tiny_checkpoint, tmp_path):
    """Repeated --box: one entry per face, each the same as that box alone, all drawn in one file."""
    records = read_dataset(sample_root, "wflw", "test")
    by_image = {}
    for r in records:
        by_image.setdefault(r.image_path, []).append(r)
    image, faces = next((k, v) for k, v in by_image.items() if len(v) >= 2)
    boxes = [",".join(str(v) for v in r.box) for r in faces[:2]]
    res, both = run_predict(
        [image, "--box", boxes[0], "--box", boxes[1], "--checkpoint", tiny_checkpoint, "--draw", tmp_path]
    )
    assert res.exit_code == 0, res.output
    assert [f["box"] for f in both["faces"]] == [list(r.box) for r in faces[:2]]
    for b, face in zip(boxes, both["faces"]):
        _, alone = run_predict([image, "--box", b, "--checkpoint", tiny_checkpoint])
        assert alone["faces"][0]["landmarks"] == face["landmarks"]
    assert (tmp_path / f"{image.stem}.landmarks.png").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--box", "1,2,3"], "expected X0,Y0,X1,Y1"),
        (["--box", "10,10,5,20"], "X1 > X0"),
        (["--box", "0,0,50,50", "EXTRA"], "give one image with it"),
    ],
)
def test_predict_refuses_a_bad_box(face, tiny_checkpoint, args, message):
    args = [str(face.image_path) if a == "EXTRA" else a for a in args]
    res = CliRunner().invoke(app, ["predict", str(face.image_path), "--checkpoint", str(tiny_checkpoint), *args])
    assert res.exit_code == 2 and message in res.output


def test_predict_names_an_unreadable_image(tiny_checkpoint, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    res = CliRunner().invoke(app, ["predict", str(bad), "--checkpoint", str(tiny_checkpoint)])
    assert res.exit_code == 2 and str(bad) in res.output and "cannot read image" in res.output


def test_predict_on_a_video_tracks_and_writes_frames_and_video(face, tmp_path):
    """A video file: the detector finds the face on the first frame, the tracker follows it, and
    OUT gets one JSON line per frame and the annotated video; nothing else is left there."""
    image = cv2.imread(str(face.image_path))
    h, w = image.shape[:2]
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w, h))
    for i in range(6):
        writer.write(cv2.warpAffine(image, np.float32([[1, 0, i], [0, 1, 0]]), (w, h)))
    writer.release()
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["predict", str(clip), "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in (out / "clip.frames.jsonl").read_text().splitlines()]
    assert [x["frame"] for x in lines] == list(range(6))
    assert all(x["faces"] and len(x["faces"][0]["landmarks"]) == 98 for x in lines)
    assert sorted(p.name for p in out.iterdir()) == ["clip.frames.jsonl", "clip.landmarks.mp4"]
    assert cv2.VideoCapture(str(out / "clip.landmarks.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) == 6
