"""Guard against MNN's int8 fault on ARM i8mm CPUs for layers whose output count is not a
multiple of 8.

MNN 3.6.1's int8 kernels for i8mm (ARMv8.6, most phones since 2022) compute the leftover output
channels of a matrix-multiply layer wrongly when the output count is not a multiple of 8: a
196-output landmark head (98 x 2) corrupts outputs 192-195, the two pupils. That holds for
fully-connected layers and for convolutions run as one (a 1 x 1 conv on a small map: the PIP head's
98-channel score and 196-channel offset convs at 7 x 7). The guard pads every such layer (ONNX Gemm,
MatMul by a constant matrix, and non-depthwise Conv) with zero rows / filters up to a multiple of 8
and slices the real outputs back inside the graph, so the kernel has no leftover channels. The
result is the same function (the padded outputs are exact zeros and are sliced away).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from lmk.files import atomic_write_bytes

MULTIPLE = 8


def _pad_rows(arr: np.ndarray, axis: int, target: int) -> np.ndarray:
    pad = [(0, 0)] * arr.ndim
    pad[axis] = (0, target - arr.shape[axis])
    return np.pad(arr, pad)


def pad_fc_outputs(proto: onnx.ModelProto, multiple: int = MULTIPLE) -> list[dict]:
    """Pad in place; returns one {"node", "outputs", "padded_to"} per layer changed."""
    graph = proto.graph
    inits = {t.name: t for t in graph.initializer}
    changed: list[dict] = []
    new_nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        new_nodes.append(node)
        if node.op_type not in ("Gemm", "MatMul", "Conv") or len(node.input) < 2 or node.input[1] not in inits:
            continue
        weight = numpy_helper.to_array(inits[node.input[1]])
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv":
            if weight.ndim != 4 or attrs.get("group", 1) != 1:
                continue  # depthwise / grouped convs do not run as one matrix multiply
            out_axis, slice_axis = 0, 1  # filters (O, I, kH, kW); output channels are NCHW's axis 1
        else:
            if weight.ndim != 2 or (node.op_type == "Gemm" and attrs.get("transA", 0)):
                continue
            out_axis = 0 if node.op_type == "Gemm" and attrs.get("transB", 0) else 1
            slice_axis = -1
        n = weight.shape[out_axis]
        if n % multiple == 0:
            continue
        target = -(-n // multiple) * multiple
        name = node.name or node.output[0]
        w_name = f"{node.input[1]}__pad{target}"
        graph.initializer.append(numpy_helper.from_array(_pad_rows(weight, out_axis, target), w_name))
        node.input[1] = w_name
        if node.op_type in ("Gemm", "Conv") and len(node.input) > 2 and node.input[2] in inits:
            bias = numpy_helper.to_array(inits[node.input[2]])
            if bias.ndim >= 1 and bias.shape[-1] == n:
                b_name = f"{node.input[2]}__pad{target}"
                graph.initializer.append(numpy_helper.from_array(_pad_rows(bias, bias.ndim - 1, target), b_name))
                node.input[2] = b_name
            elif bias.size != 1:
                raise ValueError(f"{name}: bias of shape {bias.shape} cannot be padded")
        real_out = node.output[0]
        padded = f"{real_out}__pad{target}"
        node.output[0] = padded
        consts = {}
        for key, value in (("starts", 0), ("ends", n), ("axes", slice_axis)):
            consts[key] = f"{padded}__{key}"
            graph.initializer.append(numpy_helper.from_array(np.array([value], dtype=np.int64), consts[key]))
        new_nodes.append(
            helper.make_node(
                "Slice",
                [padded, consts["starts"], consts["ends"], consts["axes"]],
                [real_out],
                name=f"{name}__slice{n}",
            )
        )
        changed.append({"node": name, "outputs": n, "padded_to": target})
    del graph.node[:]
    graph.node.extend(new_nodes)
    return changed


def guard_onnx(src: Path, dst: Path, multiple: int = MULTIPLE) -> list[dict]:
    """Write a guarded copy of `src` to `dst` (unchanged layers stay bit-identical) and return what
    changed; when no layer needs the guard, nothing is written and the list is empty."""
    proto = onnx.load(str(src))
    changed = pad_fc_outputs(proto, multiple)
    if changed:
        onnx.checker.check_model(proto)
        atomic_write_bytes(Path(dst), proto.SerializeToString())
    return changed
