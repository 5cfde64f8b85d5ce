import dataclasses

import numpy as np
import pytest

from lmk.data.augment import AugmentConfig
from lmk.data.crop import (
    affine_points,
    crop_image,
    crop_matrix,
    image_to_normalized,
    normalized_to_image,
    pixels_to_normalized,
    window_from_box,
)


def test_window_edges_land_on_outer_pixel_edges():
    win = window_from_box((100, 50, 200, 130), 1.2)
    assert (win.cx, win.cy, win.side) == (150, 90, pytest.approx(120))
    m = crop_matrix(win, 256)
    edges = affine_points(
        np.array([[win.cx - win.side / 2, win.cy - win.side / 2], [win.cx + win.side / 2, win.cy + win.side / 2]]), m
    )
    np.testing.assert_allclose(edges, [[-0.5, -0.5], [255.5, 255.5]])


def test_round_trip_is_exact():
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 500, size=(98, 2))
    win = window_from_box((30.5, 40.25, 310.0, 400.75), 1.37)
    np.testing.assert_allclose(normalized_to_image(image_to_normalized(pts, win), win), pts, atol=1e-9)
    # input pixels -> normalised agrees with the image -> normalised map
    np.testing.assert_allclose(
        pixels_to_normalized(affine_points(pts, crop_matrix(win, 128)), 128), image_to_normalized(pts, win), atol=1e-12
    )


def test_crop_moves_a_dot_where_the_matrix_says():
    img = np.zeros((300, 400, 3), np.uint8)
    img[123, 211] = 255  # (x=211, y=123)
    win = window_from_box((150, 80, 260, 190), 1.0)  # side 110 -> 220 px crop: k = 2
    crop = crop_image(img, win, 220)
    expect = affine_points(np.array([[211.0, 123.0]]), crop_matrix(win, 220))[0]
    ys, xs = np.nonzero(crop[..., 0])
    w = crop[ys, xs, 0].astype(float)
    np.testing.assert_allclose([np.average(xs, weights=w), np.average(ys, weights=w)], expect, atol=0.05)


def test_augmented_samples_keep_points_on_the_image(sample_root, tmp_path):
    """Draw each landmark as a dot, augment, and find every dot at its target point, in the
    student's crop and in the teacher's view of it (same motion, another size)."""
    import cv2

    from lmk.artifact import InputSpec
    from lmk.data.dataset import LandmarkDataset
    from lmk.data.readers import read_wflw

    rec = read_wflw(sample_root, "test")[0]
    img = np.zeros((1000, 1000, 3), np.uint8)
    rec.image_path = tmp_path / "dots.png"
    picks = [60, 72, 96, 97, 54, 16]
    for i in picks:
        x, y = (round(v) for v in rec.points[i])
        img[y - 2 : y + 3, x - 2 : x + 3] = 255  # a 5x5 dot centred on the point
        rec.points[i] = (x, y)
    spec = InputSpec(size=128, mean=(0, 0, 0), std=(1, 1, 1))
    cv2.imwrite(str(rec.image_path), img)
    aug = AugmentConfig(color=0, gray=0, blur=0, occlude=0, flip=1.0)
    x, target, _, teacher_x = LandmarkDataset([rec], spec, aug, seed=3, teacher_size=256)[0]
    for heat, size in ((x.numpy()[0], 128), (teacher_x.numpy()[0], 256)):
        assert heat.shape == (size, size)
        for i in picks:
            u, v = target.numpy()[i] * size - 0.5
            ys, xs = np.mgrid[0:size, 0:size]
            near = (np.abs(xs - u) < 4 * size / 128) & (np.abs(ys - v) < 4 * size / 128)
            assert heat[near].sum() > 0.05, f"point {i} lost by augmentation at {size} px"


def test_fill_labels_the_missing_points_only(sample_root):
    """300-W faces lack 30 of the 98 points: `fill` supplies those, the annotated ones stay."""
    from lmk.artifact import InputSpec
    from lmk.data.crop import face_window
    from lmk.data.dataset import LandmarkDataset, to_layout
    from lmk.data.readers import read_wflw
    from lmk.schemes import MAP_98_TO_68

    rec = read_wflw(sample_root, "test")[0]
    rec68 = dataclasses.replace(rec, points=rec.points[MAP_98_TO_68], scheme="300w68")
    teacher = rec.points + 3.0  # a "teacher" 3 px off everywhere
    spec = InputSpec(size=64)
    plain = LandmarkDataset([rec68], spec, None)
    filled = LandmarkDataset([rec68], spec, None, fill=[teacher])
    _, t_plain, m_plain = plain[0]
    _, t_fill, m_fill = filled[0]
    assert m_plain.sum() == 68 and m_fill.sum() == 98
    have = to_layout(rec68.points, "300w68")[1] > 0
    np.testing.assert_allclose(t_fill[have], t_plain[have])
    win = face_window(rec68.box, rec68.points, "300w68", "wflw_rect", 1.2)
    np.testing.assert_allclose(t_fill[~have], image_to_normalized(teacher, win)[~have], atol=1e-5)
