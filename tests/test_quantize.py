"""`lmk quantize` for the three runtimes on a tiny model, calibration determinism, bad input."""

import numpy as np
import pytest
from conftest import copy_export
from typer.testing import CliRunner

from lmk.artifact import InputSpec, read_sidecar
from lmk.cli import app
from lmk.quantize.calib import calibration_faces, calibration_inputs
from lmk.quantize.ort_quant import SPEED_SLACK

SPEC = InputSpec(size=64, mean=(0.5,) * 3, std=(0.5,) * 3)


def test_calibration_is_seeded_and_repeatable(sample_root):
    a = calibration_faces("wflw_train", sample_root, 8, seed=0)
    b = calibration_faces("wflw_train", sample_root, 8, seed=0)
    c = calibration_faces("wflw_train", sample_root, 8, seed=1)
    assert [f.record.source for f in a] == [f.record.source for f in b] != [f.record.source for f in c]
    np.testing.assert_array_equal(calibration_inputs(a, SPEC), calibration_inputs(b, SPEC))
    assert calibration_inputs(a, SPEC).shape == (8, 3, 64, 64)


def test_calibration_from_a_folder_of_crops(tmp_path):
    import cv2

    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((64, 64, 3), 40 * i, np.uint8))
    x = calibration_inputs(calibration_faces(str(tmp_path), tmp_path, 10), SPEC)
    assert x.shape == (3, 3, 64, 64)
    np.testing.assert_allclose(x[1, 0], (40 / 255 - 0.5) / 0.5, atol=1e-6)


def test_empty_calibration_source_is_an_error(tmp_path, fp32_export, sample_root):
    res = CliRunner().invoke(
        app,
        [
            "quantize",
            "--from",
            str(fp32_export / "model.onnx"),
            "--calib",
            str(tmp_path),
            "--data",
            str(sample_root),
            "--out",
            str(tmp_path / "q"),
        ],
    )
    assert res.exit_code == 2 and f"{tmp_path}: no calibration images found" in res.output
    assert not list((tmp_path / "q").glob("*int8*"))


