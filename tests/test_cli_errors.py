"""Bad input: one line on stderr naming the file, exit 2, nothing half-written, before any work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def lmk(*args, cwd=None):
    """`lmk ARGS` in a real process (stderr is what a user sees; native output included)."""
    return subprocess.run([sys.executable, "-m", "lmk.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def assert_one_line_error(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("using the built-in")]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture(scope="module")
def bad_mnn(tmp_path_factory):
    """Random bytes, and the first 100 kB of a real .mnn (a broken download)."""
    from pathlib import Path

    folder = tmp_path_factory.mktemp("bad")
    rnd = folder / "random.mnn"
    rnd.write_bytes(os.urandom(4096))
    real = Path(__file__).resolve().parents[1] / "models" / "wflw98_lite2_pip.int8.mnn"
    cut = folder / "truncated.mnn"
    cut.write_bytes(real.read_bytes()[:100_000])
    return rnd, cut


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("command", ["predict", "eval", "bench", "check-arm"])
def test_a_broken_mnn_file_is_one_clear_line(bad_mnn, sample_root, command, which):
    model = bad_mnn[which]
    image = sorted((sample_root / "WFLW_images").rglob("*.jpg"))[0]
    args = {
        "predict": ["predict", image, "--checkpoint", model],
        "eval": ["eval", "--checkpoint", model],
        "bench": ["bench", model],
        "check-arm": ["check-arm", model],
    }[command]
    assert_one_line_error(lmk(*args), str(model), "not a readable MNN model")


def test_out_or_draw_naming_a_file_and_unwritable_folders(sample_root, tmp_path):
    afile = tmp_path / "taken"
    afile.write_text("x")
    image = sorted((sample_root / "WFLW_images").rglob("*.jpg"))[0]
    assert_one_line_error(lmk("predict", image, "--draw", afile), str(afile), "--draw")
    for command in ("bench", "pipeline", "export", "quantize"):
        assert_one_line_error(lmk(command, "--out", afile), str(afile), "--out")
    assert afile.read_text() == "x"
    # a folder that cannot take files: /proc refuses new entries even to root
    assert_one_line_error(lmk("pipeline", "--out", "/proc/1/lmk-out"), "/proc/1/lmk-out", "not writable")
    if os.geteuid() != 0:  # permission bits bind everyone but root
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        assert_one_line_error(lmk("bench", "--out", ro / "x"), "not writable")


def test_an_empty_calib_folder_fails_before_the_export(tmp_path):
    empty = tmp_path / "calib"
    empty.mkdir()
    out = tmp_path / "q"
    proc = lmk("quantize", "--calib", empty, "--out", out)
    assert_one_line_error(proc, str(empty), "no calibration images")
    assert not out.exists()  # nothing was exported, not even the folder


def test_usage_errors_are_one_line_too():
    """What typer refuses itself (an unknown choice, a word for a number) reads like lmk's errors."""
    assert_one_line_error(lmk("quantize", "--runtime", "tflite"), "--runtime", "tflite")
    assert_one_line_error(lmk("export", "--to", "tflite"), "--to", "tflite")
    assert_one_line_error(lmk("eval", "--split", "dev"), "--split", "dev")
    assert_one_line_error(lmk("bench", "--threads", "two"), "--threads")
    assert_one_line_error(lmk("pipeline", "--no-such-option"), "--no-such-option")


def test_threads_and_runs_are_checked():
    assert_one_line_error(lmk("bench", "--threads", "-1"), "--threads")
    assert_one_line_error(lmk("bench", "--runs", "0"), "--runs")


def test_a_model_file_where_a_checkpoint_is_needed(tmp_path):
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"not read")
    for command in ("export", "pipeline"):
        assert_one_line_error(lmk(command, "--checkpoint", onnx), str(onnx), ".pt checkpoint", "ONNX")
    assert_one_line_error(lmk("quantize", "--runtime", "torch", "--checkpoint", onnx), str(onnx), ".pt checkpoint")
    # and the other way round: ORT/MNN int8 start from the exported ONNX, named by --from
    assert_one_line_error(
        lmk("quantize", "--runtime", "mnn", "--from", tmp_path / "none.onnx"), "none.onnx", "not found"
    )
    assert_one_line_error(lmk("train", "--teacher", onnx, "--out", tmp_path / "t"), str(onnx), "--teacher")


def test_predict_box_outside_the_image(sample_root):
    import cv2

    image = sorted((sample_root / "WFLW_images").rglob("*.jpg"))[0]
    h, w = cv2.imread(str(image)).shape[:2]
    outside = lmk("predict", image, "--box", f"{w + 10},{h + 10},{w + 100},{h + 100}")
    assert_one_line_error(outside, str(image), "outside")
    part = lmk("predict", image, "--box", f"{w - 50},{h - 50},{w + 50},{h + 50}")
    assert part.returncode == 0 and "warning:" in part.stderr and "75 % outside" in part.stderr


def test_defaults_work_from_any_folder_and_say_they_use_the_sample(tmp_path):
    proc = lmk("eval", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "built-in 20-face sample" in proc.stderr and "not results" in proc.stderr
    assert "NME" in proc.stdout
