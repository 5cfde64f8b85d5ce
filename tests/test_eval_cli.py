"""`lmk eval` end to end on the in-repo sample: printed scores, JSON, and predictions that
independent code re-scores to the same numbers."""

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from lmk.cli import app


def independent_nme(pred_file, gt_file):
    """Re-score from the two text files alone (PROTOCOL.md: outer eye corners 60 and 72)."""
    pred = {}
    for line in pred_file.read_text().splitlines():
        f = line.split()
        pred.setdefault(f[-1], []).append(np.array(f[:196], float).reshape(98, 2))
    out = []
    for line in gt_file.read_text().splitlines():
        f = line.split()
        gt = np.array(f[:196], float).reshape(98, 2)
        p = pred[f[-1]].pop(0)
        out.append(np.linalg.norm(p - gt, axis=1).mean() / np.linalg.norm(gt[60] - gt[72]))
    return 100 * np.mean(out)


def test_eval_json_predictions_and_rescore(tiny_checkpoint, sample_root, tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "eval",
            "--checkpoint",
            str(tiny_checkpoint),
            "--data",
            str(sample_root),
            "--json",
            str(tmp_path / "s.json"),
            "--save-predictions",
            str(tmp_path / "p.txt"),
            "--ced-plot",
            str(tmp_path / "ced.png"),
        ],
    )
    assert res.exit_code == 0, res.output
    scores = json.loads((tmp_path / "s.json").read_text())["scores"]
    assert scores["all"]["faces"] == 20 and "NME" in res.output
    gt = sample_root / "WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_test.txt"
    assert independent_nme(tmp_path / "p.txt", gt) == pytest.approx(scores["all"]["nme"], abs=1e-4)
    assert f"{scores['all']['nme']:.3f}" in res.output
    assert (tmp_path / "ced.png").stat().st_size > 1000
    # the predictions file is itself a valid WFLW annotation file
    from lmk.data.readers import read_wflw_file

    assert len(read_wflw_file(tmp_path / "p.txt", sample_root / "WFLW_images")) == 20


def test_flip_test_is_reported(tiny_checkpoint, sample_root):
    res = CliRunner().invoke(
        app, ["eval", "--checkpoint", str(tiny_checkpoint), "--data", str(sample_root), "--flip-test"]
    )
    assert res.exit_code == 0 and "flip test on" in res.output


def test_eval_300w_maps_to_68_points(tiny_checkpoint, shared_data, tmp_path):
    src = sorted((shared_data / "300w-mini" / "afw").glob("*.pts"))[:3]
    for p in src:
        shutil.copy(p, tmp_path)
        shutil.copy(p.with_suffix(".jpg"), tmp_path)
    res = CliRunner().invoke(
        app,
        [
            "eval",
            "--checkpoint",
            str(tiny_checkpoint),
            "--data",
            str(tmp_path),
            "--dataset",
            "300w",
            "--json",
            str(tmp_path / "s.json"),
            "--save-predictions",
            str(tmp_path / "p.txt"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "s.json").read_text())["scores"]["all"]["faces"] == 3
    assert len((tmp_path / "p.txt").read_text().split("\n")[0].split()) == 136 + 4 + 6 + 1


def test_bad_inputs_give_one_clear_error(tiny_checkpoint, sample_root, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    res = CliRunner().invoke(app, ["eval", "--checkpoint", str(bad), "--data", str(sample_root)])
    assert res.exit_code == 2 and f"{bad}: not a readable lmk checkpoint" in res.output
    res = CliRunner().invoke(app, ["eval", "--checkpoint", str(tmp_path / "nope.pt"), "--data", str(sample_root)])
    assert res.exit_code == 2 and "checkpoint not found" in res.output
    res = CliRunner().invoke(app, ["eval", "--checkpoint", str(tiny_checkpoint), "--data", str(tmp_path)])
    assert res.exit_code == 2 and "annotation file not found" in res.output


def test_split_val_scores_the_faces_training_held_out(sample_root, tmp_path):
    """`--split val` reads the checkpoint's val_fraction and seed: same faces, same NME as training."""
    import torch
    from conftest import tiny_config

    from lmk.training.engine import fit

    ckpt = fit(tiny_config(tmp_path / "run", val_fraction=0.25, epochs=1), log=lambda *_: None)
    trained = torch.load(ckpt, weights_only=True)["meta"]["metrics"]["val"]
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(sample_root), "--split", "val"]
    res = CliRunner().invoke(app, [*args, "--json", str(tmp_path / "v.json")])
    assert res.exit_code == 0, res.output
    got = json.loads((tmp_path / "v.json").read_text())["scores"]["all"]
    assert got["faces"] == trained["faces"] and 0 < got["faces"] < 20
    assert got["nme"] == pytest.approx(trained["nme"], abs=1e-3)


def test_split_val_without_validation_faces_is_a_clear_error(tiny_checkpoint, sample_root):
    res = CliRunner().invoke(
        app, ["eval", "--checkpoint", str(tiny_checkpoint), "--data", str(sample_root), "--split", "val"]
    )
    assert res.exit_code == 2 and "it has no validation faces" in res.output