@pytest.mark.parametrize("runtime, suffix", [("ort", "onnx"), ("torch", "pt2"), ("mnn", "mnn")])
def test_quantize_runtime(runtime, suffix, tiny_checkpoint, fp32_export, sample_root, tmp_path):
    """ORT and MNN start from the exported fp32 ONNX (written beside it); PT2E from the checkpoint."""
    source = copy_export(fp32_export, tmp_path)
    start = (
        ["--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path)]
        if runtime == "torch"
        else ["--from", str(source)]
    )
    args = ["quantize", "--runtime", runtime, *start, "--data", str(sample_root), "--num-calib", "8"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    path = tmp_path / f"model.int8.{suffix}"
    meta = read_sidecar(path)
    assert meta["precision"] == "int8" and meta["runtime"] == runtime
    m = meta["metrics"]
    assert m["faces"] == 20 and m["calibration"] == {"source": "wflw_train", "faces": 8, "seed": 0}
    assert np.isfinite(m["nme"]) and np.isfinite(m["delta_nme"])  # the ΔNME limits are checked in benchmarks/
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left
    if runtime == "ort":
        tried = m["variants_tried"]
        assert len(tried) == 3 and all(v["ms_per_face"] > 0 for v in tried if not v["over_size_budget"])
        # the kept variant: the most accurate of those within SPEED_SLACK of the fastest, by this rule
        fast = [v for v in tried if not v["over_size_budget"] and not v["too_slow"]]
        assert m["variant"]["name"] == min(fast, key=lambda v: v["selection_nme"])["name"]
        fastest = min(v["ms_per_face"] for v in tried if not v["over_size_budget"])
        assert all(v["too_slow"] == (v["ms_per_face"] > SPEED_SLACK * fastest) for v in tried if "too_slow" in v)
        assert path.stat().st_size < 0.3 * (tmp_path / "model.onnx").stat().st_size
        from lmk.runtime.ort_runner import load_ort_runner

        x = calibration_inputs(calibration_faces("wflw_test", sample_root, 6), SPEC)
        diff = np.abs(load_ort_runner(path)[0](x) - load_ort_runner(tmp_path / "model.onnx")[0](x))
        assert diff.mean() < 0.03, diff.mean()
    if runtime == "mnn":
        from lmk.runtime.mnn_runner import load_mnn_runner, mnn_meta

        assert mnn_meta(path) == meta  # stamped inside too
        # Runs, with its stamped metadata. (Its accuracy is measured on the trained model in
        # benchmarks/artifacts.py: a 3-epoch 64 px model is no probe for MNN's calibration.)
        out = load_mnn_runner(path)[0](calibration_inputs(calibration_faces("wflw_test", sample_root, 2), SPEC))
        assert out.shape == (2, 98, 2) and np.isfinite(out).all()
        assert path.stat().st_size < 0.35 * (tmp_path / "model.mnn").stat().st_size
    if runtime == "torch":
        from lmk.runtime.torch_runner import load_pt2, torch_runner

        module, inner = load_pt2(path)
        assert inner == meta
        assert torch_runner(module)(np.zeros((1, 3, 64, 64), np.float32)).shape == (1, 98, 2)  # static batch 1


def test_broken_int8_file_is_not_written_and_named(fp32_export, sample_root, tmp_path):
    """An int8 file beyond --max-nme-ratio is an error naming it, and it never appears (MNN's KL
    calibration wrote a 173 %-NME EfficientNet-Lite2 file that used to be kept with exit 0). A limit
    no real file meets stands in for a broken quantizer here."""
    source = copy_export(fp32_export, tmp_path)
    args = ["quantize", "--from", str(source), "--runtime", "mnn", "--data", str(sample_root), "--arm", "off"]
    res = CliRunner().invoke(app, [*args, "--num-calib", "8", "--max-nme-ratio", "0"])
    assert res.exit_code == 2, res.output
    assert f"{tmp_path / 'model.int8.mnn'}: int8 NME" in res.output and "not written" in res.output
    assert not list(tmp_path.glob("*int8*")) and (tmp_path / "model.mnn").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_int8_bar_is_relative_to_fp32_and_catches_nan(tmp_path):
    from types import SimpleNamespace

    from lmk.quantize.run import check_not_broken

    job = SimpleNamespace(reference={"nme": 6.0}, max_nme_ratio=1.5)  # limit 1.5x = 9.0
    check_not_broken(tmp_path / "m.int8.onnx", 8.9, job)
    for nme in (9.1, float("nan")):
        with pytest.raises(ValueError, match="broken"):
            check_not_broken(tmp_path / "m.int8.onnx", nme, job)


def test_quantize_refuses_what_is_not_an_fp32_export(fp32_export, sample_root, tmp_path, tiny_checkpoint):
    """--from must be an fp32 .onnx lmk export scored on the same faces; refused before any work."""
    import json
    import shutil

    def run(*args):
        return CliRunner().invoke(app, ["quantize", *args, "--data", str(sample_root)])

    res = run("--from", str(tmp_path / "missing.onnx"))
    assert res.exit_code == 2 and "missing.onnx: fp32 ONNX file not found" in res.output
    res = run("--from", str(tiny_checkpoint))
    assert res.exit_code == 2 and "--from takes the fp32 .onnx" in res.output
    res = run("--checkpoint", str(tiny_checkpoint))  # ort/mnn start from the ONNX
    assert res.exit_code == 2 and "--from" in res.output
    other = copy_export(fp32_export, tmp_path / "other")
    side = json.loads((other.parent / "model.onnx.json").read_text())
    side["metrics"]["dataset"] = "wflw-mini/test"
    (other.parent / "model.onnx.json").write_text(json.dumps(side))
    res = run("--from", str(other))
    assert res.exit_code == 2 and "exported and scored on wflw-mini/test" in res.output
    assert not list(other.parent.glob("*int8*"))
    shutil.rmtree(other.parent)


def test_sensitivity_report_and_mixed_precision(fp32_export, sample_root, tmp_path):
    import json

    res = CliRunner().invoke(
        app,
        [
            "quantize",
            "--from",
            str(copy_export(fp32_export, tmp_path)),
            "--runtime",
            "ort",
            "--data",
            str(sample_root),
            "--num-calib",
            "8",
            "--analyze",
            "--keep-float",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    layers = json.loads((tmp_path / "model.sensitivity.json").read_text())["layers"]
    sqnr = [r["sqnr_own_db"] for r in layers]
    assert len(layers) > 10 and sqnr == sorted(sqnr)  # most sensitive first
    assert "| 1 |" in (tmp_path / "model.sensitivity.md").read_text()
    tried = read_sidecar(tmp_path / "model.int8.onnx")["metrics"]["variants_tried"]
    mixed = [v for v in tried if v["name"] == "per_channel_minmax_keep2"]
    assert len(mixed) == 1 and len(mixed[0]["keep_float"]) == 2 and "selection_nme" in mixed[0]
