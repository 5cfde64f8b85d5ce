"""`lmk export`: checkpoint -> ONNX (-> MNN), each file with metadata inside and as a sidecar, and
a parity check against the PyTorch model on real crops after every step.

An fp32 file whose max abs difference exceeds 1e-3 of the crop side is deleted and the export
fails: a silent wrong export is the worst outcome.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from lmk.checkpoint import load_model
from lmk.data.readers import read_wflw
from lmk.export.mnn_convert import convert_to_mnn
from lmk.export.onnx_export import export_onnx, rewrite_onnx_meta
from lmk.export.parity import ParityError, crops, measure
from lmk.meta import input_spec_from_meta, sha256_file, sidecar_path, write_json
from lmk.models.points import LAYOUTS, points_meta, with_points
from lmk.runtime.mnn_runner import load_mnn_runner
from lmk.runtime.ort_runner import load_ort_runner
from lmk.runtime.torch_runner import torch_runner

FP32_TOLERANCE = 1e-3  # fraction of the crop side
PARITY_CROPS = 16


@dataclass
class ExportReport:
    reference: dict
    files: dict[str, dict] = field(default_factory=dict)  # path -> metrics


def artifact_name(checkpoint: Path, points: int = 98) -> str:
    """The files' stem: the checkpoint's, with `_68pt` for 68-point files."""
    return Path(checkpoint).stem + ("" if points == 98 else f"_{points}pt")


def artifact_meta(base: dict, precision: str, runtime: str, sha: str) -> dict:
    meta = copy.deepcopy(base)
    meta.update(precision=precision, runtime=runtime)
    meta["source"]["checkpoint_sha256"] = sha
    meta["metrics"] = {}
    return meta


def finish(path: Path, meta: dict, runner, precision: str, ctx: dict, report: ExportReport, embed) -> None:
    """Measure the written file, fail loudly on fp32 parity loss, else store the measured metrics
    inside the file (`embed(meta)` rewrites it atomically) and in its sidecar."""
    p = measure(runner, ctx["records"], ctx["spec"], ctx["ref_out"], ctx["inputs"])
    if precision == "fp32" and p.max_abs_diff > FP32_TOLERANCE:
        path.unlink(missing_ok=True)
        raise ParityError(
            f"{path}: fp32 parity broken: max abs diff {p.max_abs_diff:.2e} of the crop side "
            f"(limit {FP32_TOLERANCE:.0e}); file removed"
        )
    meta["metrics"] = p.as_metrics(ctx["dataset"], ctx["ref"].scores.nme)
    embed(meta)
    write_json(sidecar_path(path), meta)
    report.files[str(path)] = meta["metrics"]


def export_checkpoint(
    checkpoint: Path,
    to: str,
    out_dir: Path,
    data: Path,
    split: str = "test",
    precisions: tuple[str, ...] = ("fp32",),
    name: str | None = None,
    points: int = 98,
) -> ExportReport:
    """Write NAME.onnx (always) and NAME[.fp16|.w8].mnn (when to == 'mnn') into out_dir. `points`
    68: the graph outputs 300-W's 68 points (mapped inside it), checked against the 98-point
    model's output mapped in numpy."""
    if to not in ("onnx", "mnn"):
        raise ValueError(f"--to must be onnx or mnn, not {to!r}")
    for prec in precisions:
        if prec not in ("fp32", "fp16", "w8"):
            raise ValueError(f"unknown precision {prec!r}; expected fp32, fp16 or w8 (int8: lmk quantize)")
        if to == "onnx" and prec != "fp32":
            raise ValueError("ONNX export is fp32; fp16/w8 are MNN storage options (int8: lmk quantize)")
    model98, blob = load_model(checkpoint)
    model = with_points(model98, points)
    base_meta = points_meta(blob["meta"], points)
    sha = sha256_file(checkpoint)
    spec = input_spec_from_meta(blob["meta"])
    records = read_wflw(data, split)
    inputs = crops(records, spec, PARITY_CROPS)
    torch_run = torch_runner(model)
    ref_out = torch_runner(model98)(inputs)
    if points != 98:  # the reference is the 98-point model, mapped outside any graph
        ref_out = ref_out[:, LAYOUTS[points][1]]
    ctx = {"records": records, "spec": spec, "inputs": inputs, "ref_out": ref_out, "dataset": f"{data.name}/{split}"}
    ctx["ref"] = measure(torch_run, records, spec, ref_out, inputs)
    report = ExportReport(reference=ctx["ref"].as_metrics(ctx["dataset"], ctx["ref"].scores.nme))
    name = name or Path(checkpoint).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / f"{name}.reference.json", {**report.reference, "checkpoint": str(checkpoint)})

    onnx_path = out_dir / f"{name}.onnx"
    meta = artifact_meta(base_meta, "fp32", "ort", sha)
    export_onnx(model, onnx_path, spec["size"], meta)
    finish(
        onnx_path, meta, load_ort_runner(onnx_path)[0], "fp32", ctx, report, lambda m: rewrite_onnx_meta(onnx_path, m)
    )
    if to == "mnn":
        for prec in precisions:
            suffix = "" if prec == "fp32" else f".{prec}"
            mnn_path = out_dir / f"{name}{suffix}.mnn"
            meta = artifact_meta(base_meta, prec, "mnn", sha)
            opts = {"fp16": prec == "fp16", "weight_bits": 8 if prec == "w8" else 0}
            convert_to_mnn(onnx_path, mnn_path, meta, **opts)
            finish(
                mnn_path,
                meta,
                load_mnn_runner(mnn_path)[0],
                prec,
                ctx,
                report,
                lambda m, dst=mnn_path, o=opts: convert_to_mnn(onnx_path, dst, m, **o),
            )
    return report
