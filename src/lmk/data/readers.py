"""Readers for the official WFLW and 300-W layouts, returning plain FaceRecords.

A malformed line is an error naming the file and line; missing images are collected and
reported together (never silently skipped).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lmk.data.crop import landmark_box
from lmk.data.records import FaceRecord
from lmk.schemes import WFLW_ATTRIBUTES

WFLW_LIST_DIR = Path("WFLW_annotations") / "list_98pt_rect_attr_train_test"
WFLW_SPLITS = {"train": "list_98pt_rect_attr_train.txt", "test": "list_98pt_rect_attr_test.txt"}
WFLW_FIELDS = 98 * 2 + 4 + 6 + 1


class DataError(ValueError):
    """Bad input data; the message names the file (and line)."""


class MissingImagesError(DataError):
    def __init__(self, annotation: Path, missing: list[Path]):
        self.missing = missing
        shown = "\n  ".join(str(p) for p in missing[:20])
        more = f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else ""
        super().__init__(f"{annotation}: {len(missing)} image(s) referenced but missing:\n  {shown}{more}")


def parse_wflw_line(line: str, where: str, images_dir: Path) -> FaceRecord:
    fields = line.split()
    if len(fields) != WFLW_FIELDS:
        raise DataError(f"{where}: expected {WFLW_FIELDS} fields (196 coords, 4 box, 6 flags, path), got {len(fields)}")
    try:
        coords = np.array([float(v) for v in fields[:196]], dtype=np.float64).reshape(98, 2)
        box = tuple(float(v) for v in fields[196:200])
        flags = [int(v) for v in fields[200:206]]
    except ValueError as exc:
        raise DataError(f"{where}: non-numeric field ({exc})") from None
    if not np.all(np.isfinite(coords)):
        raise DataError(f"{where}: non-finite coordinate")
    if box[2] <= box[0] or box[3] <= box[1]:
        raise DataError(f"{where}: empty box {box}")
    if any(f not in (0, 1) for f in flags):
        raise DataError(f"{where}: attribute flags must be 0 or 1, got {flags}")
    return FaceRecord(
        image_path=images_dir / fields[206],
        points=coords,
        box=box,  # type: ignore[arg-type]
        scheme="wflw98",
        attributes=dict(zip(WFLW_ATTRIBUTES, flags)),
        source=where,
    )


def read_wflw_file(annotation: Path, images_dir: Path, check_images: bool = True) -> list[FaceRecord]:
    """Read one WFLW annotation list (207 fields a line)."""
    annotation = Path(annotation)
    if not annotation.is_file():
        raise DataError(f"{annotation}: annotation file not found")
    records = []
    with annotation.open() as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            records.append(parse_wflw_line(line, f"{annotation}:{lineno}", images_dir))
    if not records:
        raise DataError(f"{annotation}: no faces in file")
    if check_images:
        missing = sorted({r.image_path for r in records if not r.image_path.is_file()})
        if missing:
            raise MissingImagesError(annotation, missing)
    return records


def read_wflw(root: Path, split: str, check_images: bool = True) -> list[FaceRecord]:
    """Read `split` ('train' or 'test') of a folder in the official WFLW layout."""
    root = Path(root)
    if split not in WFLW_SPLITS:
        raise DataError(f"{root}: unknown WFLW split {split!r}; expected one of {sorted(WFLW_SPLITS)}")
    return read_wflw_file(root / WFLW_LIST_DIR / WFLW_SPLITS[split], root / "WFLW_images", check_images)


def read_pts(path: Path) -> np.ndarray:
    """Read a 300-W .pts file (with or without header); returns 0-based (N, 2) points."""
    path = Path(path)
    lines = path.read_text().splitlines()
    rows: list[tuple[float, float]] = []
    n_expected = None
    in_body = not any(ln.strip() == "{" for ln in lines)  # headerless: every non-empty line is a point
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if not in_body:
            if line.startswith("n_points"):
                try:
                    n_expected = int(line.split(":")[1])
                except (IndexError, ValueError):
                    raise DataError(f"{path}:{lineno}: bad n_points line {line!r}") from None
            elif line == "{":
                in_body = True
            elif not line.startswith("version"):
                raise DataError(f"{path}:{lineno}: unexpected header line {line!r}")
            continue
        if line == "}":
            break
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError
            rows.append((float(parts[0]) - 1.0, float(parts[1]) - 1.0))
        except ValueError:
            raise DataError(f"{path}:{lineno}: expected 'x y', got {line!r}") from None
    if n_expected is not None and len(rows) != n_expected:
        raise DataError(f"{path}: header says {n_expected} points, found {len(rows)}")
    if len(rows) != 68:
        raise DataError(f"{path}: expected 68 points, found {len(rows)}")
    return np.array(rows, dtype=np.float64)


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def read_300w(root: Path, check_images: bool = True) -> list[FaceRecord]:
    """Read every .pts under `root` (recursively); the box is the points' bounding box."""
    root = Path(root)
    pts_files = sorted(root.rglob("*.pts"))
    if not pts_files:
        raise DataError(f"{root}: no .pts files found")
    records, missing = [], []
    for pts in pts_files:
        points = read_pts(pts)
        image = next((pts.with_suffix(s) for s in IMAGE_SUFFIXES if pts.with_suffix(s).is_file()), None)
        if image is None:
            missing.append(pts.with_suffix(".jpg"))
            image = pts.with_suffix(".jpg")
        records.append(
            FaceRecord(image_path=image, points=points, box=landmark_box(points), scheme="300w68", source=str(pts))
        )
    if check_images and missing:
        raise MissingImagesError(root, missing)
    return records


def read_dataset(root: Path, dataset: str, split: str = "test") -> list[FaceRecord]:
    """Dispatch on dataset name ('wflw' or '300w')."""
    if dataset == "wflw":
        return read_wflw(root, split)
    if dataset == "300w":
        return read_300w(root)
    raise DataError(f"unknown dataset {dataset!r}; expected 'wflw' or '300w'")
