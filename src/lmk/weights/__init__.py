"""The models shipped with lmk (trained on WFLW-mini and 300-W: non-commercial research use only).

Two defaults: the checkpoint (training, export and quantization start from it; needs torch) and
the deployable file made from it (what predict runs, with the base install's MNN: no torch)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_NAME = "wflw98_lite2_pip.pt"
# int8-stored weights, fp32 compute: the checkpoint's accuracy at half the size, on any CPU
DEFAULT_DEPLOYABLE = "wflw98_lite2_pip.w8.mnn"


def default_checkpoint() -> Path:
    return Path(__file__).with_name(DEFAULT_NAME)


def default_deployable() -> Path:
    return Path(__file__).with_name(DEFAULT_DEPLOYABLE)


def torch_available() -> bool:
    from importlib.util import find_spec

    return find_spec("torch") is not None


def default_model() -> Path:
    """What eval and bench score when no file is given: the checkpoint where torch is installed,
    else the deployable file."""
    return default_checkpoint() if torch_available() else default_deployable()
