"""What the i8mm guard costs and what it fixes, on a model whose head is a fully-connected layer.

    python benchmarks/fc_guard.py --checkpoint runs/gap/model.pt \
        --data ../shared/data/wflw-mini --out runs/fc_guard --report benchmarks/results/fc_guard

Three MNN int8 (EMA) files of the same checkpoint: unguarded, guarded (FC padded to a multiple of 8
outputs and sliced inside the graph) and MNN's own skip list naming the FC layer (the other way to
keep it off the faulty kernel). For each: NME on all test faces and latency (MNN, 1 thread, the
files taking turns, median of --runs) on the x86 host, its x86 outputs against the unguarded
file's, and the ARM check (cortex-a76 and the i8mm `max` CPU) on --arm-faces faces.
"""

from __future__ import annotations

import argparse
import statistics
from functools import partial
from pathlib import Path

import numpy as np

from lmk.arm.check import check_arm
from lmk.arm.emulator import ensure_env
from lmk.artifact import InputSpec, read_sidecar
from lmk.data.readers import read_wflw
from lmk.evaluation import score_runner
from lmk.export.exporter import export_checkpoint
from lmk.files import write_json
from lmk.mnn_tools import convert_mnn
from lmk.predict import iter_inputs
from lmk.quantize.calib import calibration_crops_uint8, calibration_faces
from lmk.quantize.fc_guard import guard_onnx
from lmk.quantize.mnn_quant import quantize_mnn
from lmk.runtime.mnn_runner import load_mnn_runner
from lmk.runtime.timing import time_in_turns


def latencies_ms(paths: dict[str, Path], meta: dict, x: np.ndarray, runs: int) -> dict[str, float]:
    """Median ms per face, MNN 1 thread; the files take turns so that drift hits them alike."""
    runners = {k: load_mnn_runner(p, threads=1, meta=meta)[0] for k, p in paths.items()}
    times = time_in_turns({k: partial(run, x) for k, run in runners.items()}, runs)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"))
    ap.add_argument("--out", type=Path, default=Path("runs/fc_guard"))
    ap.add_argument("--report", type=Path, default=Path("benchmarks/results/fc_guard"))
    ap.add_argument("--num-calib", type=int, default=128)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--arm-faces", type=int, default=32)
    args = ap.parse_args()
    name, out = args.checkpoint.stem, args.out
    export_checkpoint(args.checkpoint, "mnn", out, args.data, "test", ("fp32",), name)
    meta = read_sidecar(out / f"{name}.mnn")
    spec = InputSpec.from_meta(meta)
    calib = calibration_faces("wflw_train", args.data, args.num_calib, 0)
    crops = calibration_crops_uint8(calib, spec)
    changed = guard_onnx(out / f"{name}.onnx", out / f"{name}.guarded.onnx")
    if not changed:
        raise SystemExit(f"{args.checkpoint}: no fully-connected layer needs the guard (nothing to measure)")
    convert_mnn(out / f"{name}.guarded.onnx", out / f"{name}.guarded.mnn", meta)
    variants = {
        "unguarded": (out / f"{name}.mnn", []),
        "guarded (pad to x8 + slice)": (out / f"{name}.guarded.mnn", []),
        "skip list (FC kept float)": (out / f"{name}.mnn", [c["node"] for c in changed]),
    }
    test = read_wflw(args.data, "test")
    faces = np.stack([x for x, _ in iter_inputs(test[:16], spec)])
    env = ensure_env()
    rows, files, outputs = {}, {}, {}
    for label, (src, skip) in variants.items():
        dst = files[label] = out / f"{name}.{label.split()[0]}.int8.mnn"
        quantize_mnn(src, dst, crops, spec, skip=skip)
        run = load_mnn_runner(dst, meta=meta)[0]
        outputs[label] = run(faces)
        arm = check_arm(dst, args.data, env, faces=args.arm_faces, cpus=("cortex-a76", "max"), meta=meta)
        rows[label] = {
            "file": str(dst),
            "nme_x86": score_runner(test, run, spec).nme,
            "arm_spread_px": arm["arm_spread_px"],  # i8mm against a76
            "arm": {
                cpu: {k: r[k] for k in ("max_abs_px", "worst_point", "delta_nme", "ok")}
                for cpu, r in arm["cpus"].items()
            },
        }
    for label, ms in latencies_ms(files, meta, faces[:1], args.runs).items():
        rows[label]["latency_ms_x86"] = ms
    for label, r in rows.items():  # x86 outputs on 16 test faces against the unguarded file's
        diff = np.abs(outputs[label] - outputs["unguarded"]).max() * spec.size
        r["x86_max_abs_diff_vs_unguarded_px"] = float(diff)
    base = rows["unguarded"]
    g = changed[0]
    lines = [
        f"i8mm guard on `{args.checkpoint}` ({g['node']}: {g['outputs']} outputs -> {g['padded_to']}); "
        f"NME on {len(test)} {args.data.name} test faces (x86); latency: MNN 1 thread, median of {args.runs}, "
        f"files taking turns; ARM check on {args.arm_faces} faces (max diff vs x86, crop px, worst point)",
        "",
        "| int8 .mnn | NME % (x86) | ΔNME | x86 outputs vs unguarded (px) | latency ms (x86) | Δ latency "
        "| a76 max diff | i8mm max diff (point) | i8mm vs a76 | i8mm ΔNME vs x86 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows.items():
        a76, mx = r["arm"]["cortex-a76"], r["arm"]["max"]
        lines.append(
            f"| {label} | {r['nme_x86']:.3f} | {r['nme_x86'] - base['nme_x86']:+.3f} | "
            f"{r['x86_max_abs_diff_vs_unguarded_px']:.3g} | {r['latency_ms_x86']:.2f} | "
            f"{100 * (r['latency_ms_x86'] / base['latency_ms_x86'] - 1):+.1f} % | {a76['max_abs_px']:.3f} | "
            f"{mx['max_abs_px']:.3f} ({mx['worst_point']}) | {r['arm_spread_px']:.3f} | {mx['delta_nme']:+.3f} |"
        )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.report.with_suffix(".json"), {"checkpoint": str(args.checkpoint), "guarded": changed, "rows": rows})
    args.report.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
