from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "wflw-sample"
SHARED = Path(os.environ.get("LMK_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def sample_root() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "wflw-mini").is_dir():
        pytest.skip(f"shared data not found at {SHARED} (set LMK_SHARED_DATA)")
    return SHARED


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A ResNet-18 GAP model at 64 px trained for 3 epochs on the sample (seconds on a CPU)."""
    from lmk.training.config import TrainConfig
    from lmk.training.engine import fit

    out = tmp_path_factory.mktemp("ckpt")
    cfg = TrainConfig(
        data=str(SAMPLE),
        out=str(out),
        backbone="resnet18",
        head="gap",
        pretrained=False,
        input_size=64,
        epochs=3,
        batch_size=10,
        val_fraction=0.0,
        test_split=False,
        channels_last=False,
    )
    return fit(cfg, log=lambda *_: None)
