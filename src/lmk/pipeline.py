"""The whole deployment path for one checkpoint: export (ONNX, MNN fp32/fp16/w8), int8 for torch,
ORT and MNN (the ORT search includes a mixed-precision variant), and one table of
bytes / NME / FR / AUC / ΔNME built from the sidecars (each holds what that very file scored).
"""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lmk.artifact import Layout, artifact_name, read_sidecar
from lmk.export.exporter import export_checkpoint
from lmk.files import atomic_write_text, write_json
from lmk.quantize.run import MnnBackend, OrtBackend, TorchBackend, job_from_onnx, quantize


def run_pipeline(
    checkpoint: Path,
    data: Path,
    out: Path,
    num_calib: int = 128,
    keep_float: int = 0,
    arm: str = "auto",
    log=print,
    points: int = 0,
    analyze: bool = False,
    arm_faces: int = 4,
) -> dict:
    """Write every artifact under `out`; returns {"rows": [...], "details": {...}}. The fp32 files are
    exported and the PyTorch reference is scored once; the three int8 backends then share one set
    of calibration and test faces. `keep_float` adds an ORT variant with the K most sensitive layers
    in float to the search (and, as `analyze`, writes the per-layer sensitivity report); `arm` (auto |
    setup | off) runs the int8 .mnn on emulated ARM CPUs."""
    layout = Layout(Path(out), artifact_name(checkpoint, points))
    t0 = time.perf_counter()
    log("== export: ONNX + MNN fp32 / fp16 / w8")
    export_checkpoint(checkpoint, "mnn", out, data, "test", ("fp32", "fp16", "w8"), layout.name, points=points, log=log)
    job = job_from_onnx(layout.onnx, "wflw_train", data, num_calib=num_calib, arm=arm, arm_faces=arm_faces, log=log)
    # MNN int8 (mostly MNN's tools and the emulated ARM CPUs, in child processes) runs beside the
    # ORT and torch backends, which leave a core idle much of the time; its log is held and shown after.
    # It starts only after the last MNN conversion: started during the fp16/w8 conversions, its int8
    # file scored NaN (tests/test_shipped_and_pipeline.py's model; two MNN sessions running in two
    # threads are fine by themselves).
    held: list[str] = []
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            log(f"== int8: mnn, in the background (at {time.perf_counter() - t0:.0f} s; its log follows)")
            mnn = pool.submit(quantize, dataclasses.replace(job, log=held.append, progress=False), MnnBackend())
            for backend in (OrtBackend(keep_float, analyze=analyze or keep_float > 0), TorchBackend(checkpoint)):
                log(f"== int8: {backend.runtime} (at {time.perf_counter() - t0:.0f} s)")
                quantize(job, backend)
            mnn.result()
    finally:  # also when a backend failed: what the MNN step said is part of the story
        for line in held:
            log(line)
    log(f"== done in {time.perf_counter() - t0:.0f} s")
    return summarize(checkpoint, layout)


def summarize(checkpoint: Path, layout: Layout) -> dict:
    """The table of every file of `layout`, from the sidecars (what each file scored)."""
    ref = json.loads(layout.reference.read_text())  # the PyTorch model's own scores
    files = layout.files()
    fp32_bytes = layout.onnx.stat().st_size
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
    write_json(layout.summary("json"), result)
    atomic_write_text(layout.summary("md"), markdown_table(rows))
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
