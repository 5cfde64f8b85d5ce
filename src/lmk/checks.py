"""Checks of a command's inputs and outputs that run before any work: a bad option costs the user
one line and exit 2, never minutes of work followed by a traceback. Pure Python (no torch)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class UsageError(ValueError):
    """A bad option value; the message names the option and the file."""


def writable_dir(path: Path, option: str) -> Path:
    """A folder that takes new files, or that can be made where it is named: probed by writing a
    file (in it, or in its nearest existing parent), since permission bits say nothing for root or
    on a read-only mount. Nothing is left behind: the command makes the folder when it writes."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: {option} names an existing file; give a folder")
    probe_in = path
    while not probe_in.exists():
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        raise UsageError(f"{path}: {option} lies under {probe_in}, which is a file")
    try:
        fd, probe = tempfile.mkstemp(dir=probe_in, prefix=".lmk-write-probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"{path}: {option} folder is not writable ({exc.strerror or exc})") from None
    return path


def writable_file(path: Path, option: str) -> Path:
    """A file path whose folder takes new files and that is not itself a folder."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: {option} names a folder; give a file name")
    writable_dir(path.parent, f"{option} file's")
    return path


def checkpoint_file(path: Path, option: str = "--checkpoint") -> Path:
    """A PyTorch checkpoint (.pt) for the options that rebuild the model from its weights."""
    path = Path(path)
    if path.suffix.lower() not in (".pt", ".pth"):
        kind = {".onnx": "an ONNX file", ".mnn": "an MNN file", ".pt2": "a PT2E int8 program"}.get(
            path.suffix.lower(), f"a {path.suffix or 'suffix-less'} file"
        )
        raise UsageError(
            f"{path}: {option} takes a .pt checkpoint (lmk train's model.pt), not {kind}; "
            "eval, predict and bench take every model file"
        )
    if not path.is_file():
        raise UsageError(f"{path}: checkpoint not found ({option})")
    return path


def at_least(value: int, minimum: int, option: str) -> int:
    if value < minimum:
        raise UsageError(f"{option} must be >= {minimum}, got {value}")
    return value


def box_in_image(box: tuple[float, float, float, float], width: int, height: int, where: str) -> str | None:
    """None when the box lies inside the image; a warning when part of it is outside; an error
    when none of it is (there is no face to crop there)."""
    x0, y0, x1, y1 = box
    ix = min(x1, width - 0.5) - max(x0, -0.5)
    iy = min(y1, height - 0.5) - max(y0, -0.5)
    if ix <= 0 or iy <= 0:
        raise UsageError(f"{where}: --box {x0:g},{y0:g},{x1:g},{y1:g} lies outside the {width}x{height} image")
    inside = ix * iy / ((x1 - x0) * (y1 - y0))
    if inside < 0.999:
        return f"{where}: --box {x0:g},{y0:g},{x1:g},{y1:g} is {100 * (1 - inside):.0f} % outside the image"
    return None


def points_option(points: int) -> int:
    """--points: a layout a deployable can have (0: the model's own; 98 WFLW points, or 300-W's 68)."""
    if points not in (0, 98, 68):
        raise UsageError(f"--points must be 0 (the model's own), 98 or 68, got {points}")
    return points
