"""Per-layer int8 sensitivity (ONNX Runtime's qdq_loss_debug) and the mixed-precision choice it feeds.

For every quantized activation: the SQNR of quantizing that tensor alone (`qdq_err`) and the SQNR
of the int8 model's tensor against the float model's (`xmodel_err`, the accumulated error). The
layers with the lowest own SQNR are the candidates to keep in float.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization.qdq_loss_debug import (
    collect_activations,
    compute_activation_error,
    create_activation_matching,
    create_weight_matching,
    modify_model_output_intermediate_tensors,
)

from lmk.quantize.ort_quant import CropReader


def sqnr_db(x, y) -> float:
    """Signal-to-quantization-noise ratio in dB (ORT's own helper fails on scalar weights)."""
    x, y = np.asarray(x, np.float64).ravel(), np.asarray(y, np.float64).ravel()
    noise = np.sum((x - y) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(x**2) / noise))


def producers(model_path: Path) -> dict[str, tuple[str, str]]:
    """tensor name -> (node name, op type) of the node that writes it."""
    out = {}
    for node in onnx.load(str(model_path)).graph.node:
        for t in node.output:
            out[t] = (node.name, node.op_type)
    return out


def sensitivity(float_path: Path, qdq_path: Path, inputs: np.ndarray) -> list[dict]:
    """Rows sorted from most to least sensitive (lowest SQNR first)."""
    with tempfile.TemporaryDirectory(prefix="lmk-qdq-debug-") as work:
        f_aug, q_aug = Path(work) / "float.onnx", Path(work) / "qdq.onnx"
        modify_model_output_intermediate_tensors(str(float_path), str(f_aug))
        modify_model_output_intermediate_tensors(str(qdq_path), str(q_aug))
        f_act = collect_activations(str(f_aug), CropReader(inputs))
        q_act = collect_activations(str(q_aug), CropReader(inputs))
    errors = compute_activation_error(create_activation_matching(q_act, f_act))
    weights = {
        name: sqnr_db(m["float"], m["dequantized"])
        for name, m in create_weight_matching(str(float_path), str(qdq_path)).items()
    }
    made_by = producers(float_path)
    weight_of = {}
    for node in onnx.load(str(float_path)).graph.node:
        for t in node.input[1:2]:
            if t in weights:
                weight_of[node.name] = weights[t]
    rows = []
    for tensor, err in errors.items():
        node, op = made_by.get(tensor, ("", ""))
        rows.append(
            {
                "tensor": tensor,
                "node": node,
                "op": op,
                "sqnr_own_db": float(err["qdq_err"]),
                "sqnr_vs_float_db": float(err.get("xmodel_err", float("nan"))),
                "weight_sqnr_db": weight_of.get(node),
            }
        )
    return sorted(rows, key=lambda r: r["sqnr_own_db"])


def worst_nodes(rows: list[dict], k: int, ops: tuple[str, ...] = ("Conv", "Gemm", "MatMul")) -> list[str]:
    """The k most sensitive compute nodes (the ones worth keeping in float)."""
    return [r["node"] for r in rows if r["op"] in ops and r["node"]][:k]


def report_markdown(rows: list[dict], top: int = 15, ops: tuple[str, ...] = ("Conv", "Gemm", "MatMul")) -> str:
    """The most sensitive compute layers (all tensors are in the JSON)."""
    rows = [r for r in rows if r["op"] in ops]
    lines = ["| # | node | op | own SQNR dB | vs float dB | weight SQNR dB |", "|---|---|---|---|---|---|"]
    for i, r in enumerate(rows[:top], 1):
        w = "" if r["weight_sqnr_db"] is None else f"{r['weight_sqnr_db']:.1f}"
        lines.append(
            f"| {i} | `{r['node']}` | {r['op']} | {r['sqnr_own_db']:.1f} | {r['sqnr_vs_float_db']:.1f} | {w} |"
        )
    return "\n".join(lines) + "\n"
