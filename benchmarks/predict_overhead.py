"""What `lmk predict` adds per face over the bare engine call: crop, normalise, run, map back.

    python benchmarks/predict_overhead.py FILE.onnx FILE.mnn ... --out benchmarks/results/predict_overhead

Per file, one thread, the same faces (WFLW-mini test images and annotation boxes), taking turns
call by call: the engine alone on a prepared input (`runner(x)`) against the whole face path
(`lmk.predict.predict_face`: warpAffine crop, normalisation, the same runner with scores, points
mapped back to the image). Reports medians and the difference.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from lmk.artifact import InputSpec
from lmk.data.crop import read_rgb
from lmk.data.readers import read_wflw
from lmk.files import atomic_write_text, write_json
from lmk.predict import make_input, predict_face, record_window
from lmk.runtime import load_runner


def measure(path: Path, records: list, rounds: int) -> dict:
    bare, _ = load_runner(path, threads=1)
    scored, meta = load_runner(path, threads=1, with_scores=True)
    spec = InputSpec.from_meta(meta)
    faces = [(read_rgb(r.image_path), r.box, record_window(r, spec)) for r in records]
    inputs = [make_input(img, win, spec)[None] for img, _, win in faces]
    for img, box, _ in faces[:3]:  # warm-up
        predict_face(img, box, scored, spec)
    t_bare, t_full = [], []
    for _ in range(rounds):
        for (img, box, _), x in zip(faces, inputs):
            t0 = time.perf_counter()
            bare(x)
            t1 = time.perf_counter()
            predict_face(img, box, scored, spec)
            t2 = time.perf_counter()
            t_bare.append(t1 - t0)
            t_full.append(t2 - t1)
    b, f = float(np.median(t_bare)) * 1e3, float(np.median(t_full)) * 1e3
    return {"file": str(path), "calls": len(t_bare), "engine_ms": b, "predict_face_ms": f, "overhead_ms": f - b}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"))
    ap.add_argument("--faces", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    records = read_wflw(args.data, "test")[: args.faces]
    rows = [measure(f, records, args.rounds) for f in args.files]
    lines = [
        "# Per-face overhead of `lmk predict` over the bare engine call (1 thread, medians)",
        "",
        f"`python benchmarks/predict_overhead.py {' '.join(str(f) for f in args.files)}` on {len(records)} "
        f"WFLW-mini test faces x {args.rounds} rounds.",
        "",
        "| file | engine ms | crop + normalise + run + map back ms | overhead ms |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {Path(r['file']).name} | {r['engine_ms']:.3f} | {r['predict_face_ms']:.3f} | {r['overhead_ms']:.3f} |"
        for r in rows
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_json(args.out.with_suffix(".json"), {"rows": rows})
        atomic_write_text(args.out.with_suffix(".md"), text)


if __name__ == "__main__":
    main()
