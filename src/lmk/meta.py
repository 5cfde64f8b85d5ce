"""The artifact metadata of ARTIFACT.md: build it, check it, write the sidecar atomically.

Pure Python: every runtime (torch-free ORT/MNN too) reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from lmk import __version__

FORMAT = "lmk-landmarks/1"
REQUIRED = ("format", "scheme", "num_points", "input", "crop", "output", "precision", "runtime", "source", "metrics")


class MetadataError(ValueError):
    pass


def build_meta(
    input_spec: dict,
    num_points: int = 98,
    scheme: str = "wflw98",
    precision: str = "fp32",
    runtime: str = "torch",
    checkpoint_sha256: str = "",
    metrics: dict | None = None,
    model: dict | None = None,
) -> dict:
    size = int(input_spec["size"])
    meta = {
        "format": FORMAT,
        "scheme": scheme,
        "num_points": num_points,
        "input": {
            "name": "input",
            "shape": [1, 3, size, size],
            "layout": "NCHW",
            "color": "RGB",
            "scale": float(input_spec["scale"]),
            "mean": [float(v) for v in input_spec["mean"]],
            "std": [float(v) for v in input_spec["std"]],
        },
        "crop": {"box": input_spec["box"], "enlarge": float(input_spec["enlarge"])},
        "output": {"name": "landmarks", "shape": [1, num_points, 2], "units": "crop_normalized"},
        "precision": precision,
        "runtime": runtime,
        "source": {"checkpoint_sha256": checkpoint_sha256, "lmk_version": __version__},
        "metrics": metrics or {},
    }
    if model:
        meta["model"] = model
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
    return meta


def input_spec_from_meta(meta: dict) -> dict:
    """The InputSpec fields (as a dict) that a runtime needs to build the crop."""
    return {
        "size": int(meta["input"]["shape"][-1]),
        "box": meta["crop"]["box"],
        "enlarge": float(meta["crop"]["enlarge"]),
        "scale": float(meta["input"]["scale"]),
        "mean": tuple(meta["input"]["mean"]),
        "std": tuple(meta["input"]["std"]),
    }


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def publish(tmp: str | Path, path: Path) -> None:
    """Give a finished temporary file normal permissions and rename it into place."""
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: dict) -> None:
    atomic_write_bytes(Path(path), (json.dumps(obj, indent=2) + "\n").encode())


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
