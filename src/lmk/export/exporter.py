"""`lmk export`: checkpoint -> ONNX (-> MNN), each file with metadata inside and as a sidecar, and
a parity check against the PyTorch model on real crops after every step.

Every file is written and measured under a temporary name and renamed only once it has passed:
an fp32 file whose max abs difference exceeds 1e-3 of the crop side is never written and the
export fails (a silent wrong export is the worst outcome).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lmk.artifact import InputSpec, Layout, derive_meta, stamp, with_scores_meta
from lmk.checkpoint import load_model
from lmk.data.readers import read_wflw
from lmk.export.onnx_export import export_onnx
from lmk.export.parity import ParityError, crops, measure
from lmk.files import atomic_path, sha256_file, write_json
from lmk.mnn_tools import convert_mnn
from lmk.models.landmark_model import has_scores
from lmk.models.points import LAYOUTS, check_points, points_meta, with_points
from lmk.runtime.mnn_runner import load_mnn_runner
from lmk.runtime.ort_runner import load_ort_runner
from lmk.runtime.torch_runner import torch_runner

FP32_TOLERANCE = 1e-3  # fraction of the crop side
PARITY_CROPS = 16
PRECISIONS = ("fp32", "fp16", "w8")
TARGETS = ("onnx", "mnn")


@dataclass
class ExportReport:
    reference: dict
    files: dict[str, dict] = field(default_factory=dict)  # path -> metrics


@dataclass
class Parity:
    """What every exported file is measured against: the PyTorch model on the same crops."""

    records: list
    spec: InputSpec
    inputs: np.ndarray
    ref_out: np.ndarray
    dataset: str
    reference_nme: float = 0.0


def measured(path: Path, tmp: Path, meta: dict, runner, precision: str, ctx: Parity, report: ExportReport) -> None:
    """Measure the file written at `tmp` (to become `path`); fail loudly on fp32 parity loss, else
    stamp it with what it measured (inside the file and in the sidecar of `path`)."""
    p = measure(runner, ctx.records, ctx.spec, ctx.ref_out, ctx.inputs)
    if precision == "fp32" and p.max_abs_diff > FP32_TOLERANCE:
        raise ParityError(
            f"{path}: fp32 parity broken: max abs diff {p.max_abs_diff:.2e} of the crop side "
            f"(limit {FP32_TOLERANCE:.0e}); not written"
        )
    metrics = p.as_metrics(ctx.dataset, ctx.reference_nme)
    if not stamp(tmp, meta, metrics, probe=ctx.inputs[:2], sidecar_for=path):
        warnings.warn(f"{path}: metrics only in the sidecar (an MNN rewrite changed the outputs)", stacklevel=2)
    report.files[str(path)] = metrics


def check_request(to: str, precisions: tuple[str, ...]) -> None:
    if to not in TARGETS:
        raise ValueError(f"--to must be onnx or mnn, not {to!r}")
    for prec in precisions:
        if prec not in PRECISIONS:
            raise ValueError(f"unknown precision {prec!r}; expected fp32, fp16 or w8 (int8: lmk quantize)")
        if to == "onnx" and prec != "fp32":
            raise ValueError("ONNX export is fp32; fp16/w8 are MNN storage options (int8: lmk quantize)")


def export_checkpoint(
    checkpoint: Path,
    to: str,
    out_dir: Path,
    data: Path,
    split: str = "test",
    precisions: tuple[str, ...] = ("fp32",),
    name: str | None = None,
    points: int = 0,
    log=print,
) -> ExportReport:
    """Write NAME.onnx (always) and NAME[.fp16|.w8].mnn (when to == 'mnn') into out_dir, each
    measured under a temporary name and renamed only once it has passed. The PyTorch reference is
    scored once (NAME.reference.json). `points` 0: the model's own points; 68 for a 98-point model:
    the graph outputs 300-W's 68 points (mapped inside it), checked against the 98-point model's
    output mapped in numpy."""
    check_request(to, precisions)
    model98, blob = load_model(checkpoint)
    model = with_points(model98, points)
    base_meta = points_meta(blob["meta"], points)
    if has_scores(model):
        base_meta = with_scores_meta(base_meta)
    sha = sha256_file(checkpoint)
    spec = InputSpec.from_meta(blob["meta"])
    records = read_wflw(data, split)
    inputs = crops(records, spec, PARITY_CROPS)
    ref_out = torch_runner(model98)(inputs)
    if check_points(model98.head.num_points, points):  # the reference: the 98 points, mapped outside any graph
        ref_out = ref_out[:, LAYOUTS[points][1]]
    ctx = Parity(records, spec, inputs, ref_out, f"{data.name}/{split}")
    log(f"scoring the PyTorch fp32 reference on {ctx.dataset} ({len(records)} faces)")
    ref = measure(torch_runner(model), records, spec, ref_out, inputs)
    ctx.reference_nme = ref.scores.nme
    report = ExportReport(reference=ref.as_metrics(ctx.dataset, ref.scores.nme))
    layout = Layout(Path(out_dir), name or Path(checkpoint).stem)
    write_json(layout.reference, {**report.reference, "checkpoint": str(checkpoint)})

    log(f"exporting {layout.onnx}")
    meta = derive_meta(base_meta, "fp32", "ort", sha)
    with atomic_path(layout.onnx) as tmp:
        export_onnx(model, tmp, spec.size, meta)
        measured(layout.onnx, tmp, meta, load_ort_runner(tmp)[0], "fp32", ctx, report)
    if to == "mnn":
        for prec in precisions:
            path = layout.mnn(prec)
            log(f"converting {path}")
            meta = derive_meta(base_meta, prec, "mnn", sha)
            with atomic_path(path) as tmp:
                convert_mnn(layout.onnx, tmp, meta, fp16=prec == "fp16", weight_bits=8 if prec == "w8" else 0)
                measured(path, tmp, meta, load_mnn_runner(tmp)[0], prec, ctx, report)
    return report
