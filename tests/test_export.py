"""`lmk export`: files, metadata in all three formats, parity enforcement, bad input."""

import json

import numpy as np
import onnx
import pytest
import torch
from typer.testing import CliRunner

from lmk.artifact import read_sidecar
from lmk.checkpoint import read_checkpoint
from lmk.cli import app
from lmk.export.onnx_export import get_onnx_meta
from lmk.mnn_tools import ConversionError, convert_mnn
from lmk.runtime.mnn_runner import mnn_meta


@pytest.fixture(scope="module")
def exported(tiny_checkpoint, sample_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    res = CliRunner().invoke(
        app,
        [
            "export",
            "--checkpoint",
            str(tiny_checkpoint),
            "--to",
            "mnn",
            "--precision",
            "fp32,fp16,w8",
            "--out",
            str(out),
            "--data",
            str(sample_root),
        ],
    )
    assert res.exit_code == 0, res.output
    return out, res.output


def test_files_and_parity(exported):
    out, output = exported
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "model.onnx",
            "model.onnx.json",
            "model.mnn",
            "model.mnn.json",
            "model.fp16.mnn",
            "model.fp16.mnn.json",
            "model.w8.mnn",
            "model.w8.mnn.json",
            "model.reference.json",
        ]
    )
    for name in ("model.onnx", "model.mnn"):
        m = read_sidecar(out / name)["metrics"]
        assert m["max_abs_diff"] < 1e-4 and abs(m["delta_nme"]) < 0.01 and m["faces"] == 20
    assert (out / "model.w8.mnn").stat().st_size < 0.35 * (out / "model.mnn").stat().st_size
    assert "model.fp16.mnn" in output and "dNME" in output


