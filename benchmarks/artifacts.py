"""Every deployable file of one checkpoint -> bytes, NME, FR, AUC, ΔNME on WFLW-mini test.

    python benchmarks/artifacts.py --checkpoint src/lmk/weights/wflw98_lite2_pip.pt \
        --data ../shared/data/wflw-mini --out runs/artifacts --report benchmarks/results/artifacts

Same code path as `lmk pipeline`; writes REPORT.json and REPORT.md (the README's table). With the
emulated ARM environment (set up here unless --arm off), every .mnn is also run on cortex-a53,
cortex-a76 and the i8mm `max` CPU (REPORT_arm.md; each sidecar records the CPUs it was verified on),
and the fp32 .mnn with MNN precision `low` (fp16 arithmetic on ARMv8.2+).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from lmk.arm.check import record_in_sidecar
from lmk.artifact import Layout, artifact_name, read_sidecar
from lmk.artifact import arm_reports as arm_reports_of
from lmk.files import atomic_write_text, write_json
from lmk.pipeline import markdown_table, run_pipeline, summarize


def arm_reports(args, layout: Layout) -> None:
    """ARM check of every .mnn not yet verified (the int8 one was, by quantize), and of the fp32
    one with precision low; all reports go to REPORT_arm.md."""
    from lmk.arm.check import check_arm, markdown, write_reports
    from lmk.arm.emulator import EmulatorError, ensure_env, find_env

    try:
        env = ensure_env() if args.arm == "setup" else find_env()
    except EmulatorError as exc:
        print(f"ARM check skipped: {exc}")
        return
    if env is None:
        print("ARM check skipped: no emulated environment (lmk check-arm --setup)")
        return
    parts = []
    for path in (layout.mnn("fp32"), layout.mnn("fp16"), layout.mnn("w8"), layout.int8("mnn")):
        report_json, _ = arm_reports_of(path)
        if "cpus" not in read_sidecar(path).get("arm_verified", {}) or not report_json.is_file():
            write_reports(path, check_arm(path, args.data, env, faces=args.arm_faces))
        parts.append(markdown(json.loads(report_json.read_text())))
    fp32 = layout.mnn("fp32")
    low = check_arm(fp32, args.data, env, cpus=("cortex-a76", "max"), faces=args.arm_faces, precision="low")
    record_in_sidecar(fp32, low)
    parts.append(markdown(low))
    atomic_write_text(args.report.with_name(args.report.name + "_arm.md"), "\n".join(parts))


def arm_summary(layout: Layout) -> str | None:
    """One row per .mnn from its ARM report: verdict per CPU, largest difference, ΔNME."""
    rows = [
        "| file | a53 (ARMv8.0) | a76 (ARMv8.2 dot) | i8mm (`max`) | largest diff vs x86 (crop px) "
        "| largest ΔNME vs x86 | between the ARM CPUs (px) |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for label, path in layout.files():
        if path.suffix != ".mnn":
            continue
        report_json, _ = arm_reports_of(path)
        if not report_json.is_file():
            return None
        rep = json.loads(report_json.read_text())
        cpus = rep["cpus"]
        verdict = ["ok" if cpus[c]["ok"] else "FAIL" for c in ("cortex-a53", "cortex-a76", "max")]
        px = max(r["max_abs_px"] for r in cpus.values())
        dn = max(abs(r["delta_nme"]) for r in cpus.values())
        rows.append(f"| {label} | {' | '.join(verdict)} | {px:.4g} | {dn:.4f} | {rep['arm_spread_px']:.4g} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"))
    ap.add_argument("--out", type=Path, default=Path("runs/artifacts"))
    ap.add_argument("--report", type=Path, default=Path("benchmarks/results/artifacts"))
    ap.add_argument("--num-calib", type=int, default=128)
    ap.add_argument("--keep-float", type=int, default=3)
    ap.add_argument("--summarize-only", action="store_true", help="rebuild the report from the files in --out")
    ap.add_argument("--arm", choices=("setup", "auto", "off"), default="setup")
    ap.add_argument("--arm-faces", type=int, default=32, help="test faces per ARM check (spread over the split)")
    args = ap.parse_args()
    args.report.parent.mkdir(parents=True, exist_ok=True)
    layout = Layout(args.out, artifact_name(args.checkpoint))
    if not args.summarize_only:
        run_pipeline(args.checkpoint, args.data, args.out, args.num_calib, args.keep_float, arm=args.arm)
        if args.arm != "off":
            arm_reports(args, layout)
    result = summarize(args.checkpoint, layout)
    write_json(args.report.with_suffix(".json"), result)
    atomic_write_text(args.report.with_suffix(".md"), markdown_table(result["rows"]))
    summary = arm_summary(layout)
    if summary:
        atomic_write_text(args.report.with_name(args.report.name + "_arm_summary.md"), summary)
    sens = layout.sensitivity("md")
    if sens.is_file():
        shutil.copy(sens, args.report.with_name(args.report.name + "_sensitivity.md"))
    print(markdown_table(result["rows"]))


if __name__ == "__main__":
    main()
