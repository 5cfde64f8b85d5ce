"""The artifact: what flows between lmk's stages, and the one place that defines it.

- `InputSpec`: the crop/input contract (ARTIFACT.md). Training builds its crops from it, every
  model file carries it in its metadata, every runtime rebuilds it from there.
- `build_meta` / `validate_meta` / `read_sidecar` / `write_sidecar`: the metadata of a file.
- `Layout`: the names of every file lmk writes for one model (deployables, sidecars, reports).
- `stamp`: put the metrics a file measured into the file itself and into its sidecar.

Imports nothing beyond the standard library at import time: the torch-free runtimes read it too;
ONNX and MNN are imported only to write into such files.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from lmk import __version__
from lmk.files import write_json

FORMAT = "lmk-landmarks/1"
REQUIRED = ("format", "scheme", "num_points", "input", "crop", "output", "precision", "runtime", "source", "metrics")
BOXES = ("wflw_rect", "landmark_bbox")


class MetadataError(ValueError):
    pass


@dataclass(frozen=True)
class InputSpec:
    """How a crop is made and normalised: side `size` px, window = `enlarge` x the box's longer
    side around its centre (`box` says which box), pixels -> (p / scale - mean) / std, RGB, NCHW."""

    size: int = 256
    box: str = "wflw_rect"  # or "landmark_bbox"
    enlarge: float = 1.2
    scale: float = 255.0
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)

    def __post_init__(self):
        if self.box not in BOXES:
            raise MetadataError(f"crop box {self.box!r}: expected one of {', '.join(BOXES)}")

    @classmethod
    def from_meta(cls, meta: dict) -> InputSpec:
        return cls(
            size=int(meta["input"]["shape"][-1]),
            box=meta["crop"]["box"],
            enlarge=float(meta["crop"]["enlarge"]),
            scale=float(meta["input"]["scale"]),
            mean=tuple(float(v) for v in meta["input"]["mean"]),
            std=tuple(float(v) for v in meta["input"]["std"]),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def build_meta(
    spec: InputSpec,
    num_points: int = 98,
    scheme: str = "wflw98",
    precision: str = "fp32",
    runtime: str = "torch",
    checkpoint_sha256: str = "",
    metrics: dict | None = None,
    model: dict | None = None,
) -> dict:
    meta = {
        "format": FORMAT,
        "scheme": scheme,
        "num_points": num_points,
        "input": {
            "name": "input",
            "shape": [1, 3, spec.size, spec.size],
            "layout": "NCHW",
            "color": "RGB",
            "scale": float(spec.scale),
            "mean": [float(v) for v in spec.mean],
            "std": [float(v) for v in spec.std],
        },
        "crop": {"box": spec.box, "enlarge": float(spec.enlarge)},
        "output": {"name": "landmarks", "shape": [1, num_points, 2], "units": "crop_normalized"},
        "precision": precision,
        "runtime": runtime,
        "source": {"checkpoint_sha256": checkpoint_sha256, "lmk_version": __version__},
        "metrics": metrics or {},
    }
    if model:
        meta["model"] = model
    return meta


def derive_meta(base: dict, precision: str, runtime: str, checkpoint_sha256: str | None = None) -> dict:
    """The metadata of a file made from `base`'s model: same contract, its own precision/runtime,
    no metrics yet (a file carries only what it measured itself)."""
    meta = copy.deepcopy(base)
    meta.update(precision=precision, runtime=runtime, metrics={})
    for key in ("arm_verified", "arm_verified_low"):
        meta.pop(key, None)
    if checkpoint_sha256 is not None:
        meta["source"]["checkpoint_sha256"] = checkpoint_sha256
    return meta


def with_scores_meta(meta: dict) -> dict:
    """The metadata of a file that also outputs `scores` (a copy): per point, 1 - the normalised
    entropy of its heatmap, in [0, 1]; a face's confidence is their mean."""
    meta = copy.deepcopy(meta)
    meta["scores"] = {
        "name": "scores",
        "shape": [1, int(meta["num_points"])],
        "units": "confidence_0_1",
        "face_confidence": "mean over the points",
    }
    return meta


