"""Score predictions against records with the PROTOCOL.md metrics; write/read prediction files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lmk.artifact import InputSpec
from lmk.data.records import FaceRecord
from lmk.files import atomic_write_bytes
from lmk.metrics import Scores, ced, nme_per_face, score_subsets
from lmk.plotting import pyplot, save_figure
from lmk.schemes import MAP_98_TO_68


def to_record_scheme(pred98: np.ndarray, scheme: str) -> np.ndarray:
    """98-point predictions in the records' scheme (98 -> 68 for 300-W)."""
    if scheme == "wflw98":
        return pred98
    if scheme == "300w68":
        return pred98[:, MAP_98_TO_68]
    raise ValueError(f"unknown scheme {scheme!r}")


def evaluate_predictions(records: list[FaceRecord], pred: np.ndarray) -> tuple[dict[str, Scores], np.ndarray]:
    """Per-subset scores and the per-face NME (fractions). 98-point predictions are scored in the
    records' scheme; 68-point ones (a `--points 68` file) in 300-W's, WFLW truths mapped to 68."""
    scheme = records[0].scheme
    gt = np.stack([r.points for r in records])
    if pred.shape[1] == 68:
        gt = gt[:, MAP_98_TO_68] if scheme == "wflw98" else gt
        scheme = "300w68"
    else:
        pred = to_record_scheme(pred, scheme)
    nme_i = nme_per_face(pred, gt, scheme)
    return score_subsets(nme_i, [r.attributes for r in records]), nme_i


def score_runner(
    records: list[FaceRecord], runner, spec: InputSpec, batch_size: int = 1, progress: bool = True
) -> Scores:
    """Run a model over the records and score all faces (no flip test)."""
    from lmk.predict import predict_records

    pred = predict_records(records, runner, spec, batch_size=batch_size, progress=progress)
    return evaluate_predictions(records, pred)[0]["all"]


def format_table(scores: dict[str, Scores]) -> str:
    lines = [f"{'subset':<14}{'faces':>6}{'NME %':>9}{'FR@0.1 %':>10}{'AUC@0.1':>9}"]
    for name, s in scores.items():
        lines.append(f"{name:<14}{s.faces:>6}{s.nme:>9.3f}{s.fr:>10.2f}{s.auc:>9.4f}")
    return "\n".join(lines)


def write_predictions(path: Path, records: list[FaceRecord], pred: np.ndarray, images_root: Path) -> None:
    """One line per face in the WFLW annotation layout: coords, box, 6 flags, image path."""
    from lmk.schemes import WFLW_ATTRIBUTES

    lines = []
    for rec, p in zip(records, pred):
        coords = " ".join(f"{v:.6f}" for v in p.reshape(-1))
        box = " ".join(f"{v:.6f}".rstrip("0").rstrip(".") for v in rec.box)
        flags = " ".join(str(rec.attributes.get(a, 0)) for a in WFLW_ATTRIBUTES)
        try:
            rel = Path(rec.image_path).relative_to(images_root)
        except ValueError:
            rel = Path(rec.image_path)
        lines.append(f"{coords} {box} {flags} {rel.as_posix()}")
    atomic_write_bytes(Path(path), ("\n".join(lines) + "\n").encode())


def save_ced_plot(path: Path, curves: dict[str, np.ndarray]) -> bool:
    """CED curves (per-face NME arrays by label) as a PNG; False when matplotlib is absent."""
    plt = pyplot()
    if plt is None:
        return False
    x = np.linspace(0, 0.1, 1001)
    fig, ax = plt.subplots(figsize=(6, 4 + 0.25 * len(curves)))
    for label, nme_i in curves.items():
        ax.plot(x * 100, ced(nme_i, x), label=label)
    ax.set_xlabel("NME (%)")
    ax.set_ylabel("share of faces")
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    save_figure(plt, fig, ax, path)
    return True


@dataclass
class Evaluation:
    """One model scored on one set of faces: what `lmk eval` prints and writes."""

    model: Path
    dataset: str  # "wflw-mini/test", "300w-test"
    records: list[FaceRecord]
    pred: np.ndarray  # in image pixels, the model's own point layout
    scores: dict[str, Scores]
    nme_i: np.ndarray
    flip_test: bool

    def as_json(self) -> dict:
        from lmk.metrics import UNITS

        return {
            "model": str(self.model),
            "dataset": self.dataset,
            "flip_test": self.flip_test,
            "faces": len(self.records),
            "scores": {k: v.as_dict() for k, v in self.scores.items()},
            "units": UNITS,
        }

    def predictions_in_record_scheme(self) -> np.ndarray:
        """98-point predictions of 300-W faces as their 68 points; anything else as predicted."""
        scheme = self.records[0].scheme
        return self.pred[:, MAP_98_TO_68] if scheme == "300w68" and self.pred.shape[1] == 98 else self.pred


def load_val_split(checkpoint: Path, data: Path, dataset: str):
    """`--split val`: (faces, runner, meta) for the validation faces stored in a checkpoint's
    training config; the checkpoint is read once for both its config and its weights."""
    if dataset != "wflw" or Path(checkpoint).suffix != ".pt":
        raise ValueError(
            f"{checkpoint}: --split val needs a .pt checkpoint and a WFLW folder (it reads the training config)"
        )
    from lmk.checkpoint import load_model
    from lmk.data.split import validation_records
    from lmk.runtime.torch_runner import torch_runner

    model, blob = load_model(checkpoint)
    records = validation_records(data, blob.get("config", {}), str(checkpoint))
    return records, torch_runner(model), blob["meta"]


def evaluate_model(
    model: Path, data: Path, dataset: str = "wflw", split: str = "test", flip_test: bool = False
) -> Evaluation:
    """Score a model file (.pt/.pt2/.onnx/.mnn) on a WFLW split (or a .pt's validation faces) or a
    300-W folder, overall and per attribute."""
    from lmk.data.readers import read_dataset
    from lmk.predict import predict_records
    from lmk.runtime import load_runner

    model, data = Path(model), Path(data)
    if split == "val":
        records, runner, meta = load_val_split(model, data, dataset)
    else:
        records = read_dataset(data, dataset, split)
        runner, meta = load_runner(model)
    pred = predict_records(records, runner, InputSpec.from_meta(meta), flip_test=flip_test)
    scores, nme_i = evaluate_predictions(records, pred)
    name = f"{data.name}/{split}" if dataset == "wflw" else data.name
    return Evaluation(model, name, records, pred, scores, nme_i, flip_test)
