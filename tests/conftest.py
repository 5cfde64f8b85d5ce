from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "src" / "lmk" / "samples" / "wflw-sample"
SHARED = Path(os.environ.get("LMK_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def sample_root() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "wflw-mini").is_dir():
        pytest.skip(f"shared data not found at {SHARED} (set LMK_SHARED_DATA)")
    return SHARED


def tiny_config(out, **kw):
    """A ResNet-18 at 64 px on the 20-face sample: trains in seconds on a CPU."""
    from lmk.training.config import TrainConfig

    base = {
        "data": str(SAMPLE),
        "out": str(out),
        "backbone": "resnet18",
        "head": "gap",
        "pretrained": False,
        "input_size": 64,
        "epochs": 3,
        "batch_size": 10,
        "val_fraction": 0.0,
        "test_split": False,
        "channels_last": False,
    }
    return TrainConfig(**{**base, **kw})


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    from lmk.training.engine import fit

    return fit(tiny_config(tmp_path_factory.mktemp("ckpt")), log=lambda *_: None)


@pytest.fixture(scope="session", autouse=True)
def arm_cache(tmp_path_factory) -> Path:
    """The emulated ARM environment lives in a temporary folder during tests (never ~/.cache)."""
    path = tmp_path_factory.mktemp("arm") / "env"
    os.environ["LMK_ARM_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def arm_env(arm_cache):
    """qemu + arm64 Python + MNN aarch64, set up with apt-get and pip (about 20 s, once)."""
    from lmk.arm.emulator import EmulatorError, ensure_env

    try:
        return ensure_env(arm_cache, log=lambda *_: None)
    except EmulatorError as exc:
        pytest.skip(f"ARM emulation unavailable here: {exc}")


@pytest.fixture(scope="session")
def fp32_export(tiny_checkpoint, sample_root, tmp_path_factory) -> Path:
    """`lmk export --to mnn` of the tiny checkpoint on the sample (model.onnx, model.mnn + sidecars)."""
    from typer.testing import CliRunner

    from lmk.cli import app

    out = tmp_path_factory.mktemp("fp32_export")
    args = [
        "export",
        "--checkpoint",
        str(tiny_checkpoint),
        "--to",
        "mnn",
        "--out",
        str(out),
        "--data",
        str(sample_root),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return out


def copy_export(src: Path, dst: Path) -> Path:
    """A private copy of an export folder's fp32 files; returns the copied model.onnx."""
    import shutil

    dst.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if p.is_file():
            shutil.copy2(p, dst / p.name)
    return dst / "model.onnx"


def write_300w_folder(root: Path, records) -> Path:
    """A 300-W-layout folder (IMAGE.jpg + IMAGE.pts, 1-based 68 points) made from WFLW records
    mapped to 68 (PROTOCOL.md): real faces in the layout `read_300w` reads, one face per image."""
    import shutil

    from lmk.schemes import MAP_98_TO_68

    root.mkdir(parents=True, exist_ok=True)
    for i, rec in enumerate(records):
        stem = root / f"face{i:03d}"
        shutil.copy(rec.image_path, stem.with_suffix(".jpg"))
        rows = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in rec.points[MAP_98_TO_68])
        stem.with_suffix(".pts").write_text(f"version: 1\nn_points: 68\n{{\n{rows}\n}}\n")
    return root
