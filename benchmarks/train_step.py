"""Time of one training step (forward, loss, backward, AdamW step) on the CPU, fp32 against
`lmk train --cpu-bf16` (bfloat16 autocast), on random input of the training batch's shape.

    python benchmarks/train_step.py --out benchmarks/results/train_step

The two settings take turns (after 2 warm-up steps each), so clock or load drift hits them alike;
the median of --runs steps is reported. Writes OUT.json and OUT.md.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import torch

from lmk.bench import host_info
from lmk.files import write_json
from lmk.models import ModelSpec, build_model
from lmk.runtime.timing import median_p90, time_in_turns
from lmk.training.config import TrainConfig
from lmk.training.engine import train_step


def make_step(cfg: TrainConfig):
    """One optimiser step of a fresh model: the one `train_one_epoch` takes."""
    model = build_model(ModelSpec(cfg.backbone, cfg.head, 98, cfg.input_size), pretrained=False)
    model = model.to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(cfg.batch_size, 3, cfg.input_size, cfg.input_size, generator=gen)
    x = x.contiguous(memory_format=torch.channels_last)
    target = torch.rand(cfg.batch_size, 98, 2, generator=gen) * (cfg.input_size - 1)
    mask = torch.ones(cfg.batch_size, 98)
    return partial(train_step, model, opt, cfg, x, target, mask, torch.device("cpu"), None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="efficientnet_lite0-pip")
    ap.add_argument("--input-size", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    backbone, _, head = args.model.partition("-")
    base = TrainConfig(
        backbone=backbone, head=head or "pip", input_size=args.input_size, batch_size=args.batch_size, coord_weight=1
    )
    settings = {"fp32": base, "cpu_bf16": TrainConfig(**{**base.as_dict(), "cpu_bf16": True})}
    times = time_in_turns({k: make_step(cfg) for k, cfg in settings.items()}, args.runs, warmup=2)
    host = host_info(args.threads)
    rows = []
    for k in settings:
        median, p90 = median_p90(times[k])
        rows.append({"setting": k, "median_s": round(median / 1000, 3), "p90_s": round(p90 / 1000, 3)})
    speedup = round(rows[0]["median_s"] / rows[1]["median_s"], 2)
    bf16 = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    env = {"cpu": host["cpu"], "threads": args.threads, "torch": host["torch"], "onednn_bf16": bool(bf16)}
    shape = f"{args.batch_size}x3x{args.input_size}x{args.input_size}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out.with_suffix(".json"), {"host": env, "model": args.model, "batch": shape, "rows": rows})
    lines = [
        f"One training step of {args.model} (batch {shape}, forward + loss + backward + AdamW) on "
        f"{env['cpu']}, {args.threads} thread(s), torch {env['torch']} (oneDNN bf16: {env['onednn_bf16']}); "
        f"median / p90 of {args.runs} steps, the settings taking turns (`benchmarks/train_step.py`).",
        "",
        "| setting | median s | p90 s |",
        "|---|---:|---:|",
    ]
    lines += [f"| {r['setting']} | {r['median_s']} | {r['p90_s']} |" for r in rows]
    lines += ["", f"bf16 speed-up: {speedup} x"]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(json.dumps(rows, indent=1), f"speed-up {speedup} x")


if __name__ == "__main__":
    main()
