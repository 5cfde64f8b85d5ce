"""The model shipped with lmk (fp16 weights, WFLW-mini; non-commercial research use only)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_NAME = "wflw98_lite2_pip.pt"


def default_checkpoint() -> Path:
    return Path(__file__).with_name(DEFAULT_NAME)
