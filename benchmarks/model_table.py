"""Accuracy table of trained checkpoints on a WFLW split: NME / FR / AUC, params, GFLOPs.

    python benchmarks/model_table.py --data ../shared/data/wflw-mini --out benchmarks/results/model_table \
        runs/baseline/model.pt src/lmk/weights/wflw98_lite2_pip.pt

Writes OUT.json, OUT.md and OUT_ced.png (fp32, no flip test). `--append` keeps the rows already
in OUT.json (training runs' checkpoints live in runs/, which does not outlive a session) and
re-scores only the checkpoints given; a kept row's CED curve is redrawn from its stored per-face NME.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lmk.artifact import InputSpec
from lmk.checkpoint import load_model
from lmk.data.readers import read_wflw
from lmk.data.split import split_by_image
from lmk.evaluation import evaluate_predictions, save_ced_plot
from lmk.files import write_json
from lmk.model_stats import count_gflops, count_params
from lmk.predict import predict_records
from lmk.runtime.torch_runner import torch_runner


def describe(cfg: dict, data: Path) -> dict:
    """What a checkpoint was trained on and how, from its stored config."""
    pre = "ImageNet" if cfg.get("pretrained") else "scratch"  # backbones without weights refuse pretrained
    train, _ = split_by_image(read_wflw(data, "train"), cfg.get("val_fraction", 0.0), cfg.get("seed", 0))
    extra = " + 300-W (1,207 faces, 68 pts)" if cfg.get("extra_300w") else ""
    frozen = cfg.get("freeze_blocks", -1)
    recipe = f"{cfg.get('loss')}, {cfg.get('optimizer')}, {cfg.get('epochs')} ep" + (
        f", stem+{frozen} blocks frozen" if frozen >= 0 else ""
    )
    if cfg.get("init"):  # a fine-tuning stage: name where it started, since its own recipe is only the tail
        recipe += f", lr {cfg.get('lr'):g}, from {Path(cfg['init']).parent.name}/{Path(cfg['init']).name}"
    if cfg.get("coord_weight"):
        recipe += f", coordinate loss ×{cfg['coord_weight']:g}"
    if cfg.get("ema"):
        recipe += f", EMA {cfg['ema']:g}"
    if cfg.get("cpu_bf16"):
        recipe += ", bf16 autocast (CPU)"
    if cfg.get("teacher"):  # distillation: from which model, and how
        recipe += f", teacher {Path(cfg['teacher']).name}"
        recipe += " (labels 300-W's missing points)" if cfg.get("teacher_fill", True) else ""
        recipe += f", distillation ×{cfg['distill_weight']:g}" if cfg.get("distill_weight") else ""
    return {
        "architecture": cfg.get("backbone"),
        "head": cfg.get("head"),
        "pretraining": pre,
        "recipe": recipe,
        "train_data": f"WFLW-mini train ({len(train)} faces){extra}",
    }


def paired_difference(a: np.ndarray, b: np.ndarray, resamples: int = 10_000, seed: int = 0) -> dict:
    """Is b better than a on these faces, or is it noise? Mean per-face NME difference (b - a) with a
    paired bootstrap interval: the same faces, resampled together."""
    d = b - a
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), (resamples, len(d)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {
        "mean": float(d.mean()),
        "ci95": [float(lo), float(hi)],
        "resamples": resamples,
        "b_better": int((d < 0).sum()),
        "faces": len(d),
    }


def curve_label(row: dict) -> str:
    ckpt = Path(row["checkpoint"])
    return f"{ckpt.parent.name}/{ckpt.stem}: {row['architecture']}-{row['head']}, NME {row['nme']:.2f}%"


def kept_rows(args: argparse.Namespace) -> tuple[list[dict], dict, list[np.ndarray]]:
    """OUT.json's rows for checkpoints not given again (same split), with the curves stored in them."""
    path = args.out.with_suffix(".json")
    if not path.exists():
        return [], {}, []
    old = json.loads(path.read_text())
    if old.get("dataset") != f"{args.data.name}/{args.split}":
        raise SystemExit(f"{path}: rows are on {old.get('dataset')}, not {args.data.name}/{args.split}; no --append")
    given = {str(c) for c in args.checkpoints}
    rows = [r for r in old["rows"] if r["checkpoint"] not in given]
    curves = {curve_label(r): np.asarray(r["nme_per_face"]) for r in rows if r.get("nme_per_face")}
    per_face = [np.asarray(r.get("nme_per_face", [])) * 100 for r in rows]
    return rows, curves, per_face


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/model_table"))
    ap.add_argument("--paired", action="store_true", help="compare the last two checkpoints face by face")
    ap.add_argument("--append", action="store_true", help="keep OUT.json's rows; re-score only these checkpoints")
    args = ap.parse_args()
    torch.set_num_threads(2)
    records = read_wflw(args.data, args.split)
    rows, curves, per_face = kept_rows(args) if args.append else ([], {}, [])
    for ckpt in args.checkpoints:
        model, blob = load_model(ckpt)
        spec = InputSpec.from_meta(blob["meta"])
        pred = predict_records(records, torch_runner(model), spec, batch_size=16)
        scores, nme_i = evaluate_predictions(records, pred)
        s = scores["all"]
        row = {
            "checkpoint": str(ckpt),
            **describe(blob["config"], args.data),
            "input": spec.size,
            "nme": round(s.nme, 3),
            "fr": round(s.fr, 2),
            "auc": round(s.auc, 4),
            "faces": s.faces,
            "params_M": round(count_params(model) / 1e6, 2),
            "gflops": round(count_gflops(model, spec.size), 2),
            "val_nme": (blob["meta"]["metrics"].get("val") or {}).get("nme"),
            "nme_per_face": [round(float(v), 6) for v in nme_i],
        }
        rows.append(row)
        per_face.append(np.asarray(nme_i) * 100)
        curves[curve_label(row)] = nme_i
        print(json.dumps({k: v for k, v in row.items() if k != "nme_per_face"}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(
        args.out.with_suffix(".json"),
        {"dataset": f"{args.data.name}/{args.split}", "flip_test": False, "precision": "fp32", "rows": rows},
    )
    head = (
        "| architecture | head | input px | pretraining | recipe | train data | NME % | FR@0.1 % | AUC@0.1 "
        "| params (M) | GFLOPs |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r['architecture']} | {r['head']} | {r['input']} | {r['pretraining']} | {r['recipe']} | "
            f"{r['train_data']} | "
            f"{r['nme']:.2f} | {r['fr']:.2f} | {r['auc']:.4f} | {r['params_M']} | {r['gflops']} |"
        )
    comparable = len(per_face) > 1 and len(per_face[-2]) == len(per_face[-1]) > 0
    paired = paired_difference(per_face[-2], per_face[-1]) if args.paired and comparable else None
    if paired:
        paired.update(a=rows[-2]["checkpoint"], b=rows[-1]["checkpoint"])
        write_json(args.out.with_name(args.out.name + "_paired.json"), paired)
        print(json.dumps(paired))
        lines += [
            "",
            f"Per face, {paired['b']} vs {paired['a']}: mean NME difference {paired['mean']:+.3f} points, "
            f"95 % paired-bootstrap interval [{paired['ci95'][0]:+.3f}, {paired['ci95'][1]:+.3f}] "
            f"({paired['resamples']:,} resamples); better on {paired['b_better']} of {paired['faces']} faces.",
        ]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    save_ced_plot(args.out.with_name(args.out.name + "_ced.png"), curves)


if __name__ == "__main__":
    main()
