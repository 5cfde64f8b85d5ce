"""The artifact module: one contract type, one file layout, atomic writes, stamping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmk.artifact import FILES, InputSpec, Layout, MetadataError, build_meta, derive_meta, read_sidecar, stamp
from lmk.files import atomic_path


def test_input_spec_round_trips_through_metadata():
    spec = InputSpec(size=96, box="landmark_bbox", enlarge=1.3, mean=(0.5, 0.4, 0.3), std=(0.2, 0.2, 0.2))
    assert InputSpec.from_meta(build_meta(spec)) == spec
    with pytest.raises(MetadataError, match="crop box"):
        InputSpec(box="square")


def test_layout_names_every_file_from_one_place(tmp_path):
    layout = Layout(tmp_path, "wflw98_nano")
    assert layout.onnx == tmp_path / "wflw98_nano.onnx"
    assert layout.mnn("fp16") == tmp_path / "wflw98_nano.fp16.mnn"
    assert layout.int8("ort") == tmp_path / "wflw98_nano.int8.onnx"
    assert layout.reference == tmp_path / "wflw98_nano.reference.json"
    for kind in FILES:  # every file name leads back to its layout and kind
        path = layout.file(kind)
        assert Layout.of(path) == layout and layout.kind_of(path) == kind
    with pytest.raises(MetadataError, match="not a name lmk writes"):
        Layout.of(tmp_path / "model.tflite")


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "x.onnx"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("converter died")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".onnx" and tmp.name.startswith(".")
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [target]


def test_stamp_puts_the_same_metadata_inside_an_onnx_file_and_beside_it(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["landmarks"])],
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("landmarks", TensorProto.FLOAT, [1, 2])],
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    meta = derive_meta(build_meta(InputSpec(size=64)), "fp32", "ort", "abc")
    metrics = {"dataset": "x/test", "nme": 5.0, "delta_nme": 0.0}
    assert stamp(path, meta, metrics)
    inside = json.loads({p.key: p.value for p in onnx.load(str(path)).metadata_props}["lmk"])
    assert inside == read_sidecar(path) == meta and meta["metrics"] == metrics
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["m.onnx", "m.onnx.json"]
