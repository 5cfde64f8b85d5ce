"""What `lmk predict` adds per face over the bare engine call: crop, normalise, run, map back.

    python benchmarks/predict_overhead.py FILE.onnx FILE.mnn ... --out benchmarks/results/predict_overhead

Per file, one thread, the same faces (WFLW-mini test images and annotation boxes), taking turns
call by call, on one session: the box's window, warpAffine crop and normalisation; the engine
call (the runner with scores, as predict calls it); mapping the points back and the face
confidence; and `lmk.predict.predict_face` doing all three. Medians.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from lmk.artifact import InputSpec
from lmk.data.crop import normalized_to_image, read_rgb
from lmk.data.readers import read_wflw
from lmk.files import atomic_write_text, write_json
from lmk.predict import box_window, make_input, predict_face
from lmk.runtime import face_confidence, load_runner


def measure(path: Path, records: list, rounds: int) -> dict:
    scored, meta = load_runner(path, threads=1, with_scores=True)  # one session, as predict runs it
    spec = InputSpec.from_meta(meta)
    faces = [(read_rgb(r.image_path), r.box) for r in records]
    for img, box in faces[:3]:  # warm-up
        predict_face(img, box, scored, spec)
    pre, engine, post, whole = [], [], [], []
    for _ in range(rounds):
        for img, box in faces:
            t0 = time.perf_counter()
            win = box_window(box, spec)
            x = make_input(img, win, spec)[None]
            t1 = time.perf_counter()
            points, scores = scored(x)
            t2 = time.perf_counter()
            normalized_to_image(np.asarray(points[0], dtype=np.float64), win)
            face_confidence(None if scores is None else scores[0])
            t3 = time.perf_counter()
            predict_face(img, box, scored, spec)
            t4 = time.perf_counter()
            pre.append(t1 - t0)
            engine.append(t2 - t1)
            post.append(t3 - t2)
            whole.append(t4 - t3)
    timed = {"pre": pre, "engine": engine, "post": post, "whole": whole}
    med = {k: float(np.median(v)) * 1e3 for k, v in timed.items()}
    return {
        "file": str(path),
        "calls": len(engine),
        "engine_ms": med["engine"],
        "crop_normalise_ms": med["pre"],
        "map_back_ms": med["post"],
        "overhead_ms": med["pre"] + med["post"],
        "predict_face_ms": med["whole"],
    }


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
        "Overhead: the box's window, crop and normalisation, plus mapping the points back and the face",
        "confidence, each timed on its own around the engine call (the difference of two noisy medians",
        "would hide it on a busy machine); `predict_face` is the whole path in one call.",
        "",
        "| file | engine ms | crop + normalise ms | map back ms | overhead ms | predict_face ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {Path(r['file']).name} | {r['engine_ms']:.3f} | {r['crop_normalise_ms']:.3f} | {r['map_back_ms']:.3f} "
        f"| {r['overhead_ms']:.3f} | {r['predict_face_ms']:.3f} |"
        for r in rows
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_json(args.out.with_suffix(".json"), {"rows": rows})
        atomic_write_text(args.out.with_suffix(".md"), text)


if __name__ == "__main__":
    main()
