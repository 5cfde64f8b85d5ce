import shutil

import numpy as np
import pytest

from lmk.data.readers import DataError, MissingImagesError, read_300w, read_pts, read_wflw, read_wflw_file


def test_wflw_mini_splits(shared_data):
    train = read_wflw(shared_data / "wflw-mini", "train")
    test = read_wflw(shared_data / "wflw-mini", "test")
    assert (len(train), len(test)) == (450, 161)
    rec = test[0]
    assert rec.points.shape == (98, 2) and rec.box[2] > rec.box[0]
    assert set(rec.attributes) == {"pose", "expression", "illumination", "makeup", "occlusion", "blur"}
    assert all(any(r.attributes.values()) for r in test)  # every test face carries a flag (README)
    assert rec.image_path.is_file()


def test_300w_mini(shared_data):
    recs = read_300w(shared_data / "300w-mini")
    assert len(recs) == 870 + 337
    assert recs[0].points.shape == (68, 2) and recs[0].scheme == "300w68"
    assert recs[0].box == (
        recs[0].points[:, 0].min(),
        recs[0].points[:, 1].min(),
        recs[0].points[:, 0].max(),
        recs[0].points[:, 1].max(),
    )


def _copy_sample(sample_root, tmp_path):
    root = tmp_path / "wflw"
    shutil.copytree(sample_root, root)
    return root, root / "WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_test.txt"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f[:-2] + f[-1:], "expected 207 fields"),
        (lambda f: f[:5] + ["abc"] + f[6:], "non-numeric"),
        (lambda f: f[:200] + ["2"] + f[201:], "flags must be 0 or 1"),
        (lambda f: f[:196] + [f[198], f[197], f[196], f[199]] + f[200:], "empty box"),
    ],
)
def test_malformed_wflw_line_names_file_and_line(sample_root, tmp_path, mutate, message):
    root, ann = _copy_sample(sample_root, tmp_path)
    lines = ann.read_text().splitlines()
    lines[2] = " ".join(mutate(lines[2].split()))
    ann.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"{ann}:3: .*{message}"):
        read_wflw(root, "test")


def test_missing_images_are_listed(sample_root, tmp_path):
    root, ann = _copy_sample(sample_root, tmp_path)
    recs = read_wflw(root, "test")
    gone = {recs[0].image_path, recs[-1].image_path}
    for p in gone:
        p.unlink()
    with pytest.raises(MissingImagesError) as err:
        read_wflw(root, "test")
    assert set(err.value.missing) == gone
    assert all(str(p) in str(err.value) for p in gone)
    assert len(read_wflw(root, "test", check_images=False)) == 20


def test_missing_annotation_and_bad_split(tmp_path):
    with pytest.raises(DataError, match="annotation file not found"):
        read_wflw(tmp_path, "test")
    with pytest.raises(DataError, match="unknown WFLW split"):
        read_wflw(tmp_path, "val")
    with pytest.raises(DataError, match="no .pts files"):
        read_300w(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(DataError, match="no faces"):
        read_wflw_file(empty, tmp_path)


def _pts(points, header=True):
    body = "\n".join(f"{x} {y}" for x, y in points)
    return f"version: 1\nn_points: {len(points)}\n{{\n{body}\n}}\n" if header else body + "\n"


def test_pts_with_and_without_header(tmp_path):
    pts = np.arange(136, dtype=float).reshape(68, 2) + 1
    a, b = tmp_path / "a.pts", tmp_path / "b.pts"
    a.write_text(_pts(pts))
    b.write_text(_pts(pts, header=False))
    np.testing.assert_allclose(read_pts(a), pts - 1)  # 1-based -> 0-based
    np.testing.assert_allclose(read_pts(b), pts - 1)


def test_broken_pts(tmp_path):
    pts = np.ones((68, 2))
    bad = tmp_path / "bad.pts"
    text = _pts(pts).splitlines()
    text[10] = "1.0 oops"
    bad.write_text("\n".join(text))
    with pytest.raises(DataError, match=rf"{bad}:11: expected 'x y'"):
        read_pts(bad)
    bad.write_text(_pts(pts[:60]))
    with pytest.raises(DataError, match="expected 68 points"):
        read_pts(bad)
    bad.write_text(_pts(pts).replace("n_points: 68", "n_points: 67"))
    with pytest.raises(DataError, match="header says 67"):
        read_pts(bad)


def test_300w_missing_image_listed(tmp_path):
    (tmp_path / "x.pts").write_text(_pts(np.ones((68, 2)) * 5))
    with pytest.raises(MissingImagesError, match="x.jpg"):
        read_300w(tmp_path)


def test_repeat_hard_repeats_only_faces_with_an_attribute(sample_root):
    import dataclasses

    from lmk.data.split import repeat_hard

    faces = read_wflw(sample_root, "test")
    # the sample faces all carry an attribute: clear the flags of every other one
    faces = [
        f if i % 2 else dataclasses.replace(f, attributes=dict.fromkeys(f.attributes, 0)) for i, f in enumerate(faces)
    ]
    hard = [f for f in faces if any(f.attributes.values())]
    assert 0 < len(hard) < len(faces)
    out = repeat_hard(faces, 3)
    assert len(out) == len(faces) + 2 * len(hard)
    assert [sum(o is f for o in out) for f in faces] == [3 if any(f.attributes.values()) else 1 for f in faces]
    assert all(a is b for a, b in zip(repeat_hard(faces, 1), faces, strict=True))
    with pytest.raises(ValueError, match="hard_repeat"):
        repeat_hard(faces, 0)
