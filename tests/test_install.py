"""The base install is the runtime: a fresh venv with `pip install lmk` (no extras) has no torch,
and predict (with its face detector), eval and bench run there on the shipped deployable file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory) -> Path:
    """A venv with lmk's base install, built from a copy of the source (the tree stays untouched)."""
    root = tmp_path_factory.mktemp("install")
    src = root / "lmk-src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "src", src / "src", ignore=IGNORED)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    proc = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(src)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        pytest.fail(f"base install failed: {proc.stderr[-2000:]}")
    return venv


def lmk(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "lmk"), *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_base_install_has_no_torch_and_runs_the_runtime(base_venv, sample_root, tmp_path):
    python = str(base_venv / "bin" / "python")
    assert subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0
    image = sorted((sample_root / "WFLW_images").rglob("*.jpg"))[0]
    # predict: no box, so the detector finds the faces; the shipped deployable file by default
    proc = lmk(base_venv, "predict", str(image), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["model"].endswith(".w8.mnn") and out["faces"]
    assert all(len(f["landmarks"]) == 98 and 0 <= f["confidence"] <= 1 for f in out["faces"])
    proc = lmk(base_venv, "eval", "--data", str(sample_root), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ".w8.mnn" in proc.stdout and "all" in proc.stdout
    model = out["model"]
    proc = lmk(
        base_venv, "bench", model, "--data", str(sample_root), "--runs", "2", "--out", str(tmp_path / "b"), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "b" / "bench.json").is_file()
    # what needs torch says so in one line
    proc = lmk(base_venv, "export", cwd=tmp_path)
    assert proc.returncode == 2 and "[train]" in proc.stderr and "Traceback" not in proc.stderr
