"""ARM checks under qemu: the emulated environment, the i8mm int8 fault and its guard, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from lmk.cli import app


def _fc_model(transposed: bool, op: str = "Gemm") -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(10, 12) if transposed else (12, 10)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w")]
    inputs = ["x", "w"]
    attrs = {}
    if op == "Gemm":
        inits.append(numpy_helper.from_array(rng.normal(size=10).astype(np.float32), "b"))
        inputs.append("b")
        attrs = {"transB": int(transposed)}
    node = helper.make_node(op, inputs, ["y"], name="fc", **attrs)
    graph = helper.make_graph(
        [node, helper.make_node("Relu", ["y"], ["z"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 12])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [3, 10])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("op,transposed", [("Gemm", True), ("Gemm", False), ("MatMul", False)])
def test_fc_guard_pads_to_multiple_of_8_and_keeps_the_function(op, transposed):
    from lmk.quantize.fc_guard import pad_fc_outputs

    proto = _fc_model(transposed, op)
    x = np.random.default_rng(1).normal(size=(3, 12)).astype(np.float32)
    before = ort.InferenceSession(proto.SerializeToString()).run(None, {"x": x})[0]
    changed = pad_fc_outputs(proto)
    onnx.checker.check_model(proto)
    assert changed == [{"node": "fc", "outputs": 10, "padded_to": 16}]
    after = ort.InferenceSession(proto.SerializeToString()).run(None, {"x": x})[0]
    np.testing.assert_array_equal(before, after)  # padded rows are exact zeros, sliced away
    assert pad_fc_outputs(proto) == []  # the padded layer (16 outputs) is left alone


def test_guard_pads_convolutions_too_but_not_depthwise_ones():
    """A 1 x 1 conv with 10 filters runs as a matrix multiply on i8mm: padded to 16 and sliced back
    on the channel axis, the same function; a depthwise conv is left alone."""
    from lmk.quantize.fc_guard import pad_fc_outputs

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.normal(size=(10, 6, 1, 1)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.normal(size=10).astype(np.float32), "b"),
        numpy_helper.from_array(rng.normal(size=(10, 1, 3, 3)).astype(np.float32), "dw"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["y"], name="pw"),
        helper.make_node("Conv", ["y", "dw"], ["z"], name="dw", group=10, pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 7, 7])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 10, 7, 7])],
        inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = rng.normal(size=(1, 6, 7, 7)).astype(np.float32)
    before = ort.InferenceSession(proto.SerializeToString()).run(None, {"x": x})[0]
    assert pad_fc_outputs(proto) == [{"node": "pw", "outputs": 10, "padded_to": 16}]
    onnx.checker.check_model(proto)
    after = ort.InferenceSession(proto.SerializeToString()).run(None, {"x": x})[0]
    np.testing.assert_array_equal(before, after)


def _tiny_int8_mnn(folder, guard: bool):
    """A 5-point ResNet-18 @ 64 px with a GAP head: its FC has 10 outputs (not a multiple of 8)."""
    from lmk.artifact import InputSpec, build_meta
    from lmk.export.onnx_export import export_onnx
    from lmk.mnn_tools import convert_mnn
    from lmk.models import ModelSpec, build_model
    from lmk.quantize.fc_guard import guard_onnx
    from lmk.quantize.mnn_quant import quantize_mnn

    torch.manual_seed(0)
    spec = ModelSpec("resnet18", "gap", 5, 64)
    ispec = InputSpec(size=64)
    meta = build_meta(ispec, num_points=5, model=spec.as_dict())
    onnx_path = export_onnx(build_model(spec).eval(), folder / "fc10.onnx", 64, meta)
    if guard:
        assert guard_onnx(onnx_path, folder / "fc10.guarded.onnx")[0]["padded_to"] == 16
        onnx_path = folder / "fc10.guarded.onnx"
    fp32 = convert_mnn(onnx_path, folder / f"fc10.{guard}.mnn", meta)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(16)]
    int8 = quantize_mnn(fp32, folder / f"fc10.{guard}.int8.mnn", crops, ispec)
    x = np.stack([((c / 255.0 - ispec.mean) / ispec.std).transpose(2, 0, 1) for c in crops[:4]])
    return int8, meta, x.astype(np.float32)


def test_i8mm_fault_without_guard_and_gone_with_it(arm_env, tmp_path):
    """MNN 3.6.1 int8 on i8mm (-cpu max) gets FC outputs 8-9 of 10 wrong; a76 (sdot) does not."""
    from lmk.arm.check import run_emulated
    from lmk.runtime.mnn_runner import load_mnn_runner

    diffs = {}
    for guard in (False, True):
        int8, meta, x = _tiny_int8_mnn(tmp_path, guard)
        x86 = load_mnn_runner(int8, meta=meta)[0](x).reshape(len(x), -1)
        for cpu in ("cortex-a76", "max"):
            out = run_emulated(arm_env, cpu, int8, meta, x, "normal").reshape(len(x), -1)
            diffs[guard, cpu] = np.abs(out - x86).max(axis=0)  # per output channel
    step = diffs[False, "cortex-a76"].max()  # int8 rounding differences between x86 and ARM kernels
    assert step < 2e-3
    assert diffs[False, "max"][:8].max() <= step  # channels 0-7 are right...
    assert diffs[False, "max"][8:].max() > 5 * step  # ...the leftover channels 8-9 are not
    assert diffs[True, "max"].max() <= step  # guarded: i8mm agrees with x86 like a76 does
    assert diffs[True, "cortex-a76"].max() <= step


def test_check_arm_cli_records_cpus_in_sidecar(arm_env, tiny_checkpoint, sample_root, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["export", "--checkpoint", str(tiny_checkpoint), "--to", "mnn", "--data", str(sample_root)]
        + ["--out", str(tmp_path)],
    )
    assert res.exit_code == 0, res.output
    mnn = tmp_path / "model.mnn"
    report = tmp_path / "arm.json"
    res = runner.invoke(
        app,
        ["check-arm", str(mnn), "--data", str(sample_root), "--faces", "6", "--cpus", "cortex-a53,max"]
        + ["--json", str(report)],
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(report.read_text())
    assert rep["faces"] == 6 and set(rep["cpus"]) == {"cortex-a53", "max"} and rep["ok"]
    for row in rep["cpus"].values():
        assert row["max_abs_px"] < 0.01  # fp32: float rounding only
        assert abs(row["delta_nme"]) < 0.001
    side = json.loads((tmp_path / "model.mnn.json").read_text())
    assert set(side["arm_verified"]["cpus"]) == {"cortex-a53", "max"} and side["arm_verified"]["ok"]


def test_check_arm_rejects_other_files(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"x")
    res = CliRunner().invoke(app, ["check-arm", str(bad)])
    assert res.exit_code == 2


def test_unavailable_emulator_is_a_clear_error(tmp_path, monkeypatch):
    from lmk.arm import emulator

    monkeypatch.setattr(emulator.shutil, "which", lambda tool: None)
    with pytest.raises(emulator.EmulatorError, match="apt-get"):
        emulator.ensure_env(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


SHIPPED_INT8 = Path(__file__).resolve().parents[1] / "models" / "wflw98_lite2_pip.int8.mnn"


def test_shipped_int8_mnn_was_verified_on_three_arm_cpus():
    """The sidecar of the shipped int8 .mnn records the ARM check that benchmarks/artifacts.py ran."""
    from lmk.files import sha256_file
    from lmk.weights import default_checkpoint

    side = json.loads(Path(str(SHIPPED_INT8) + ".json").read_text())
    assert side["precision"] == "int8" and side["runtime"] == "mnn"
    assert side["source"]["checkpoint_sha256"] == sha256_file(default_checkpoint())
    arm = side["arm_verified"]
    assert set(arm["cpus"]) == {"cortex-a53", "cortex-a76", "max"} and arm["faces"] >= 30
    assert all(abs(r["delta_nme"]) <= 0.02 for r in arm["cpus"].values())  # the bar
    assert arm["arm_spread_px"] == 0.0  # the three ARM CPUs give identical outputs


def test_shipped_int8_mnn_agrees_on_i8mm_and_a76(arm_env, sample_root):
    """All 98 points, the pupils included, agree with x86 on a76 and on i8mm (faces of the sample):
    within the check's per-point bar (1 % of the crop side; the i8mm FC fault moves a pupil > 100 px).
    The ΔNME bar (0.02) is a statement about >= 30 faces and is asserted on the sidecar's record
    above: on 8 faces, int8 rounding that moves a few points by ~1 px shifts the mean NME by a few
    hundredths (the Lite0 model shipped before: +0.03 on these 8 faces; the Lite2 one: +0.0003 on these 8,
    +0.015 on 32 test faces, +0.006 on all 161)."""
    from lmk.arm.check import check_arm

    rep = check_arm(SHIPPED_INT8, sample_root, arm_env, cpus=("cortex-a76", "max"), faces=8)
    for cpu, row in rep["cpus"].items():
        assert row["max_abs_px"] <= rep["thresholds"]["max_abs_px"], (cpu, row)
    assert rep["arm_spread_px"] < 0.05  # the two ARM CPUs agree with each other
