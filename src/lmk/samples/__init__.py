"""The in-package 20-face WFLW sample (WFLW test faces; non-commercial research use only): the
default data of every command, so that they run from any folder on a fresh install."""

from __future__ import annotations

from pathlib import Path

NOTICE = (
    "using the built-in 20-face sample: a smoke test whose numbers are not results "
    "(pass --data ../shared/data/wflw-mini, or another WFLW root, for real ones)"
)


def sample_root() -> Path:
    return Path(__file__).with_name("wflw-sample")
