"""lmk.predict.find_faces: the detector's candidates through the landmark cascade, with the shipped
detector and landmark file on the 20-face sample (real MNN, no mocks)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from lmk.artifact import InputSpec
from lmk.data.crop import read_rgb
from lmk.data.readers import read_wflw
from lmk.detect import DetectorOptions, load_detector
from lmk.detect.match import match_boxes
from lmk.detect.nms import iou_matrix
from lmk.facebox import box_from_points
from lmk.predict import FaceSearch, find_faces
from lmk.runtime import load_runner
from lmk.weights import default_deployable


@pytest.fixture(scope="module")
def scene(sample_root):
    """(detector at the cascade's floor, scored runner, spec, [(image, annotated boxes)])."""
    by_image = defaultdict(list)
    for rec in read_wflw(sample_root, "test"):
        by_image[rec.image_path].append(rec.box)
    images = [(read_rgb(p), np.array(b)) for p, b in by_image.items()]
    det = load_detector(threads=1, options=DetectorOptions(min_score=FaceSearch().detector_min_score))
    run, meta = load_runner(default_deployable(), threads=1, with_scores=True)
    return det, run, InputSpec.from_meta(meta), images


def test_the_cascade_finds_the_sample_faces_framed_by_their_own_points(scene):
    det, run, spec, images = scene
    search, found, total = FaceSearch(), 0, 0
    for image, truth in images:
        faces = find_faces(image, det.detect(image), run, spec, search)
        confs = [f.confidence for f in faces]
        assert confs == sorted(confs, reverse=True)  # (the gate is on the first pass: see the next test)
        boxes = np.array([f.box for f in faces]).reshape(-1, 4)
        overlap = iou_matrix(boxes, boxes) - np.eye(len(boxes))
        assert (overlap <= search.nms_iou).all()  # one face, one box
        for f in faces:  # the reported box is the one the final points imply
            assert f.box == pytest.approx(box_from_points(f.points, spec.box))
            assert f.detector_score >= search.detector_min_score
        found += len(match_boxes(boxes, truth, 0.5))
        total += len(truth)
    assert total == 20 and found >= 19, f"{found} of {total} sample faces found at IoU >= 0.5"


def test_the_confidence_gate_and_the_duplicate_merge(scene):
    det, run, spec, images = scene
    image, _ = images[0]
    dets = det.detect(image)
    assert dets
    assert find_faces(image, dets, run, spec, FaceSearch(min_confidence=1.01)) == []
    one_pass = find_faces(image, dets, run, spec, FaceSearch(passes=1))
    assert one_pass and all(f.confidence >= FaceSearch().min_confidence for f in one_pass)
    twice = find_faces(image, [dets[0], dets[0]], run, spec, FaceSearch(min_confidence=0.0))
    assert len(twice) == 1


def test_a_file_without_scores_keeps_only_the_detectors_own_choice(scene):
    det, run, spec, images = scene

    def unscored(x):  # the same engine's points, as a file without a `scores` output gives them
        return run(x)[0], None

    floor = DetectorOptions().min_score
    for image, _ in images:
        dets = det.detect(image)
        faces = find_faces(image, dets, unscored, spec, FaceSearch())
        assert all(f.confidence is None and f.detector_score >= floor for f in faces)
        assert len(faces) <= sum(d.score >= floor for d in dets)
