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

from lmk.meta import write_json
from lmk.pipeline import markdown_table, run_pipeline, summarize


def arm_reports(args) -> None:
    """ARM check of every .mnn not yet verified (the int8 one was, by quantize), and of the fp32
    one with precision low; all reports go to REPORT_arm.md."""
    from lmk.arm.check import check_arm, markdown, record_in_sidecar
    from lmk.arm.emulator import EmulatorError, ensure_env, find_env
    from lmk.meta import read_sidecar

    try:
        env = ensure_env() if args.arm == "setup" else find_env()
    except EmulatorError as exc:
        print(f"ARM check skipped: {exc}")
        return
    if env is None:
        print("ARM check skipped: no emulated environment (lmk check-arm --setup)")
        return
    name = args.checkpoint.stem
    parts = []
    for suffix in ("mnn", "fp16.mnn", "w8.mnn", "int8.mnn"):
        path = args.out / f"{name}.{suffix}"
        report_path = path.with_name(path.name + ".arm.json")
        if "cpus" not in read_sidecar(path).get("arm_verified", {}) or not report_path.is_file():
            report = check_arm(path, args.data, env, faces=args.arm_faces)
            record_in_sidecar(path, report)
            write_json(report_path, report)
        parts.append(markdown(json.loads(report_path.read_text())))
    low = check_arm(
        args.out / f"{name}.mnn", args.data, env, cpus=("cortex-a76", "max"), faces=args.arm_faces, precision="low"
    )
    record_in_sidecar(args.out / f"{name}.mnn", low)
    parts.append(markdown(low))
    args.report.with_name(args.report.name + "_arm.md").write_text("\n".join(parts))


def arm_summary(checkpoint: Path, out: Path) -> str | None:
    """One row per .mnn from its ARM report: verdict per CPU, largest difference, ΔNME."""
    rows = [
        "| file | a53 (ARMv8.0) | a76 (ARMv8.2 dot) | i8mm (`max`) | largest diff vs x86 (crop px) "
        "| largest ΔNME vs x86 | between the ARM CPUs (px) |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for suffix, label in (
        ("mnn", "MNN fp32"),
        ("fp16.mnn", "MNN fp16 weights"),
        ("w8.mnn", "MNN w8"),
        ("int8.mnn", "MNN int8 (EMA)"),
    ):
        path = out / f"{checkpoint.stem}.{suffix}.arm.json"
        if not path.is_file():
            return None
        rep = json.loads(path.read_text())
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
    if not args.summarize_only:
        run_pipeline(args.checkpoint, args.data, args.out, args.num_calib, args.keep_float, arm=args.arm)
        if args.arm != "off":
            arm_reports(args)
    result = summarize(args.checkpoint, args.out)
    write_json(args.report.with_suffix(".json"), result)
    args.report.with_suffix(".md").write_text(markdown_table(result["rows"]))
    summary = arm_summary(args.checkpoint, args.out)
    if summary:
        args.report.with_name(args.report.name + "_arm_summary.md").write_text(summary)
    sens = args.out / f"{args.checkpoint.stem}.sensitivity.md"
    if sens.is_file():
        shutil.copy(sens, args.report.with_name(args.report.name + "_sensitivity.md"))
    print(markdown_table(result["rows"]))


if __name__ == "__main__":
    main()
