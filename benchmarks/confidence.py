"""Does a file's face confidence tell good predictions from bad ones? Real faces, perturbed boxes.

    python benchmarks/confidence.py --split val runs/zoo/wflw98_nano/wflw98_nano.onnx ...
    python benchmarks/confidence.py --split test --out benchmarks/results/confidence FILES...

Per face, the annotation box and perturbed ones (centre shifted up to ±0.3 of the crop side,
side scaled 0.65-1.6×, log-uniform) and two windows of the same size away from the face (no face
in them). A prediction is bad when its NME is above 10 % (no-face windows: always bad). Reports the
AUROC of the face confidence (mean of the points' `scores`) for "good", and the confidence
threshold that best separates them (Youden's J), per file. `--split val` is a checkpoint's held-out
train faces (409/41 split, seed 0): where the threshold and the score's definition were chosen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lmk.artifact import InputSpec
from lmk.data.crop import CropWindow, normalized_to_image, read_rgb
from lmk.data.readers import read_wflw
from lmk.data.split import split_by_image
from lmk.files import atomic_write_text, write_json
from lmk.metrics import auroc, nme_per_face
from lmk.plotting import pyplot, save_figure
from lmk.predict import make_input, record_window
from lmk.runtime import load_runner

PERTURBED, AWAY = 9, 2  # boxes per face: perturbed ones, no-face windows (plus the annotation box)
BAD_NME = 0.10


def windows(win: CropWindow, rng: np.random.Generator) -> list[tuple[CropWindow, bool]]:
    """(window, has the face) for one annotated face: its own, perturbed ones, and no-face ones."""
    out = [(win, True)]
    for _ in range(PERTURBED):
        side = win.side * np.exp(rng.uniform(np.log(0.65), np.log(1.6)))
        dx, dy = rng.uniform(-0.3, 0.3, size=2) * win.side
        out.append((CropWindow(win.cx + dx, win.cy + dy, side), True))
    for _ in range(AWAY):
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(1.2, 2.0) * win.side
        out.append((CropWindow(win.cx + dist * np.cos(angle), win.cy + dist * np.sin(angle), win.side), False))
    return out


def measure(path: Path, records: list, seed: int = 0) -> dict:
    run, meta = load_runner(path, threads=1, with_scores=True)
    spec = InputSpec.from_meta(meta)
    rng = np.random.default_rng(seed)
    conf, good = [], []
    for rec in records:
        image = read_rgb(rec.image_path)
        for win, has_face in windows(record_window(rec, spec), rng):
            points, scores = run(make_input(image, win, spec)[None])
            if scores is None:
                raise ValueError(f"{path}: the file has no scores output (re-export it with this lmk)")
            nme = nme_per_face(normalized_to_image(points[0], win)[None], rec.points[None], "wflw98")[0]
            conf.append(float(scores[0].mean()))
            good.append(bool(has_face and nme <= BAD_NME))
    conf, good = np.array(conf), np.array(good)
    cuts = np.unique(conf)
    j = [(conf[good] >= c).mean() - (conf[~good] >= c).mean() for c in cuts]
    best = float(cuts[int(np.argmax(j))])
    return {
        "file": str(path),
        "crops": len(conf),
        "bad_share": float((~good).mean()),
        "auroc": auroc(good, conf),
        "youden_threshold": best,
        "good_above": float((conf[good] >= best).mean()),
        "bad_above": float((conf[~good] >= best).mean()),
        "conf_good": conf[good].tolist(),
        "conf_bad": conf[~good].tolist(),
    }


def markdown(rows: list[dict], split: str) -> str:
    lines = [
        f"# Face confidence against box errors (WFLW-mini {split})",
        "",
        "Made by `python benchmarks/confidence.py --split " + split + " FILES` (see its docstring for the",
        "perturbations). Bad: NME > 10 % or a window without the face.",
        "",
        "| file | crops | bad share | AUROC | threshold (Youden) | good above | bad above |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {Path(r['file']).name} | {r['crops']} | {r['bad_share']:.2f} | {r['auroc']:.3f} | "
            f"{r['youden_threshold']:.3f} | {r['good_above']:.2f} | {r['bad_above']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"))
    ap.add_argument("--split", choices=["val", "test"], default="val")
    ap.add_argument("--out", type=Path, default=None, help="write OUT.json, OUT.md, OUT.png")
    args = ap.parse_args()
    if args.split == "val":
        records = split_by_image(read_wflw(args.data, "train"), 0.1, 0)[1]
    else:
        records = read_wflw(args.data, "test")
    rows = [measure(f, records) for f in args.files]
    print(markdown(rows, args.split))
    if args.out:
        write_json(args.out.with_suffix(".json"), {"split": args.split, "rows": rows})
        atomic_write_text(args.out.with_suffix(".md"), markdown(rows, args.split))
        plt = pyplot()
        fig, axes = plt.subplots(1, len(rows), figsize=(4 * len(rows), 3.2), squeeze=False)
        for ax, r in zip(axes[0], rows):
            bins = np.linspace(0, 1, 41)
            ax.hist(r["conf_good"], bins, alpha=0.6, label="good (NME ≤ 10 %)")
            ax.hist(r["conf_bad"], bins, alpha=0.6, label="bad / no face")
            ax.axvline(r["youden_threshold"], color="k", lw=1)
            ax.set_title(f"{Path(r['file']).stem}: AUROC {r['auroc']:.3f}", fontsize=9)
            ax.set_xlabel("face confidence")
        save_figure(plt, fig, axes[0][0], args.out.with_suffix(".png"))


if __name__ == "__main__":
    main()
