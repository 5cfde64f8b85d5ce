"""Every deployable file of one checkpoint -> bytes, NME, FR, AUC, ΔNME on WFLW-mini test.

    python benchmarks/artifacts.py --checkpoint src/lmk/weights/wflw98_lite0_pip.pt \
        --data ../shared/data/wflw-mini --out runs/artifacts --report benchmarks/results/artifacts

Same code path as `lmk pipeline`; writes REPORT.json and REPORT.md (the README's table).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from lmk.meta import write_json
from lmk.pipeline import markdown_table, run_pipeline, summarize


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"))
    ap.add_argument("--out", type=Path, default=Path("runs/artifacts"))
    ap.add_argument("--report", type=Path, default=Path("benchmarks/results/artifacts"))
    ap.add_argument("--num-calib", type=int, default=128)
    ap.add_argument("--keep-float", type=int, default=3)
    ap.add_argument("--summarize-only", action="store_true", help="rebuild the report from the files in --out")
    args = ap.parse_args()
    if args.summarize_only:
        result = summarize(args.checkpoint, args.out)
    else:
        result = run_pipeline(args.checkpoint, args.data, args.out, args.num_calib, args.keep_float)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.report.with_suffix(".json"), result)
    args.report.with_suffix(".md").write_text(markdown_table(result["rows"]))
    sens = args.out / f"{args.checkpoint.stem}.sensitivity.md"
    if sens.is_file():
        shutil.copy(sens, args.report.with_name(args.report.name + "_sensitivity.md"))
    print(markdown_table(result["rows"]))


if __name__ == "__main__":
    main()
