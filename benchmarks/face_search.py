"""Faces found by `lmk predict` in photos: the detector and the landmark cascade (`lmk.predict.
FaceSearch`: the detector's weaker candidates kept, the landmark model's confidence deciding which
are faces, each face re-framed by the box its own points imply), on WFLW-mini.

    python benchmarks/face_search.py --fit     # train: sweep the cascade's options, apply the rule
    python benchmarks/face_search.py           # test: recall, NME and latency of the shipped defaults

-> benchmarks/results/face_search.{json,md} (the sweep under "fit", the test under "eval"; each run
keeps the other's part). Recall is counted as in benchmarks/detector.py: annotated faces with a
final box at IoU >= 0.5 (0.3), greedy one-to-one matching; the final box is the one `lmk predict`
reports. The NME of a found face is that of the points `lmk predict` returns for it, next to the
same model's NME from the annotation box.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import statistics
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detector import ImageTruth, nme_pairs, read_images, recall_stats  # noqa: E402  (the photo helpers)

from lmk.artifact import InputSpec  # noqa: E402
from lmk.data.crop import read_rgb  # noqa: E402
from lmk.detect import DetectorOptions, load_detector  # noqa: E402
from lmk.detect.detector import Detection, merge_candidates  # noqa: E402
from lmk.files import atomic_write_text, write_json  # noqa: E402
from lmk.predict import FaceSearch, find_faces  # noqa: E402
from lmk.runtime import load_runner  # noqa: E402
from lmk.weights import default_deployable  # noqa: E402

SWEEP = {
    "detector_min_score": (0.2, 0.25, 0.3, 0.4),
    "min_confidence": (0.0, 0.5, 0.6, 0.7),
    "passes": (1, 2, 3),
}
RULE = (
    "Highest recall at IoU 0.5 on the train faces that carry an attribute flag (the kind of face the "
    "test split holds); then the fewest unmatched faces per image; then the fewest landmark passes."
)
RESULTS = Path(__file__).resolve().parent / "results" / "face_search"


class MemoRunner:
    """A scored runner that remembers its outputs by input bytes: the sweep's option sets share
    most crops, so each distinct crop runs once."""

    def __init__(self, run):
        self.run, self.memo, self.calls = run, {}, 0

    def __call__(self, x: np.ndarray):
        key = hashlib.sha1(np.ascontiguousarray(x[..., ::5, ::5]).tobytes()).digest()  # distinct crops differ there
        if key not in self.memo:
            self.calls += 1
            self.memo[key] = self.run(x)
        return self.memo[key]


class CountingRunner:
    """A scored runner that counts its calls (landmark runs per photo)."""

    def __init__(self, run):
        self.run, self.calls = run, 0

    def __call__(self, x: np.ndarray):
        self.calls += 1
        return self.run(x)


def detections_at(det, cached: list, size: tuple[int, int], min_score: float) -> list[Detection]:
    """What `Detector.detect` returns at `min_score`, from tile candidates cached at a lower floor."""
    return det.detections(*merge_candidates(cached, *size, replace(det.options, min_score=min_score)))


def final_boxes(faces) -> np.ndarray:
    return np.array([f.box for f in faces], dtype=np.float64).reshape(-1, 4)


def run_fit(args: argparse.Namespace) -> dict:
    images = read_images(args.data, "train")
    run, meta = load_runner(args.model, threads=1, with_scores=True)
    spec, memo = InputSpec.from_meta(meta), MemoRunner(run)
    det = load_detector(threads=1)
    floor = min(SWEEP["detector_min_score"])
    keys = list(itertools.product(*SWEEP.values()))
    boxes: dict[tuple, list[np.ndarray]] = {k: [] for k in keys}
    sizes = []
    for n, im in enumerate(images):
        image = read_rgb(im.path)
        size = (image.shape[1], image.shape[0])
        sizes.append(size)
        cached = [det.tile_candidates(image, t, min_score=floor) for t in det.tiles(*size)]
        for s in SWEEP["detector_min_score"]:
            dets = detections_at(det, cached, size, s)
            for c, p in itertools.product(SWEEP["min_confidence"], SWEEP["passes"]):
                search = FaceSearch(detector_min_score=s, min_confidence=c, passes=p)
                boxes[(s, c, p)].append(final_boxes(find_faces(image, dets, memo, spec, search)))
        if n % 25 == 0:
            print(f"fit: {n}/{len(images)} images, {memo.calls} landmark runs", flush=True)
    rows = []
    for s, c, p in keys:
        stats = recall_stats(images, boxes[(s, c, p)], sizes)
        rows.append({"detector_min_score": s, "min_confidence": c, "passes": p, **stats})
    best = max(rows, key=lambda r: (r["recall_50_flagged"], -r["unmatched_per_image"], -r["passes"]))
    chosen = {k: best[k] for k in SWEEP}
    default = {k: getattr(FaceSearch(), k) for k in SWEEP}
    return {
        "split": "train",
        "model": str(args.model),
        "rule": RULE,
        "rows": rows,
        "chosen": chosen,
        "default_matches_choice": chosen == default,
        "default": default,
    }


def search_rows(images: list[ImageTruth], args) -> dict:
    """Per configuration: the final boxes of every image, latency per photo (detector + landmark
    cascade) and the landmark runs it took."""
    run, meta = load_runner(args.model, threads=1, with_scores=True)
    spec = InputSpec.from_meta(meta)
    search = FaceSearch()
    configs = {
        "detector alone (its own min_score, mapped box)": None,
        "detector + landmark cascade (lmk predict)": search,
    }
    out = {}
    for label, s in configs.items():
        opts = DetectorOptions() if s is None else DetectorOptions(min_score=s.detector_min_score)
        det = load_detector(threads=1, options=opts)
        counter = CountingRunner(run)
        per_image, ms, faces_all = [], [], []
        for im in images:
            image = read_rgb(im.path)
            t = time.perf_counter()
            dets = det.detect(image)
            faces = find_faces(image, dets, counter, spec, s) if s is not None else dets
            ms.append((time.perf_counter() - t) * 1000)
            per_image.append(np.array([f.box for f in faces], dtype=np.float64).reshape(-1, 4))
            faces_all.append(faces)
        out[label] = {"search": None if s is None else asdict(s), "boxes": per_image, "ms": ms,
                      "faces": faces_all, "landmark_runs": counter.calls}  # fmt: skip
    return {"spec": spec, "run": run, "configs": out}


def nme_found(images: list[ImageTruth], faces_per_image: list, run, spec, cascade: bool) -> dict:
    """NME (%) of the found faces (IoU >= 0.5): from what `lmk predict` returns (the cascade's
    points; the detector alone: one pass from its mapped box) and from the annotation box."""
    boxes = [np.array([f.box for f in faces], dtype=np.float64).reshape(-1, 4) for faces in faces_per_image]
    points = [[f.points for f in faces] for faces in faces_per_image] if cascade else None
    n = nme_pairs(images, boxes, lambda x: run(x)[0], spec, per_image_points=points)
    return {
        "faces": n["faces"],
        "nme_found": n["nme_detector_boxes"],
        "nme_annotation_boxes": n["nme_annotation_boxes"],
        "difference": n["difference"],
    }


def run_eval(args: argparse.Namespace) -> dict:
    images = read_images(args.data, args.split)
    res = search_rows(images, args)
    sizes = [read_rgb(im.path).shape[1::-1] for im in images]
    result = {"split": args.split, "model": str(args.model), "search": asdict(FaceSearch()), "configs": {}}
    for label, c in res["configs"].items():
        row = recall_stats(images, c["boxes"], sizes)
        row["nme"] = nme_found(images, c["faces"], res["run"], res["spec"], c["search"] is not None)
        row["latency_ms_median"] = round(statistics.median(c["ms"]), 1)
        row["latency_ms_p90"] = round(float(np.percentile(c["ms"], 90)), 1)
        row["landmark_runs_per_image"] = round(c["landmark_runs"] / len(images), 2)
        result["configs"][label] = row
        print(label, {k: v for k, v in row.items() if k != "recall_50_by_face_size"}, flush=True)
    return result


def pct(v) -> str:
    return "" if v is None else f"{100 * v:.1f}"


def render(res: dict) -> str:
    lines = ["# Faces found by `lmk predict` in photos (benchmarks/face_search.py)", ""]
    ev = res.get("eval")
    if ev:
        lines += [
            f"Split: **{ev['split']}** ({next(iter(ev['configs'].values()))['faces']} annotated faces). "
            f"Landmark model: `{Path(ev['model']).name}`. Cascade (`lmk.predict.FaceSearch`, chosen on "
            f"train below): {ev['search']}. Latency: one thread, per photo, detector (whole image + tiles) "
            "and landmark passes included.",
            "",
            "| faces from | recall @0.5 % | recall @0.3 % | unmatched / image | landmark runs / image | "
            "NME of found faces | NME from annotation boxes | difference | latency ms (median / p90) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for label, r in ev["configs"].items():
            n = r["nme"]
            lines.append(
                f"| {label} | {pct(r['recall_50'])} | {pct(r['recall_30'])} | {r['unmatched_per_image']} | "
                f"{r['landmark_runs_per_image']} | {n['nme_found']:.3f} ({n['faces']} faces) | "
                f"{n['nme_annotation_boxes']:.3f} | {n['difference']:+.3f} | "
                f"{r['latency_ms_median']} / {r['latency_ms_p90']} |"
            )
        lines += [
            "",
            "'detector alone' is the detector's own box and threshold (benchmarks/results/detector.md's "
            "configuration), its landmarks one pass from that box; 'unmatched' counts final boxes "
            "matching no annotated face at IoU 0.3, mostly real faces WFLW does not annotate.",
            "",
        ]
    fit = res.get("fit")
    if fit:
        lines += [
            "## How the cascade was chosen (train split)",
            "",
            f"Rule: {fit['rule']} Landmark model: `{Path(fit['model']).name}` (its training faces "
            "include these: its confidence and points are better here than on new faces).",
            "",
            f"Chosen: {fit['chosen']}; `FaceSearch()` defaults "
            + ("match it." if fit["default_matches_choice"] else f"**differ**: {fit['default']}."),
            "",
            "| detector_min_score | min_confidence | passes | recall @0.5 % | @0.5 flagged % | recall @0.3 % | "
            "unmatched / image |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in fit["rows"]:
            mark = " **(chosen)**" if all(r[k] == fit["chosen"][k] for k in SWEEP) else ""
            lines.append(
                f"| {r['detector_min_score']}{mark} | {r['min_confidence']} | {r['passes']} | {pct(r['recall_50'])} | "
                f"{pct(r['recall_50_flagged'])} | {pct(r['recall_30'])} | {r['unmatched_per_image']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--model", type=Path, default=None, help="landmark model (default: the shipped deployable)")
    ap.add_argument("--fit", action="store_true", help="sweep the cascade on train instead of the test run")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    args.model = args.model or default_deployable()
    path = args.out.with_suffix(".json")
    res = json.loads(path.read_text()) if path.is_file() else {}
    if args.fit:
        res["fit"] = run_fit(args)
        print("chosen", res["fit"]["chosen"], "defaults match:", res["fit"]["default_matches_choice"])
    else:
        res["eval"] = run_eval(args)
    write_json(path, res)
    atomic_write_text(args.out.with_suffix(".md"), render(res))
    print(render(res))


if __name__ == "__main__":
    main()
