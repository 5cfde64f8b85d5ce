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


def test_augmented_samples_keep_points_on_the_image(sample_root):
    """Draw each landmark as a dot, augment, and find every dot at its target point."""
    import cv2

    from lmk.data.dataset import InputSpec, LandmarkDataset
    from lmk.data.readers import read_wflw

    rec = read_wflw(sample_root, "test")[0]
    img = np.zeros((1000, 1000, 3), np.uint8)
    rec.image_path = sample_root / "dots.png"
    picks = [60, 72, 96, 97, 54, 16]
    for i in picks:
        x, y = (round(v) for v in rec.points[i])
        img[y - 2 : y + 3, x - 2 : x + 3] = 255  # a 5x5 dot centred on the point
        rec.points[i] = (x, y)
    spec = InputSpec(size=256, mean=(0, 0, 0), std=(1, 1, 1))
    cv2.imwrite(str(rec.image_path), img)
    try:
        ds = LandmarkDataset([rec], spec, AugmentConfig(color=0, gray=0, blur=0, occlude=0, flip=1.0), seed=3)
        x, target, _ = ds[0]
    finally:
        rec.image_path.unlink()
    heat = x.numpy()[0]
    for i in picks:
        u, v = target.numpy()[i] * 256 - 0.5
        ys, xs = np.mgrid[0:256, 0:256]
        near = (np.abs(xs - u) < 4) & (np.abs(ys - v) < 4)
        assert heat[near].sum() > 0.05, f"point {i} lost by augmentation"
