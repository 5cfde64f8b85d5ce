import numpy as np
import pytest

from lmk.metrics import auc, ced, failure_rate, nme_per_face, score, score_subsets


def face(d=10.0, n=98, a=60, b=72):
    gt = np.zeros((n, 2))
    gt[:, 0] = np.arange(n)
    gt[a] = (0.0, 0.0)
    gt[b] = (d, 0.0)
    return gt


def test_nme_hand_computed():
    gt = np.stack([face(), face()])
    pred = gt.copy()
    pred[1] += (3.0, 4.0)  # every point 5 px off, inter-ocular 10 -> 0.5
    nme_i = nme_per_face(pred, gt, "wflw98")
    np.testing.assert_allclose(nme_i, [0.0, 0.5])
    s = score(nme_i)
    assert s.nme == pytest.approx(25.0)
    assert s.fr == pytest.approx(50.0)
    assert s.auc == pytest.approx(0.5, abs=1e-9)  # CED is 0.5 on the whole of [0, 0.1]


def test_nme_uses_300w_outer_corners():
    gt = face(d=20.0, n=68, a=36, b=45)[None]
    pred = gt + (0.0, 2.0)
    np.testing.assert_allclose(nme_per_face(pred, gt, "300w68"), [0.1])


def test_single_point_error_is_averaged_over_points():
    gt = face()[None]
    pred = gt.copy()
    pred[0, 5] += (98.0, 0.0)  # one point off by 98 px -> mean 1 px -> NME 0.1
    np.testing.assert_allclose(nme_per_face(pred, gt, "wflw98"), [0.1])


def test_fr_threshold_is_strict():
    assert failure_rate(np.array([0.1, 0.1000001, 0.05])) == pytest.approx(1 / 3)


def test_ced_and_auc_step():
    x = np.linspace(0, 0.1, 1001)
    c = ced(np.array([0.05]), x)
    assert c[499] == 0 and c[500] == 1  # x = 0.05 counts (<=)
    assert auc(np.array([0.05])) == pytest.approx(0.5, abs=1e-3)
    assert auc(np.array([0.0])) == pytest.approx(1.0)
    assert auc(np.array([0.2])) == 0.0


def test_subsets():
    nme_i = np.array([0.02, 0.04, 0.2])
    attrs = [{"pose": 1, "blur": 0}, {"pose": 0, "blur": 1}, {"pose": 1, "blur": 1}]
    out = score_subsets(nme_i, attrs)
    assert out["all"].faces == 3
    assert out["pose"].nme == pytest.approx(11.0)
    assert out["blur"].fr == pytest.approx(50.0)
    assert "occlusion" not in out
    assert "hard" not in out  # every face carries an attribute: 'hard' would repeat 'all'


def test_hard_subset_when_mixed():
    nme_i = np.array([0.02, 0.06, 0.04])
    out = score_subsets(nme_i, [{"pose": 0}, {"blur": 1}, {"pose": 1}])
    assert out["hard"].faces == 2 and out["hard"].nme == pytest.approx(5.0)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        nme_per_face(np.zeros((1, 98, 2)), np.zeros((1, 68, 2)), "wflw98")


def test_metrics_block_for_model_files():
    """The one metrics block every model file carries: values, face count, delta to a reference."""
    s = score(np.array([0.05, 0.2]))
    m = s.as_metrics("wflw-mini/test", reference_nme=10.0)
    assert m["dataset"] == "wflw-mini/test" and m["faces"] == 2 and m["flip_test"] is False
    assert m["nme"] == pytest.approx(12.5) and m["fr"] == pytest.approx(50.0)
    assert m["delta_nme"] == pytest.approx(2.5)
    assert m["units"] == {"nme": "%", "fr": "%", "auc": "0..1"}
    assert "delta_nme" not in s.as_metrics("x")
