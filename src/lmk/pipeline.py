"""The whole deployment path for one checkpoint: export (ONNX, MNN fp32/fp16/w8), int8 for torch,
ORT and MNN (the ORT search includes a mixed-precision variant), and one table of
bytes / NME / FR / AUC / ΔNME built from the sidecars (each holds what that very file scored).
"""

from __future__ import annotations

import json
from pathlib import Path

from lmk.export.exporter import artifact_name, export_checkpoint
from lmk.meta import read_sidecar, write_json
from lmk.quantize.run import quantize_checkpoint


def run_pipeline(
    checkpoint: Path,
    data: Path,
    out: Path,
    num_calib: int = 128,
    keep_float: int = 3,
    arm: str = "auto",
    log=print,
    points: int = 98,
) -> dict:
    """Write every artifact under `out`; returns {"rows": [...], "details": {...}}.
    `keep_float` adds an ORT variant with the K most sensitive layers in float to the search;
    `arm` (auto | setup | off) runs the int8 .mnn on emulated ARM CPUs (see lmk.arm)."""
    name = artifact_name(checkpoint, points)
    log("== export: ONNX + MNN fp32 / fp16 / w8")
    export_checkpoint(checkpoint, "mnn", out, data, "test", ("fp32", "fp16", "w8"), name, points=points)
    for runtime in ("ort", "torch", "mnn"):
        log(f"== int8: {runtime}")
        quantize_checkpoint(
            checkpoint,
            runtime,
            "wflw_train",
            data,
            out,
            num_calib,
            analyze=runtime == "ort",
            keep_float=keep_float if runtime == "ort" else 0,
            arm=arm,
            points=points,
            log=log,
        )
    return summarize(checkpoint, out, name)


def summarize(checkpoint: Path, out: Path, name: str | None = None) -> dict:
    """The table of every file under `out`, from the sidecars (what each file scored)."""
    name = name or checkpoint.stem
    ref = json.loads((out / f"{name}.reference.json").read_text())  # the PyTorch model's own scores
    files = [
        ("ONNX fp32", out / f"{name}.onnx"),
        ("MNN fp32", out / f"{name}.mnn"),
        ("MNN fp16 weights", out / f"{name}.fp16.mnn"),
        ("MNN w8 (int8 weights)", out / f"{name}.w8.mnn"),
        ("ORT int8 (QDQ)", out / f"{name}.int8.onnx"),
        ("torch int8 (PT2E)", out / f"{name}.int8.pt2"),
        ("MNN int8 (EMA)", out / f"{name}.int8.mnn"),
    ]
    fp32_bytes = files[0][1].stat().st_size
    rows = [
        {
            "file": f"PyTorch checkpoint ({checkpoint.name})",
            "path": str(checkpoint),
            "runtime": "torch",
            "precision": "fp32 (fp16 storage)",
            "bytes": checkpoint.stat().st_size,
            "size_vs_fp32": round(checkpoint.stat().st_size / fp32_bytes, 3),
            "nme": ref["nme"],
            "fr": ref["fr"],
            "auc": ref["auc"],
            "delta_nme": 0.0,
            "arm": "",
        }
    ]
    details = {}
    for label, path in files:
        meta = read_sidecar(path)
        m = meta["metrics"]
        rows.append(
            {
                "file": label,
                "path": str(path),
                "runtime": meta["runtime"],
                "precision": meta["precision"],
                "bytes": path.stat().st_size,
                "size_vs_fp32": round(path.stat().st_size / fp32_bytes, 3),
                "nme": m["nme"],
                "fr": m["fr"],
                "auc": m["auc"],
                "delta_nme": m["nme"] - ref["nme"],
                "arm": arm_cell(meta) if path.suffix == ".mnn" else "",
            }
        )
        details[label] = {k: m[k] for k in ("variant", "kept_in_float", "method", "calibration") if k in m}
    result = {
        "checkpoint": str(checkpoint),
        "dataset": ref["dataset"],
        "flip_test": False,
        "rows": rows,
        "details": details,
    }
    write_json(out / "summary.json", result)
    (out / "summary.md").write_text(markdown_table(rows))
    return result


def arm_cell(meta: dict) -> str:
    """'ok a53/a76/i8mm (ΔNME within ±x)', 'FAIL on ...', 'skipped: why' or 'not run' for a .mnn sidecar
    (no '|' inside: it goes into a Markdown table cell)."""
    from lmk.arm.emulator import SHORT

    arm = meta.get("arm_verified")
    if not arm:
        return "not run"
    if "skipped" in arm:
        return f"skipped: {arm['skipped']}"
    cpus = arm["cpus"]
    names = "/".join(SHORT.get(c, c) for c in cpus)
    worst = max(abs(r["delta_nme"]) for r in cpus.values())
    if arm["ok"]:
        return f"ok {names} (ΔNME within ±{worst:.3f}, {arm['faces']} faces)"
    return "FAIL on " + "/".join(SHORT.get(c, c) for c, r in cpus.items() if not r["ok"])


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| file | runtime | precision | bytes | size / ONNX fp32 | NME % | FR@0.1 % | AUC@0.1 | ΔNME "
        "| ARM a53/a76/i8mm |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['file']} | {r['runtime']} | {r['precision']} | {r['bytes']:,} | {r['size_vs_fp32']:.2f} | "
            f"{r['nme']:.3f} | {r['fr']:.2f} | {r['auc']:.4f} | {r['delta_nme']:+.3f} | {r.get('arm', '')} |"
        )
    return "\n".join(lines) + "\n"
