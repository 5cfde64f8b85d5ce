"""Model registry: a dict of backbone constructors and a dict of head constructors.

`build_model(ModelSpec(...))` is the one way to make a model; `ModelSpec` is stored in every
checkpoint so that the model can be rebuilt without the training code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from torch import nn

from lmk.models.efficientnet_lite import (
    efficientnet_lite0,
    efficientnet_lite0_cut4,
    efficientnet_lite0_cut5,
    efficientnet_lite1,
    efficientnet_lite2,
)
from lmk.models.heads import FlattenHead, GAPHead, PIPHead
from lmk.models.landmark_model import LandmarkModel
from lmk.models.mobilenetv3 import mobilenetv3_large
from lmk.models.resnet import resnet18

BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "resnet18": resnet18,
    "mobilenetv3_large": mobilenetv3_large,
    "efficientnet_lite0": efficientnet_lite0,
    "efficientnet_lite1": efficientnet_lite1,
    "efficientnet_lite2": efficientnet_lite2,
    "efficientnet_lite0_cut4": efficientnet_lite0_cut4,
    "efficientnet_lite0_cut5": efficientnet_lite0_cut5,
}


def _flatten(backbone, num_points: int, input_size: int) -> nn.Module:
    return FlattenHead(backbone.channels[-1], num_points, input_size // getattr(backbone, "stride", 32))


def _gap(backbone, num_points: int, input_size: int) -> nn.Module:
    return GAPHead(backbone.channels[-1], num_points)


def _pip(backbone, num_points: int, input_size: int) -> nn.Module:
    return PIPHead(backbone.channels, num_points, use_stride16=True)


def _pip32(backbone, num_points: int, input_size: int) -> nn.Module:
    return PIPHead(backbone.channels, num_points, use_stride16=False)


def _pipneck(backbone, num_points: int, input_size: int) -> nn.Module:
    return PIPHead(backbone.channels, num_points, use_stride16=False, neck=256)


HEADS: dict[str, Callable[..., nn.Module]] = {
    "flatten": _flatten,
    "gap": _gap,
    "pip": _pip,
    "pip32": _pip32,
    "pipneck": _pipneck,
}


@dataclass
class ModelSpec:
    backbone: str = "efficientnet_lite0"
    head: str = "pip"
    num_points: int = 98
    input_size: int = 256

    def as_dict(self) -> dict:
        return asdict(self)


def build_model(spec: ModelSpec, pretrained: bool = False) -> LandmarkModel:
    if spec.backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {spec.backbone!r}; choose from {sorted(BACKBONES)}")
    if spec.head not in HEADS:
        raise ValueError(f"unknown head {spec.head!r}; choose from {sorted(HEADS)}")
    backbone = BACKBONES[spec.backbone](pretrained=pretrained)
    stride = getattr(backbone, "stride", 32)
    if spec.input_size % stride:
        raise ValueError(f"input size {spec.input_size} must be a multiple of {stride} for {spec.backbone}")
    return LandmarkModel(backbone, HEADS[spec.head](backbone, spec.num_points, spec.input_size))


def parse_model_name(name: str) -> ModelSpec:
    """'efficientnet_lite0-pip' -> ModelSpec(backbone, head); a bare backbone means the pip head."""
    backbone, _, head = name.partition("-")
    return ModelSpec(backbone=backbone, head=head or "pip")
