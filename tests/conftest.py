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
