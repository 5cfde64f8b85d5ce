"""Turn a training run's model.pt into the shipped checkpoint: fp16 weight storage, metrics
re-measured on the stored (fp16 -> fp32) weights, and the command that trained it.

    python benchmarks/ship_model.py runs/final/model.pt src/lmk/weights/wflw98_lite2_pip.pt \
        --data ../shared/data/wflw-mini --command "lmk train ..."
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lmk.artifact import InputSpec
from lmk.checkpoint import load_model, read_checkpoint, save_checkpoint
from lmk.data.readers import read_wflw
from lmk.evaluation import score_runner
from lmk.models import ModelSpec
from lmk.runtime.torch_runner import torch_runner


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"))
    ap.add_argument("--command", required=True, help="the exact training command")
    args = ap.parse_args()
    blob = read_checkpoint(args.src)
    model, _ = load_model(args.src)
    meta = blob["meta"]
    meta["train_command"] = args.command

    def save(model) -> None:
        save_checkpoint(
            args.dst,
            model,
            ModelSpec(**blob["model"]),
            blob["config"],
            meta,
            extra={"history": blob.get("history", [])},
            half=True,
        )

    save(model)
    shipped, _ = load_model(args.dst)  # measure what is stored: fp16 weights, run in fp32
    test = read_wflw(args.data, "test")
    s = score_runner(test, torch_runner(shipped), InputSpec.from_meta(meta))
    meta["metrics"].update({**s.as_metrics(f"{args.data.name}/test"), "weights": "fp16 storage, fp32 compute"})
    save(shipped)
    print(f"{args.dst}: {args.dst.stat().st_size:,} bytes; test NME {s.nme:.3f}% FR {s.fr:.2f}% AUC {s.auc:.4f}")


if __name__ == "__main__":
    main()