def test_metadata_round_trip_in_all_three_formats(exported, tiny_checkpoint):
    out, _ = exported
    ckpt_meta = read_checkpoint(tiny_checkpoint)["meta"]
    onnx_side, mnn_side = read_sidecar(out / "model.onnx"), read_sidecar(out / "model.mnn")
    assert get_onnx_meta(out / "model.onnx") == onnx_side  # inside == beside, metrics included
    assert mnn_meta(out / "model.mnn") == mnn_side
    for meta in (onnx_side, mnn_side):
        for key in ("format", "scheme", "num_points", "input", "crop", "output"):
            assert meta[key] == ckpt_meta[key]
    assert (onnx_side["runtime"], mnn_side["runtime"], read_sidecar(out / "model.w8.mnn")["precision"]) == (
        "ort",
        "mnn",
        "w8",
    )
    graph = onnx.load(str(out / "model.onnx")).graph
    assert graph.input[0].name == "input" and graph.output[0].name == "landmarks"
    dims = [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    assert dims == [1, 98, 2]


def test_eval_of_exported_files_matches_sidecar(exported, sample_root, tmp_path):
    out, _ = exported
    for name in ("model.onnx", "model.mnn"):
        res = CliRunner().invoke(
            app,
            ["eval", "--checkpoint", str(out / name), "--data", str(sample_root), "--json", str(tmp_path / "s.json")],
        )
        assert res.exit_code == 0, res.output
        nme = json.loads((tmp_path / "s.json").read_text())["scores"]["all"]["nme"]
        assert nme == pytest.approx(read_sidecar(out / name)["metrics"]["nme"], abs=1e-6)


def test_broken_fp32_export_fails_loudly(tiny_checkpoint, sample_root, tmp_path, monkeypatch):
    """A graph that differs from the PyTorch model must not survive the parity check."""
    import lmk.export.exporter as exporter

    real = exporter.export_onnx

    def wrong_export(model, path, size, meta):
        with torch.no_grad():
            model.head.fc.bias += 0.01  # 1 % of the crop side: a silent half-pixel-scale slip
        return real(model, path, size, meta)

    monkeypatch.setattr(exporter, "export_onnx", wrong_export)
    res = CliRunner().invoke(
        app, ["export", "--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path), "--data", str(sample_root)]
    )
    assert res.exit_code == 2 and "fp32 parity broken" in res.output and "not written" in res.output
    assert not (tmp_path / "model.onnx").exists() and not (tmp_path / "model.onnx.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_converter_crash_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    with pytest.raises(ConversionError, match=f"{bad}: MNN mnnconvert failed"):
        convert_mnn(bad, tmp_path / "bad.mnn", {})
    assert list(tmp_path.iterdir()) == [bad]  # nothing half-written


def test_bad_model_files(tmp_path, sample_root):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    res = CliRunner().invoke(app, ["eval", "--checkpoint", str(bad), "--data", str(sample_root)])
    assert res.exit_code == 2 and f"{bad}: ONNX Runtime cannot load" in res.output
    res = CliRunner().invoke(app, ["eval", "--checkpoint", str(tmp_path / "x.mnn"), "--data", str(sample_root)])
    assert res.exit_code == 2 and "x.mnn: MNN file not found" in res.output
    res = CliRunner().invoke(app, ["export", "--checkpoint", str(tmp_path / "x.pt"), "--data", str(sample_root)])
    assert res.exit_code == 2 and "x.pt: checkpoint not found" in res.output


def test_wrong_input_size_is_named(exported):
    from lmk.runtime.ort_runner import load_ort_runner

    run, _ = load_ort_runner(exported[0] / "model.onnx")
    with pytest.raises(ValueError, match="model.onnx: input is 3x32x32, the model takes 3x64x64"):
        run(np.zeros((1, 3, 32, 32), np.float32))


@pytest.mark.parametrize("name", ["model.onnx", "model.mnn"])
def test_predict_with_exported_files_prints_only_json(exported, tiny_checkpoint, sample_root, name):
    """`lmk predict` in a real process: stdout is JSON alone (MNN's native start-up banner goes to
    stderr), and the ONNX / MNN points are the checkpoint's."""
    import subprocess
    import sys

    out, _ = exported
    image = sorted((sample_root / "WFLW_images").rglob("*.jpg"))[0]
    points = {}
    for model in (tiny_checkpoint, out / name):
        proc = subprocess.run(
            [sys.executable, "-m", "lmk.cli", "predict", str(image), "--checkpoint", str(model)],
            capture_output=True,
            text=True,
            check=True,
        )
        points[model] = np.array(json.loads(proc.stdout)["faces"][0]["landmarks"])
    np.testing.assert_allclose(points[out / name], points[tiny_checkpoint], atol=0.05)


BLOCK_TORCH = """
import sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith(("torch.", "torchao")):
            raise ImportError(f"torch is blocked in this test ({name})")
sys.meta_path.insert(0, NoTorch())
from lmk.cli import main
sys.argv = ["lmk", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("command", ["eval", "predict", "bench"])
def test_ort_and_mnn_paths_run_without_torch(exported, sample_root, tmp_path, command):
    """The deployable runtimes never import torch: eval, predict and bench of .onnx and .mnn files
    in a process where importing torch fails."""
    import subprocess
    import sys

    out, _ = exported
    files = [str(out / "model.onnx"), str(out / "model.mnn")]
    image = str(sorted((sample_root / "WFLW_images").rglob("*.jpg"))[0])
    args = {
        "eval": [["eval", "--checkpoint", f, "--data", str(sample_root)] for f in files],
        "predict": [["predict", image, "--checkpoint", f] for f in files],
        "bench": [["bench", *files, "--data", str(sample_root), "--runs", "2", "--out", str(tmp_path)]],
    }[command]
    for a in args:
        proc = subprocess.run([sys.executable, "-c", BLOCK_TORCH, *a], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_numpy_mnn_reference_gives_lmk_predicts_points(exported, sample_root):
    """examples/mnn_reference.py (numpy + MNN, no lmk) against `lmk predict` on the same .mnn,
    image and box, both in real processes: the same points (its
    crop differs from OpenCV's by one grey level on a few pixels at most): within the fp32 export's
    parity bar, 1e-3 of the crop side."""
    import subprocess
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import mnn_reference

    from lmk.data.crop import crop_image, read_rgb, window_from_box
    from lmk.data.readers import read_wflw

    out, _ = exported
    model = out / "model.mnn"
    script = Path(mnn_reference.__file__)
    for rec in read_wflw(sample_root, "test")[:3]:
        image = read_rgb(rec.image_path)
        win = window_from_box(rec.box, 1.2)
        ours, theirs = crop_image(image, win, 96).astype(int), mnn_reference.crop(image, win.cx, win.cy, win.side, 96)
        assert np.abs(ours - theirs).max() <= 1 and (ours != theirs).mean() < 0.01
        box = ",".join(f"{v:g}" for v in rec.box)
        ref = subprocess.run([sys.executable, str(script), str(model), str(rec.image_path), box], capture_output=True,
                             text=True, check=True)  # fmt: skip
        rows = [line.split() for line in ref.stdout.splitlines()]  # MNN's import banner comes first
        points = np.array([[float(v) for v in r] for r in rows if len(r) == 2])
        lmk = subprocess.run([sys.executable, "-m", "lmk.cli", "predict", str(rec.image_path), "--box", box,
                              "--checkpoint", str(model)], capture_output=True, text=True, check=True)  # fmt: skip
        expected = np.array(json.loads(lmk.stdout)["faces"][0]["landmarks"])
        assert points.shape == expected.shape == (98, 2)
        np.testing.assert_allclose(points, expected, atol=1e-3 * win.side)  # the fp32 parity bar


def test_68_point_files_map_inside_the_graph(tiny_checkpoint, sample_root, tmp_path):
    """`lmk export --points 68`: ONNX and MNN files whose graph outputs 300-W's 68 points, equal to
    the 98-point model's output mapped in numpy (PROTOCOL.md), scored as 68 points, and read by
    predict like any file."""
    import subprocess
    import sys

    from lmk.artifact import InputSpec, read_sidecar
    from lmk.checkpoint import load_model
    from lmk.export.parity import crops
    from lmk.runtime import load_runner
    from lmk.runtime.torch_runner import torch_runner
    from lmk.schemes import MAP_98_TO_68

    res = CliRunner().invoke(
        app,
        ["export", "--checkpoint", str(tiny_checkpoint), "--to", "mnn", "--points", "68", "--out", str(tmp_path),
         "--data", str(sample_root)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    model, blob = load_model(tiny_checkpoint)
    spec = InputSpec.from_meta(blob["meta"])
    from lmk.data.readers import read_wflw

    x = crops(read_wflw(sample_root, "test"), spec, 8)
    mapped = torch_runner(model)(x)[:, MAP_98_TO_68]
    for suffix in (".onnx", ".mnn"):
        path = tmp_path / f"{tiny_checkpoint.stem}_68pt{suffix}"
        run, meta = load_runner(path)
        assert meta["scheme"] == "300w68" and meta["num_points"] == 68 and meta["output"]["shape"] == [1, 68, 2]
        out = run(x)
        assert out.shape == (8, 68, 2)
        assert np.abs(out - mapped).max() <= 1e-3  # the fp32 parity bar, against numpy's mapping
        assert read_sidecar(path)["metrics"]["max_abs_diff"] <= 1e-3
    image = sorted((sample_root / "WFLW_images").rglob("*.jpg"))[0]
    proc = subprocess.run([sys.executable, "-m", "lmk.cli", "predict", str(image), "--checkpoint",
                           str(tmp_path / f"{tiny_checkpoint.stem}_68pt.mnn")], capture_output=True, text=True,
                          check=True)  # fmt: skip
    out = json.loads(proc.stdout)
    assert out["scheme"] == "300w68" and np.array(out["faces"][0]["landmarks"]).shape == (68, 2)