def validate_meta(meta: dict, where: str) -> dict:
    """Raise MetadataError naming `where` when a required field is missing or wrong."""
    if not isinstance(meta, dict):
        raise MetadataError(f"{where}: metadata is not a JSON object")
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise MetadataError(f"{where}: metadata lacks {', '.join(missing)}")
    if meta["format"] != FORMAT:
        raise MetadataError(f"{where}: metadata format {meta['format']!r}, expected {FORMAT!r}")
    if meta["output"].get("units") != "crop_normalized":
        raise MetadataError(f"{where}: output units {meta['output'].get('units')!r} not supported")
    try:
        InputSpec.from_meta(meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise MetadataError(f"{where}: input/crop fields unreadable ({exc})") from None
    return meta


def sidecar_path(model_path: Path) -> Path:
    return Path(str(model_path) + ".json")


def read_sidecar(model_path: Path) -> dict:
    side = sidecar_path(model_path)
    if not side.is_file():
        raise MetadataError(f"{side}: sidecar metadata not found next to {model_path}")
    try:
        meta = json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise MetadataError(f"{side}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    return validate_meta(meta, str(side))


def write_sidecar(model_path: Path, meta: dict) -> Path:
    side = sidecar_path(model_path)
    write_json(side, meta)
    return side


def reference_nme(metrics: dict) -> float:
    """The NME of the PyTorch fp32 model a file was measured against (nme - delta_nme)."""
    return float(metrics["nme"]) - float(metrics.get("delta_nme", 0.0))


# kind -> (label in tables, file name suffix); the order is the order of the pipeline's table
FILES: dict[str, tuple[str, str]] = {
    "onnx": ("ONNX fp32", ".onnx"),
    "mnn": ("MNN fp32", ".mnn"),
    "mnn_fp16": ("MNN fp16 weights", ".fp16.mnn"),
    "mnn_w8": ("MNN w8 (int8 weights)", ".w8.mnn"),
    "ort_int8": ("ORT int8 (QDQ)", ".int8.onnx"),
    "torch_int8": ("torch int8 (PT2E)", ".int8.pt2"),
    "mnn_int8": ("MNN int8 (EMA)", ".int8.mnn"),
}
MNN_STORAGE = {"fp32": "mnn", "fp16": "mnn_fp16", "w8": "mnn_w8"}
INT8 = {"ort": "ort_int8", "torch": "torch_int8", "mnn": "mnn_int8"}


def artifact_name(checkpoint: Path, points: int = 0) -> str:
    """The files' stem: the checkpoint's, with `_68pt` when 68 points are asked for (`points` 0:
    the model's own, no suffix)."""
    return Path(checkpoint).stem + ("" if points in (0, 98) else f"_{points}pt")


@dataclass(frozen=True)
class Layout:
    """Every file of one model `name` in `folder`: NAME.onnx, NAME.int8.mnn, ..., their sidecars
    (FILE.json) and reports (FILE.arm.json/.md, NAME.reference.json, NAME.sensitivity.*)."""

    folder: Path
    name: str

    @classmethod
    def of(cls, path: Path) -> Layout:
        """The layout a deployable file belongs to (raises MetadataError for other names)."""
        path = Path(path)
        for suffix in sorted((s for _, s in FILES.values()), key=len, reverse=True):
            if path.name.endswith(suffix) and len(path.name) > len(suffix):
                return cls(path.parent, path.name[: -len(suffix)])
        known = ", ".join(s for _, s in FILES.values())
        raise MetadataError(f"{path}: not a name lmk writes (NAME{{{known}}})")

    def file(self, kind: str) -> Path:
        return self.folder / f"{self.name}{FILES[kind][1]}"

    def kind_of(self, path: Path) -> str:
        for kind in FILES:
            if self.file(kind) == Path(path):
                return kind
        raise MetadataError(f"{path}: not a file of {self.folder / self.name}")

    @property
    def onnx(self) -> Path:
        return self.file("onnx")

    def mnn(self, precision: str = "fp32") -> Path:
        return self.file(MNN_STORAGE[precision])

    def int8(self, runtime: str) -> Path:
        return self.file(INT8[runtime])

    @property
    def reference(self) -> Path:
        return self.folder / f"{self.name}.reference.json"

    def sensitivity(self, ext: str) -> Path:
        return self.folder / f"{self.name}.sensitivity.{ext}"

    def summary(self, ext: str) -> Path:
        return self.folder / f"summary.{ext}"

    def files(self) -> list[tuple[str, Path]]:
        """(label, path) of every deployable, in table order."""
        return [(label, self.file(kind)) for kind, (label, _) in FILES.items()]


def arm_reports(model_path: Path) -> tuple[Path, Path]:
    """FILE.arm.json and FILE.arm.md beside a .mnn file."""
    p = Path(model_path)
    return p.with_name(p.name + ".arm.json"), p.with_name(p.name + ".arm.md")


def set_onnx_meta(proto, meta: dict) -> None:
    """Put `meta` into an ONNX ModelProto's metadata_props['lmk'] (replacing an older one)."""
    for prop in list(proto.metadata_props):
        if prop.key == "lmk":
            proto.metadata_props.remove(prop)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "lmk", json.dumps(meta)


def embed_meta(path: Path, meta: dict, probe=None) -> bool:
    """Put `meta` inside the model file itself (ONNX metadata_props, MNN bizCode), atomically. True
    when done; False for an MNN file whose rewrite changes its outputs on `probe` (a (B, 3, H, W)
    batch): the file is then left as it was and the metadata lives in the sidecar only."""
    from lmk.files import atomic_write_bytes

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        import onnx

        proto = onnx.load(str(path))
        set_onnx_meta(proto, meta)
        atomic_write_bytes(path, proto.SerializeToString())
        return True
    if suffix == ".mnn":
        import os
        import tempfile

        import numpy as np

        from lmk.mnn_tools import convert_mnn
        from lmk.runtime.mnn_runner import load_mnn_runner

        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.stamp.") as work:
            stamped = Path(work) / path.name
            convert_mnn(path, stamped, meta, source_format="MNN")
            if probe is not None:
                before = load_mnn_runner(path, meta=meta)[0](probe)
                after = load_mnn_runner(stamped)[0](probe)
                if not np.array_equal(before, after):
                    return False
            os.replace(stamped, path)
        return True
    raise MetadataError(f"{path}: metadata is embedded in .onnx and .mnn files (a .pt2 gets it when saved)")


def stamp(path: Path, meta: dict, metrics: dict, probe=None, sidecar_for: Path | None = None) -> bool:
    """Record what the file at `path` measured: `metrics` into `meta`, `meta` into the file (where
    its format allows) and into the sidecar of `sidecar_for` (default: the file itself; a file that
    is measured under a temporary name gets the sidecar of its final name). Returns embed_meta's."""
    meta["metrics"] = metrics
    embedded = embed_meta(path, meta, probe) if Path(path).suffix.lower() in (".onnx", ".mnn") else False
    write_sidecar(sidecar_for or path, meta)
    return embedded
