"""The shipped model is what the README says it is; `lmk pipeline` runs end to end."""

import json

import pytest
import torch
from typer.testing import CliRunner

from lmk.checkpoint import load_model, read_checkpoint
from lmk.cli import app
from lmk.weights import default_checkpoint


def test_shipped_checkpoint_is_complete():
    path = default_checkpoint()
    assert path.is_file() and path.stat().st_size <= 25 * 2**20
    blob = read_checkpoint(path)
    assert all(v.dtype in (torch.float16, torch.int64) for v in blob["state_dict"].values())
    meta = blob["meta"]
    assert meta["train_command"].startswith("lmk train ")
    assert meta["metrics"]["dataset"] == "wflw-mini/test" and meta["metrics"]["flip_test"] is False
    assert blob["config"]["backbone"] == blob["model"]["backbone"]
    model, _ = load_model(path)
    assert model(torch.zeros(1, 3, 256, 256)).shape == (1, 98, 2)


@pytest.mark.parametrize("name", sorted(p.name for p in default_checkpoint().parent.glob("*.pt")))
def test_every_shipped_checkpoint_loads_and_says_how_it_was_made(name):
    blob = read_checkpoint(default_checkpoint().parent / name)
    assert all(v.dtype in (torch.float16, torch.int64) for v in blob["state_dict"].values())
    meta = blob["meta"]
    assert meta["train_command"].startswith("lmk train ") and meta["scheme"] == name.split("_")[0]
    size = meta["input"]["shape"][-1]
    model, _ = load_model(default_checkpoint().parent / name)
    assert model(torch.zeros(1, 3, size, size)).shape == (1, meta["num_points"], 2)


def test_shipped_metrics_are_reproduced(shared_data, tmp_path):
    """Its stored test NME is what `lmk eval` measures now (to 0.01 NME points)."""
    res = CliRunner().invoke(
        app, ["eval", "--data", str(shared_data / "wflw-mini"), "--json", str(tmp_path / "s.json")]
    )
    assert res.exit_code == 0, res.output
    measured = json.loads((tmp_path / "s.json").read_text())["scores"]["all"]
    stored = read_checkpoint(default_checkpoint())["meta"]["metrics"]
    assert measured["faces"] == 161
    assert measured["nme"] == pytest.approx(stored["nme"], abs=0.01)
    assert measured["auc"] == pytest.approx(stored["auc"], abs=1e-4)


def test_pipeline_end_to_end(tiny_checkpoint, sample_root, tmp_path, arm_env):
    res = CliRunner().invoke(
        app,
        [
            "pipeline",
            "--checkpoint",
            str(tiny_checkpoint),
            "--data",
            str(sample_root),
            "--num-calib",
            "8",
            "--keep-float",
            "1",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    # export once: the fp32 files are written and the PyTorch reference scored a single time, and the
    # three int8 backends start from that ONNX
    log = res.output
    assert log.count("scoring the PyTorch fp32 reference") == 1, log
    assert log.count("exporting ") == 1 and log.count("converting ") == 3, log
    assert log.count("calibration: 8 crops") == 1, log
    rows = json.loads((tmp_path / "summary.json").read_text())["rows"]
    assert len(rows) == 8 and rows[0]["runtime"] == "torch"
    assert {r["precision"] for r in rows[1:]} == {"fp32", "fp16", "w8", "int8"}
    assert all(r["nme"] > 0 for r in rows)
    assert "ORT int8 (QDQ)" in (tmp_path / "summary.md").read_text()
    # the int8 .mnn: its 196-output FC padded for i8mm, and verified on the three emulated CPUs
    side = json.loads((tmp_path / "model.int8.mnn.json").read_text())
    assert side["metrics"]["fc_guard"] == [{"node": "/head/fc/Gemm", "outputs": 196, "padded_to": 200}]
    assert set(side["arm_verified"]["cpus"]) == {"cortex-a53", "cortex-a76", "max"}
    assert side["arm_verified"]["ok"], side["arm_verified"]
    assert "ok a53/a76/i8mm" in (tmp_path / "summary.md").read_text()

    # lmk bench on the pipeline's folder: every file (and the checkpoint its summary names) scored on
    # the same faces as the pipeline scored them, and timed
    bench_out = tmp_path / "bench"
    args = ["bench", "--from", str(tmp_path), "--data", str(sample_root), "--runs", "3", "--out", str(bench_out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    bench = json.loads((bench_out / "bench.json").read_text())["rows"]
    by_path = {r["path"]: r for r in rows}
    assert sorted(b["file"] for b in bench) == sorted(by_path)
    for b in bench:
        assert b["nme"] == pytest.approx(by_path[b["file"]]["nme"], abs=0.01), b["file"]
        assert b["median_ms"] > 0 and b["faces"] == 20
    assert (bench_out / "bench.png").stat().st_size > 1000 and "torch (eager)" in (bench_out / "bench.md").read_text()
    # the int8 PT2E program through torch.compile (x86 int8 kernels): the same accuracy
    res = CliRunner().invoke(app, [*args, "--runtime", "torch", "--compile", "--out", str(tmp_path / "compiled")])
    assert res.exit_code == 0, res.output
    compiled = {b["file"]: b for b in json.loads((tmp_path / "compiled" / "bench.json").read_text())["rows"]}
    pt2 = str(tmp_path / "model.int8.pt2")
    assert compiled[pt2]["compiled"] and compiled[pt2]["nme"] == pytest.approx(by_path[pt2]["nme"], abs=0.05)


def test_bench_refuses_bad_input(tmp_path, sample_root):
    res = CliRunner().invoke(app, ["bench", "--from", str(tmp_path / "none"), "--data", str(sample_root)])
    assert res.exit_code == 2 and "run `lmk pipeline` first" in res.output
    res = CliRunner().invoke(app, ["bench", "--runtime", "tflite", "--from", str(tmp_path)])
    assert res.exit_code == 2 and "choose from torch, ort, mnn" in res.output
    (tmp_path / "model.tflite").write_bytes(b"x")
    res = CliRunner().invoke(app, ["bench", str(tmp_path / "model.tflite")])
    assert res.exit_code == 2 and "not a model file" in res.output
