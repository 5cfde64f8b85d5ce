"""Run a .mnn file on emulated ARM CPUs and compare with x86 MNN on the same real face crops.

Crops are made once on the host; each CPU runs lmk's own MNN runner under qemu (one process per
CPU, in parallel); the outputs are compared point by point and scored (NME on the same faces).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import lmk
from lmk.arm.emulator import CPUS, DEFAULT_CPUS, SHORT, ArmEnv, EmulatorError
from lmk.artifact import InputSpec, read_sidecar, sidecar_path
from lmk.data.crop import normalized_to_image
from lmk.data.readers import read_wflw
from lmk.evaluation import evaluate_predictions
from lmk.files import write_json
from lmk.predict import iter_inputs

# A CPU passes when its NME is within MAX_DELTA_NME of x86 and no coordinate of any face moves by
# more than MAX_CROP_SHARE of the crop side (2.56 px at 256): int8 kernels may round differently on
# x86 and ARM by a pixel or two, a wrong kernel moves points by tens of pixels (the measurements
# behind both bars: benchmarks/results/artifacts_arm.md, fc_guard.md).
MAX_DELTA_NME = 0.02
MAX_CROP_SHARE = 0.01


def subset(records: list, faces: int) -> list:
    """`faces` records spread evenly over the split (all when faces <= 0 or more than there are)."""
    if faces <= 0 or faces >= len(records):
        return list(records)
    return [records[i] for i in np.linspace(0, len(records) - 1, faces).round().astype(int)]


def run_emulated(env: ArmEnv, cpu: str, model: Path, meta: dict, inputs: np.ndarray, precision: str) -> np.ndarray:
    """Outputs of the .mnn on `inputs` under qemu -cpu `cpu` (crop-normalised points)."""
    src = Path(lmk.__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix=f"lmk-arm-{SHORT.get(cpu, cpu)}-") as tmp:
        t = Path(tmp)
        np.save(t / "inputs.npy", inputs.astype(np.float32))
        (t / "meta.json").write_text(json.dumps(meta))
        args = ["-m", "lmk.arm.worker", str(Path(model).resolve()), str(t / "meta.json")]
        args += [str(t / "inputs.npy"), str(t / "out.npy"), precision]
        proc = subprocess.run(env.command(cpu, args, [src]), capture_output=True, text=True, timeout=7200)
        if proc.returncode != 0 or not (t / "out.npy").is_file():
            tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-4:])
            raise EmulatorError(f"{model}: emulated run on {cpu} failed (exit {proc.returncode}): {tail}")
        return np.load(t / "out.npy")


def _nme(records: list, out: np.ndarray, wins: list) -> float:
    pred = np.stack([normalized_to_image(o, w) for o, w in zip(out, wins)])
    return float(evaluate_predictions(records, pred)[0]["all"].nme)


def compare(reference: np.ndarray, out: np.ndarray, size: int) -> dict:
    """Largest coordinate difference in crop pixels, and the point where it is."""
    diff = np.abs(out.astype(np.float64) - reference.astype(np.float64)) * size
    per_point = diff.max(axis=(0, 2))
    return {"max_abs_px": float(diff.max()), "worst_point": int(per_point.argmax())}


def check_arm(
    model: Path,
    data: Path,
    env: ArmEnv,
    split: str = "test",
    cpus: tuple[str, ...] = DEFAULT_CPUS,
    faces: int = 32,
    precision: str = "normal",
    meta: dict | None = None,
    log=print,
    name: Path | None = None,
) -> dict:
    """Report: x86 NME, and per CPU max |Δ| (crop px), worst point, NME, ΔNME vs x86, pass/fail.
    `name`: the file the report is about, when `model` is a temporary copy of it."""
    from lmk.runtime.mnn_runner import load_mnn_runner

    model = Path(model)
    unknown = [c for c in cpus if c not in CPUS]
    if unknown:
        raise ValueError(f"unknown ARM CPU {', '.join(unknown)}; choose from {', '.join(CPUS)}")
    host_run, meta = load_mnn_runner(model, threads=1, precision=precision, meta=meta)
    spec = InputSpec.from_meta(meta)
    records = subset(read_wflw(Path(data), split), faces)
    inputs, wins = zip(*iter_inputs(records, spec))
    x = np.stack(inputs)
    reference = host_run(x)
    x86_nme = _nme(records, reference, wins)
    label = Path(name or model).name
    log(f"{label}: x86 NME {x86_nme:.3f}% on {len(records)} {split} faces; emulating {', '.join(cpus)}")

    max_px = MAX_CROP_SHARE * spec.size
    outputs: dict[str, np.ndarray] = {}

    def one(cpu: str) -> tuple[str, dict]:
        t0 = time.time()
        out = outputs[cpu] = run_emulated(env, cpu, model, meta, x, precision)
        nme = _nme(records, out, wins)
        row = {"kernels": CPUS[cpu], **compare(reference, out, spec.size), "nme": nme}
        row["delta_nme"] = nme - x86_nme
        row["ok"] = bool(abs(row["delta_nme"]) <= MAX_DELTA_NME and row["max_abs_px"] <= max_px)
        row["s_per_face"] = (time.time() - t0) / len(records)
        log(
            f"  {cpu:<10} max|Δ| {row['max_abs_px']:.4g} px (point {row['worst_point']}), "
            f"NME {nme:.3f}% (Δ {row['delta_nme']:+.4f}) {'ok' if row['ok'] else 'FAIL'}"
        )
        return cpu, row

    with ThreadPoolExecutor(max_workers=max(1, min(len(cpus), os.cpu_count() or 1))) as pool:
        rows = dict(pool.map(one, cpus))
    first = outputs[cpus[0]]
    spread = max(compare(first, out, spec.size)["max_abs_px"] for out in outputs.values())
    return {
        "model": str(name or model),
        "split": f"{Path(data).name}/{split}",
        "faces": len(records),
        "precision": precision,
        "x86_nme": x86_nme,
        "thresholds": {"delta_nme": MAX_DELTA_NME, "max_abs_px": max_px},
        "emulator": env.info,
        "cpus": rows,
        "arm_spread_px": spread,  # largest difference between the emulated CPUs themselves
        "ok": all(r["ok"] for r in rows.values()),
    }


def sidecar_summary(report: dict) -> dict:
    """What a sidecar keeps of a report: the CPUs, ΔNME and max difference there, pass or fail."""
    return {
        "split": report["split"],
        "faces": report["faces"],
        "precision": report["precision"],
        "x86_nme": report["x86_nme"],
        "ok": report["ok"],
        "arm_spread_px": report["arm_spread_px"],
        "emulator": f"{report['emulator']['qemu']}; MNN {report['emulator']['mnn']} aarch64 wheel",
        "cpus": {
            cpu: {k: r[k] for k in ("kernels", "ok", "delta_nme", "max_abs_px", "worst_point")}
            for cpu, r in report["cpus"].items()
        },
    }


def record_in_sidecar(model: Path, report: dict) -> bool:
    """Store which CPUs the file was verified on (and ΔNME there) in its sidecar, if it has one."""
    side = sidecar_path(model)
    if not side.is_file():
        return False
    meta = read_sidecar(model)
    key = "arm_verified" if report["precision"] == "normal" else f"arm_verified_{report['precision']}"
    meta[key] = sidecar_summary(report)
    write_json(side, meta)
    return True


def markdown(report: dict) -> str:
    lines = [
        f"ARM check of `{Path(report['model']).name}` on {report['faces']} faces of {report['split']} "
        f"(precision {report['precision']}; x86 NME {report['x86_nme']:.3f} %)",
        "",
        "| CPU (qemu) | MNN kernels | max abs diff vs x86 (crop px) | worst point | NME % | ΔNME vs x86 | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for cpu, r in report["cpus"].items():
        lines.append(
            f"| {cpu} | {r['kernels']} | {r['max_abs_px']:.4f} | {r['worst_point']} | {r['nme']:.3f} | "
            f"{r['delta_nme']:+.4f} | {'ok' if r['ok'] else 'FAIL'} |"
        )
    lines += [
        "",
        f"Largest difference between the emulated CPUs themselves: {report['arm_spread_px']:.4f} px. "
        f"Pass: |ΔNME| ≤ {report['thresholds']['delta_nme']} and max diff ≤ "
        f"{report['thresholds']['max_abs_px']:.2f} px.",
    ]
    return "\n".join(lines) + "\n"


def check_request(model: Path | None, setup: bool) -> None:
    """`lmk check-arm`'s arguments, checked before the emulator is touched: a .mnn file that exists
    and that MNN loads (a broken file is refused here, not after the download)."""
    if setup:
        return
    if model is None:
        raise ValueError("give a .mnn file to check (or --setup)")
    model = Path(model)
    if model.suffix.lower() != ".mnn":
        raise ValueError(f"{model}: the ARM check runs .mnn files")
    if not model.is_file():
        raise FileNotFoundError(f"{model}: file not found")
    from lmk.runtime.mnn_runner import open_interpreter

    open_interpreter(model)


def write_reports(model: Path, report: dict, record: bool = True) -> tuple[Path, Path]:
    """FILE.arm.json and FILE.arm.md beside the checked file; with `record`, its sidecar records the
    verdict (off for a file whose sidecar is yet to be written)."""
    from lmk.artifact import arm_reports
    from lmk.files import atomic_write_text

    report_json, report_md = arm_reports(model)
    write_json(report_json, report)
    atomic_write_text(report_md, markdown(report))
    if record:
        record_in_sidecar(model, report)
    return report_json, report_md
